"""Minutes: compiled once after the session, edited, approved (locked), published, revised, searched."""

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from majlis.db import unit_of_work
from majlis.enums import MinutesStatus, QuestionStatus, RegistrationStatus, Role, SessionStatus
from majlis.minutes import services
from majlis.minutes.models import Minutes, MinutesRevision, SessionNote
from majlis.questions.models import Question
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from scheduler.runner import run_due
from tests import factories
from tests.conftest import form_post

BAHRAIN = ZoneInfo("Asia/Bahrain")
START = datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
END = START + timedelta(minutes=90)


@pytest.fixture
def held(db, make_user, make_body):
    """A session that took place: registrants (one attended), answered, rejected and merged questions, a case."""
    body = make_body(name_ar="وزارة الأشغال", name_en="Ministry of Works")
    moderator = make_user(role=Role.MODERATOR)
    with unit_of_work(db):
        row = factories.majlis_session(db, starts_at=START, title_ar="المجلس الأسبوعي", title_en="Weekly majlis")
        people = [factories.user(db) for _ in range(3)]
        for index, person in enumerate(people):
            db.add(Registration(session_id=row.id, user_id=person.id, status=RegistrationStatus.CONFIRMED,
                                queued_at=START, attended_at=START if index == 0 else None, created_at=START,
                                updated_at=START))
        answered = Question(session_id=row.id, author_id=people[0].id, body="متى يُصلح طريق سترة؟",
                            status=QuestionStatus.ANSWERED, answer_note="خلال شهر", answered_at=START,
                            created_at=START, updated_at=START)
        db.add_all([answered,
                    Question(session_id=row.id, author_id=people[1].id, body="مرفوض", status=QuestionStatus.REJECTED,
                             created_at=START, updated_at=START),
                    Question(session_id=row.id, author_id=people[2].id, body="مكرر", status=QuestionStatus.MERGED,
                             created_at=START, updated_at=START)])
        db.flush()
        from majlis.followups.models import Case

        db.add(Case(question_id=answered.id, session_id=row.id, resident_id=people[0].id, body_id=body.id,
                    due_on=datetime(2027, 2, 4).date(), opened_by_id=moderator.id, opened_at=START,
                    created_at=START, updated_at=START))
        db.add(SessionNote(session_id=row.id, body="وعد المحافظ بمتابعة ملف الطرق.", created_at=START,
                           updated_at=START))
    return row


def minutes_rows(db):
    db.rollback()
    return db.scalars(select(Minutes)).all()


def test_the_draft_is_compiled_once_after_the_end(app, db, held):
    assert run_due(app, now=END - timedelta(minutes=1))["sweep"] >= 1  # goes live
    db.expire_all()
    assert db.get(MajlisSession, held.id).status == SessionStatus.LIVE
    assert minutes_rows(db) == []
    run_due(app, now=END + timedelta(seconds=20))
    run_due(app, now=END + timedelta(seconds=50))  # twice: one effect
    [minutes] = minutes_rows(db)
    assert minutes.status == MinutesStatus.DRAFT and minutes.compile_lag_seconds == 20
    body = minutes.body
    for expected in ("المجلس الأسبوعي", "1448", "3", "1", "2", "متى يُصلح طريق سترة؟", "خلال شهر",
                     "وزارة الأشغال", "2027-02-04", "وعد المحافظ بمتابعة ملف الطرق."):
        assert expected in body, expected


def test_a_scheduler_down_for_an_hour_catches_up(app, db, held):
    run_due(app, now=END + timedelta(hours=1))
    db.expire_all()
    assert db.get(MajlisSession, held.id).status == SessionStatus.ENDED
    assert len(minutes_rows(db)) == 1


def test_a_crash_mid_compile_leaves_nothing_and_the_next_run_finishes(app, db, held, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(services, "compose_draft", crash)
    run_due(app, now=END + timedelta(seconds=5))
    assert minutes_rows(db) == []
    db.expire_all()
    assert db.get(MajlisSession, held.id).status == SessionStatus.ENDED  # the end itself was recorded
    monkeypatch.undo()
    run_due(app, now=END + timedelta(seconds=40))
    assert len(minutes_rows(db)) == 1


@pytest.fixture
def staff_headers(make_user, api_token):
    return api_token(make_user(role=Role.STAFF))


def test_edit_approve_publish_revise_through_the_api(app, client, db, held, staff_headers, make_user, api_token):
    run_due(app, now=END + timedelta(seconds=5))
    base = f"/api/v1/sessions/{held.id}/minutes"
    resident = api_token(make_user())
    assert client.get(base, headers=resident).status_code == 404  # drafts are staff-only
    draft = client.get(base, headers=staff_headers).get_json()
    assert draft["status"] == "draft" and draft["revision"] is None
    edited = client.put(base, json={"body": draft["body"] + "\nتعديل"}, headers=staff_headers).get_json()
    assert edited["body"].endswith("تعديل\n") or edited["body"].endswith("تعديل")
    assert client.post(base + "/approve", headers=staff_headers).get_json()["status"] == "approved"
    locked = client.put(base, json={"body": "نص آخر"}, headers=staff_headers)
    assert locked.status_code == 409 and locked.get_json()["error"]["code"] == "minutes_locked"
    published = client.post(base + "/publish", headers=staff_headers).get_json()
    assert published["status"] == "published" and published["revision"] == 1 and published["published_at"]
    public = client.get(base, headers=resident).get_json()
    assert public["sha256"] == hashlib.sha256(public["body"].encode("utf-8")).hexdigest()
    assert client.put(base, json={"body": "تغيير صامت"}, headers=staff_headers).status_code == 409
    revised = client.post(base + "/revisions", json={"body": public["body"] + "\nتصحيح", "reason": "خطأ مطبعي"},
                          headers=staff_headers)
    assert revised.status_code == 201 and revised.get_json()["revision"] == 2
    first = client.get(base + "?revision=1", headers=resident).get_json()
    assert first["body"] == public["body"] and first["sha256"] == public["sha256"]
    latest = client.get(base, headers=resident).get_json()
    assert latest["revision"] == 2 and latest["reason"] == "خطأ مطبعي"
    assert client.get(base + "?revision=7", headers=resident).status_code == 404
    db.rollback()
    assert db.scalar(select(func.count()).select_from(MinutesRevision)) == 2


@pytest.mark.parametrize("step, payload, status, code", [
    ("publish", None, 409, "illegal_transition"),  # a draft is not published directly
    ("revisions", {"body": "x", "reason": "سبب"}, 409, "illegal_transition"),
])
def test_out_of_order_steps_are_409(app, client, held, staff_headers, step, payload, status, code):
    run_due(app, now=END + timedelta(seconds=5))
    response = client.post(f"/api/v1/sessions/{held.id}/minutes/{step}", json=payload or {}, headers=staff_headers)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_a_correction_needs_a_reason(app, client, held, staff_headers):
    run_due(app, now=END + timedelta(seconds=5))
    base = f"/api/v1/sessions/{held.id}/minutes"
    client.post(base + "/approve", headers=staff_headers)
    client.post(base + "/publish", headers=staff_headers)
    response = client.post(base + "/revisions", json={"body": "نص"}, headers=staff_headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "reason"


def test_residents_cannot_edit(app, client, held, make_user, api_token):
    run_due(app, now=END + timedelta(seconds=5))
    response = client.put(f"/api/v1/sessions/{held.id}/minutes", json={"body": "x"}, headers=api_token(make_user()))
    assert response.status_code == 403


def test_archive_search_in_arabic_spellings_and_english(app, client, db, held, staff_headers, make_user, api_token):
    run_due(app, now=END + timedelta(seconds=5))
    base = f"/api/v1/sessions/{held.id}/minutes"
    client.post(base + "/approve", headers=staff_headers)
    client.post(base + "/publish", headers=staff_headers)
    viewer = api_token(make_user())
    for query in ("طريق سترة", "طريق ستره", "الطريق", "Weekly"):
        results = client.get(f"/api/v1/archive?q={query}", headers=viewer).get_json()["results"]
        assert [r["session_id"] for r in results] == [held.id], query
        assert set(results[0]) >= {"session_id", "title", "starts_at", "snippet"}
    assert client.get("/api/v1/archive?q=مستشفى", headers=viewer).get_json()["results"] == []
    page = client.get("/archive?q=طريق ستره").get_data(as_text=True)
    assert f"/sessions/{held.id}/minutes" in page


def test_pages_edit_publish_and_read(app, client, db, held, make_user, login_as):
    run_due(app, now=END + timedelta(seconds=5))
    login_as(make_user(role=Role.STAFF))
    editor = f"/staff/sessions/{held.id}/minutes"
    assert client.get(editor).status_code == 200
    client.get(editor + "?lang=en")  # the messages below are said in English
    form_post(client, editor, {"action": "save", "body": "محضر الجلسة\nنص"})
    assert "The draft is saved." in client.get(editor).get_data(as_text=True)
    form_post(client, editor, {"action": "approve"})
    page = client.get(editor).get_data(as_text=True)
    assert "The minutes are approved: the text is locked" in page
    assert 'name="confirm"' in page  # publishing asks first
    form_post(client, editor, {"action": "publish"})  # without the box ticked: refused, nothing published
    assert "Tick the box to confirm" in client.get(editor).get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Minutes.status)) == MinutesStatus.APPROVED
    form_post(client, editor, {"action": "publish", "confirm": "1"})
    assert "The minutes are published" in client.get(editor).get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Minutes.status)) == MinutesStatus.PUBLISHED
    anonymous = app.test_client()
    page = anonymous.get(f"/sessions/{held.id}/minutes")
    assert page.status_code == 200 and "محضر الجلسة" in page.get_data(as_text=True)
    assert hashlib.sha256("محضر الجلسة\nنص".encode()).hexdigest() in page.get_data(as_text=True)
    download = anonymous.get(f"/sessions/{held.id}/minutes.md")
    assert download.data.decode("utf-8") == "محضر الجلسة\nنص"
    assert anonymous.get(f"/sessions/{held.id}/minutes.json").get_json()["revision"] == 1


def test_the_editor_saves_minutes_of_the_longest_allowed_length(app, client, db, held, make_user, login_as):
    """200,000 Arabic characters are about 1.2 MB as a URL-encoded form: the body limit (MAX_CONTENT_LENGTH) leaves
    room for them."""
    run_due(app, now=END + timedelta(seconds=5))
    login_as(make_user(role=Role.STAFF))
    body = "م" * services.MAX_BODY
    response = form_post(client, f"/staff/sessions/{held.id}/minutes", {"action": "save", "body": body})
    assert response.status_code == 302
    db.rollback()
    assert len(db.scalar(select(Minutes.body))) == services.MAX_BODY


def test_unpublished_minutes_are_hidden_from_the_public(app, client, held):
    run_due(app, now=END + timedelta(seconds=5))
    assert client.get(f"/sessions/{held.id}/minutes").status_code == 404


def test_moderators_notes_autosave(client, db, held, make_user, login_as):
    login_as(make_user(role=Role.MODERATOR))
    page = f"/sessions/{held.id}/moderate"
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(page).get_data(as_text=True))
    response = client.post(f"/sessions/{held.id}/notes", data={"body": "ملاحظة جديدة", "csrf_token": token},
                           headers={"X-Requested-With": "autosave", "Accept": "application/json"})
    assert response.status_code == 200 and "saved_at" in response.get_json()
    db.rollback()
    assert db.scalar(select(SessionNote.body)) == "ملاحظة جديدة"
    assert client.post(f"/sessions/{held.id}/notes", data={"body": "بلا رمز"}).status_code == 400


def test_published_minutes_show_their_markdown_rendered_and_sanitised(app, client, held, staff_headers):
    run_due(app, now=END + timedelta(seconds=5))
    base = f"/api/v1/sessions/{held.id}/minutes"
    body = ("# محضر الجلسة\n\n**الحضور:** 12\nالسطر الثاني\n\n- بند أول\n- بند <script>alert(1)</script>\n\n"
            "[خطر](javascript:alert(1)) [الموقع](https://capital.gov.bh)\n")
    assert client.put(base, json={"body": body}, headers=staff_headers).status_code == 200
    client.post(base + "/approve", headers=staff_headers)
    client.post(base + "/publish", headers=staff_headers)
    page = client.get(f"/sessions/{held.id}/minutes").get_data(as_text=True)
    text = page.split('class="minutes-body minutes-text" dir="auto">')[1].split("</div>")[0]
    assert "<h2>محضر الجلسة</h2>" in text and "#" not in text  # one level below the page's own title
    assert "<strong>الحضور:</strong> 12<br>" in text and "**" not in text
    assert "<li>بند أول</li>" in text
    assert "<script>" not in page.split("</header>")[1] and "&lt;script&gt;" in text  # shown as text, not run
    assert 'href="javascript' not in text and 'href="https://capital.gov.bh"' in text
    assert "Save as PDF" in client.get(f"/sessions/{held.id}/minutes?lang=en").get_data(as_text=True)
    assert client.get(f"/sessions/{held.id}/minutes.md").data.decode("utf-8") == body  # the source, unchanged
