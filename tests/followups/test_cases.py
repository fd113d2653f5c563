"""Follow-up cases: the whole chain, every access rule, overdue flags, the agenda and accountability figures."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import CaseStatus, QuestionStatus, Role
from majlis.followups import dashboard
from majlis.followups.models import Case
from majlis.notifications.models import OutboxMessage
from majlis.notifications.preferences import stop_token
from majlis.questions.models import Question
from tests import factories
from tests.conftest import form_post

BAHRAIN = ZoneInfo("Asia/Bahrain")
NOW = datetime.now(UTC)


@pytest.fixture
def world(db, make_user, make_body, api_token):
    """A question asked in a session, a moderator, two bodies with an official each, and outsiders."""
    works, health = make_body(code="works", sla_days=30), make_body(code="health", sla_days=14)
    people = {
        "resident": make_user(name="Fatima"),
        "other_resident": make_user(),
        "official": make_user(role=Role.OFFICIAL, body=works),
        "other_official": make_user(role=Role.OFFICIAL, body=health),
        "moderator": make_user(role=Role.MODERATOR),
        "staff": make_user(role=Role.STAFF),
    }
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=NOW - timedelta(minutes=30))
        question = Question(session_id=majlis_session.id, author_id=people["resident"].id,
                            body="متى سيتم إصلاح الطريق؟", status=QuestionStatus.ANSWERED, created_at=NOW,
                            updated_at=NOW)
        db.add(question)
    headers = {name: api_token(user) for name, user in people.items()}
    return {"people": people, "headers": headers, "question": question, "works": works, "health": health,
            "session": majlis_session}


def open_case(client, world, **data):
    payload = {"body_id": world["works"].id, **data}
    return client.post(f"/api/v1/questions/{world['question'].id}/case", json=payload,
                       headers=world["headers"]["moderator"])


def update(client, world, case_id, who, **data):
    return client.post(f"/api/v1/cases/{case_id}/updates", json=data, headers=world["headers"][who])


def test_the_whole_chain(client, db, world):
    opened = open_case(client, world, reference="NCS-2026-0042")
    assert opened.status_code == 201
    case = opened.get_json()
    today = datetime.now(BAHRAIN).date()
    assert case["status"] == "open" and case["due_on"] == (today + timedelta(days=30)).isoformat()
    assert case["reference_number"] == "NCS-2026-0042" and case["question"] == "متى سيتم إصلاح الطريق؟"
    cid = case["id"]
    assert update(client, world, cid, "official", text="تمت زيارة الموقع", status="in_progress").status_code == 200
    resolved = update(client, world, cid, "official", text="تم الإصلاح", status="resolved").get_json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    confirmed = update(client, world, cid, "resident", status="confirmed").get_json()
    assert confirmed["status"] == "confirmed"
    assert [u["status"] for u in confirmed["updates"]] == ["open", "in_progress", "resolved", "confirmed"]
    db.rollback()
    kinds = db.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == world["people"]["resident"].id))
    # One per update by someone else (the resolution too: "was it fixed?" follows days later, tests/followups/
    # test_feedback.py).
    assert list(kinds) == ["case_opened", "case_update", "case_update"]
    assert db.scalar(select(OutboxMessage.kind).where(OutboxMessage.user_id == world["people"]["official"].id)) \
        == "case_assigned"


def test_case_notices_are_written_as_ids_and_rendered_at_delivery(app, client, db, world):
    from majlis.auth.models import User
    from tests.mailbox import Recorder, deliver

    people = world["people"]
    with unit_of_work(db):
        db.get(User, people["resident"].id).locale = "en"
    case = open_case(client, world).get_json()
    cid = case["id"]
    update(client, world, cid, "official", text="تمت زيارة الموقع", status="in_progress")
    update(client, world, cid, "official", text="من اختصاص وزارة الصحة", to_body=world["health"].id)
    db.rollback()
    written = db.execute(select(OutboxMessage.kind, OutboxMessage.user_id, OutboxMessage.params,
                                OutboxMessage.body_text).order_by(OutboxMessage.id)).all()
    updates = client.get(f"/api/v1/cases/{cid}", headers=world["headers"]["moderator"]).get_json()["updates"]
    first_update, hand_over = (u["id"] for u in updates[1:])
    assert written == [
        ("case_opened", people["resident"].id, {"case_id": cid, "body_id": world["works"].id}, None),
        ("case_assigned", people["official"].id, {"case_id": cid}, None),
        ("case_update", people["resident"].id, {"case_id": cid, "update_id": first_update}, None),
        ("case_update", people["resident"].id, {"case_id": cid, "update_id": hand_over}, None),
        ("case_assigned", people["other_official"].id, {"case_id": cid, "update_id": hand_over}, None),
    ]
    recorder = Recorder()
    assert deliver(app, db, now=datetime.now(UTC), senders={"email": recorder}) == 5
    link = f"http://127.0.0.1:5000/cases/{cid}"
    stop = f"http://127.0.0.1:5000/stop/{stop_token(app.config['SECRET_KEY'], people['resident'].id, 'case_updated')}"
    opened, first, second = [m for to, m in recorder.sent if to == people["resident"].email]
    due = format_date(date.fromisoformat(case["due_on"]), "full", locale="en")
    assert opened.subject == "Your request is now a follow-up case"
    assert opened.text.startswith(f"Your question became case number {cid} with {world['works'].name_en}, due by "
                                  f"{due} (")  # and the same day in the Hijri calendar
    assert [(m.subject, m.text.split("\n")[:3]) for m in (first, second)] == [
        (f"News about your case number {cid}", ["There is news about your case:", "", "تمت زيارة الموقع"]),
        (f"News about your case number {cid}", ["There is news about your case:", "", "من اختصاص وزارة الصحة"]),
    ]
    for message in (opened, first, second):  # when (both calendars, the time), where, and how to stop these
        assert re.search(r"\nDate: \w+day, .+ \(\d+ .+ 14\d\d AH\)\nTime: \d+:\d\d\u202f[AP]M \(Bahrain Time\)\n",
                         message.text)
        assert message.text.endswith(f"Follow the case here: {link}\n\n-- \nTo stop messages of this kind: {stop}\n")
    [(_, handed)] = [(to, m) for to, m in recorder.sent if to == people["other_official"].email]
    assert handed.subject == "أُحيل ملف متابعة إلى جهتكم" and handed.text == f"من اختصاص وزارة الصحة\n\n{link}\n"


@pytest.mark.parametrize("who, status", [
    ("resident", 200), ("official", 200), ("moderator", 200), ("staff", 200),
    ("other_resident", 404), ("other_official", 404),
])
def test_who_sees_a_case(client, world, who, status):
    cid = open_case(client, world).get_json()["id"]
    assert client.get(f"/api/v1/cases/{cid}", headers=world["headers"][who]).status_code == status


def test_anonymous_visitors_see_no_case(client, world):
    cid = open_case(client, world).get_json()["id"]
    assert client.get(f"/api/v1/cases/{cid}").status_code == 401
    assert client.get(f"/cases/{cid}").status_code == 302  # to the sign-in page


def test_case_pages_follow_the_same_rules(app, client, world, login_as):
    cid = open_case(client, world).get_json()["id"]
    for who, status in (("resident", 200), ("official", 200), ("other_resident", 404), ("other_official", 404)):
        visitor = app.test_client()
        form_post(visitor, "/login", {"email": world["people"][who].email, "password": factories.PASSWORD})
        assert visitor.get(f"/cases/{cid}").status_code == status, who


def test_only_the_office_opens_cases(client, world):
    for who in ("resident", "official"):
        response = client.post(f"/api/v1/questions/{world['question'].id}/case",
                               json={"body_id": world["works"].id}, headers=world["headers"][who])
        assert response.status_code == 403


@pytest.mark.parametrize("data, status, key", [
    ({"body_id": 999999}, 400, "body_id"),
    ({"body_id": "x"}, 400, "body_id"),
    ({"due_on": "2020-01-01"}, 400, "due_on"),
    ({"due_on": "soon"}, 400, "due_on"),
    ({"reference": "x" * 65}, 400, "reference"),
])
def test_bad_case_input(client, db, world, data, status, key):
    response = open_case(client, world, **data)
    assert response.status_code == status and response.get_json()["error"]["field"] == key
    db.rollback()
    assert db.scalar(select(Case)) is None


def test_a_question_becomes_one_case_and_never_when_rejected(client, db, world):
    assert open_case(client, world).status_code == 201
    again = open_case(client, world)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "case_exists"
    with unit_of_work(db):
        rejected = Question(session_id=world["session"].id, author_id=world["people"]["resident"].id, body="مرفوض",
                            status=QuestionStatus.REJECTED, created_at=NOW, updated_at=NOW)
        db.add(rejected)
    response = client.post(f"/api/v1/questions/{rejected.id}/case", json={"body_id": world["works"].id},
                           headers=world["headers"]["moderator"])
    assert response.status_code == 409


def test_other_bodies_and_residents_cannot_update(client, world):
    cid = open_case(client, world).get_json()["id"]
    assert update(client, world, cid, "other_official", text="ليس لنا").status_code == 404
    assert update(client, world, cid, "other_resident", text="تعليق").status_code == 404
    wrong = update(client, world, cid, "resident", text="تم؟", status="resolved")
    assert wrong.status_code == 409


def test_declining_needs_a_reason_and_updates_need_text(client, world):
    cid = open_case(client, world).get_json()["id"]
    assert update(client, world, cid, "official", status="in_progress").status_code == 400
    declined = update(client, world, cid, "official", text="خارج اختصاص الوزارة", status="declined").get_json()
    assert declined["status"] == "declined" and declined["declined_reason"] == "خارج اختصاص الوزارة"
    illegal = update(client, world, cid, "official", text="إعادة", status="in_progress")
    assert illegal.status_code == 409


def test_hand_over_to_another_body(client, world):
    cid = open_case(client, world).get_json()["id"]
    handed = update(client, world, cid, "official", text="من اختصاص وزارة الصحة", to_body=world["health"].id)
    assert handed.status_code == 200 and handed.get_json()["body"]["id"] == world["health"].id
    assert client.get(f"/api/v1/cases/{cid}", headers=world["headers"]["official"]).status_code == 404
    assert client.get(f"/api/v1/cases/{cid}", headers=world["headers"]["other_official"]).status_code == 200


def test_the_resident_reopens_once_within_14_days(client, db, world):
    cid = open_case(client, world).get_json()["id"]
    update(client, world, cid, "official", text="تم", status="resolved")
    reopened = update(client, world, cid, "resident", text="لم يُصلح بعد", status="reopened")
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "in_progress"
    update(client, world, cid, "official", text="تم فعلًا", status="resolved")
    twice = update(client, world, cid, "resident", status="reopened")
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "reopen_used"


def test_reopening_after_14_days_is_refused(client, db, world):
    cid = open_case(client, world).get_json()["id"]
    update(client, world, cid, "official", text="تم", status="resolved")
    with unit_of_work(db):
        db.get(Case, cid).resolved_at = NOW - timedelta(days=15)
    late = update(client, world, cid, "resident", status="reopened")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "reopen_expired"


def test_overdue_cases_are_flagged_once_and_proposed_for_the_agenda(app, client, db, world, login_as):
    from scheduler.runner import run_due

    cid = open_case(client, world, due_on=datetime.now(BAHRAIN).date().isoformat()).get_json()["id"]
    later = NOW + timedelta(days=2)
    run_due(app, now=later)
    run_due(app, now=later)
    db.expire_all()
    assert db.get(Case, cid).overdue_flagged_at is not None
    notices = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case_overdue")).all()
    assert [n.user_id for n in notices] == [world["people"]["official"].id]
    assert client.get(f"/api/v1/cases/{cid}", headers=world["headers"]["official"]).get_json()["overdue"] is False
    login_as(world["people"]["staff"])
    agenda = client.get("/staff/agenda")  # "today" is today: nothing is overdue yet
    assert agenda.status_code == 200
    with unit_of_work(db):
        db.get(Case, cid).due_on = datetime.now(BAHRAIN).date() - timedelta(days=3)
    agenda = client.get("/staff/agenda?lang=en").get_data(as_text=True)
    assert f"Case number {cid}" in agenda, agenda[agenda.find("<main"):agenda.find("</main>")]
    assert world["works"].name_en in agenda


def test_console_opens_a_case_for_an_answered_question(client, db, world, login_as):
    login_as(world["people"]["moderator"])
    page = f"/sessions/{world['session'].id}/moderate"
    assert "Open a case" in client.get(page + "?lang=en").get_data(as_text=True)
    response = form_post(client, f"/questions/{world['question'].id}/case", {"body_id": str(world["works"].id)},
                         page=page)
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(Case.body_id)) == world["works"].id


def test_resident_follows_and_confirms_on_the_case_page(client, db, world, login_as):
    cid = open_case(client, world).get_json()["id"]
    update(client, world, cid, "official", text="تم الإصلاح", status="resolved")
    login_as(world["people"]["resident"])
    listing = client.get("/cases?lang=en").get_data(as_text=True)
    assert f"Case number {cid}" in listing
    page = client.get(f"/cases/{cid}?lang=en").get_data(as_text=True)
    assert "تم الإصلاح" in page and "Was it fixed?" in page
    form_post(client, f"/cases/{cid}/feedback", {"outcome": "fixed"}, page=f"/cases/{cid}")
    db.expire_all()
    assert db.get(Case, cid).status == CaseStatus.CONFIRMED


def test_accountability_figures_match_hand_computed_values(app, db, make_body, make_user):
    """Six cases for two bodies over March 2027; figures for 1–31 March, computed as of 2 April."""
    works, health = make_body(name_en="Works"), make_body(name_en="Health")
    resident = make_user()
    moderator = make_user(role=Role.MODERATOR)
    t = lambda day, hour=9: datetime(2027, 3, day, hour, 0, tzinfo=UTC)  # noqa: E731
    cases = [
        # body, opened, due, resolved_at, status
        (works, t(1), date(2027, 3, 10), t(5), CaseStatus.RESOLVED),  # 4 days
        (works, t(2), date(2027, 3, 20), t(12), CaseStatus.CONFIRMED),  # 10 days
        (works, t(3), date(2027, 3, 15), None, CaseStatus.IN_PROGRESS),  # open, overdue
        (works, datetime(2027, 2, 20, tzinfo=UTC), date(2027, 4, 30), None, CaseStatus.OPEN),  # opened before
        (health, t(10), date(2027, 3, 24), t(17), CaseStatus.RESOLVED),  # 7 days
        (health, t(11), date(2027, 3, 25), t(12), CaseStatus.DECLINED),  # closed, not resolved
    ]
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=datetime(2027, 2, 1, tzinfo=UTC))
        for body, opened, due, resolved_at, status in cases:
            question = Question(session_id=majlis_session.id, author_id=resident.id, body="سؤال",
                                status=QuestionStatus.ANSWERED, created_at=opened, updated_at=opened)
            db.add(question)
            db.flush()
            db.add(Case(question_id=question.id, session_id=majlis_session.id, resident_id=resident.id,
                        body_id=body.id, status=status, due_on=due, opened_by_id=moderator.id, opened_at=opened,
                        resolved_at=resolved_at, description=question.body, assigned_at=opened, created_at=opened,
                        updated_at=opened))
    result = dashboard.dashboard(db, start=date(2027, 3, 1), end=date(2027, 3, 31), group_by="body",
                                 now=datetime(2027, 4, 2, tzinfo=UTC), zone=BAHRAIN)
    figures = {row.name_en: row for row in result.groups}
    w, h = figures["Works"], figures["Health"]
    # A declined case is closed (on time here): the body answered, if not as the resident hoped.
    assert (w.opened, w.open, w.overdue, w.closed_on_time, w.closed_late, w.median_days_to_close) == (
        3, 2, 1, 2, 0, 7.0)
    assert (h.opened, h.open, h.overdue, h.closed_on_time, h.closed_late, h.median_days_to_close) == (
        2, 0, 0, 2, 0, 4.0)


def test_accountability_page_is_public_and_has_no_personal_data(client, world):
    open_case(client, world)
    page = client.get("/accountability?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Median days to close" in html and "Fatima" not in html and "متى سيتم" not in html
    bad = client.get("/accountability?from=2027-13-01")
    assert bad.status_code == 400


def test_the_moderators_console_links_a_question_to_its_case(client, world, login_as):
    """The console shows the case a question became (followups tell questions through a hook)."""
    login_as(world["people"]["moderator"])
    console = f"/sessions/{world['session'].id}/moderate?lang=en"
    before = client.get(console)
    assert before.status_code == 200
    assert "Case number" not in before.get_data(as_text=True)
    case_id = open_case(client, world).get_json()["id"]
    html = client.get(console).get_data(as_text=True)
    assert f'<a href="/cases/{case_id}">Case number {case_id}</a>' in html
