"""The schedule API: series, sessions, moves and cancellations, exactly as CONTRACT.md."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.sessions.models import MajlisSession, Series
from tests import factories

WEEKLY = {"kind": "weekly", "title_ar": "المجلس الأسبوعي", "title_en": "Weekly majlis", "rrule": "FREQ=WEEKLY;BYDAY=TU",
          "first_start": "2026-01-06T19:00", "duration_minutes": 90, "capacity": 100, "visibility": "public"}
SESSION_KEYS = {"id", "series_id", "kind", "title_ar", "title_en", "starts_at", "ends_at", "status", "capacity",
                "confirmed_count", "waitlist_count", "registration_opens_at", "registration_closes_at"}


@pytest.fixture
def staff(make_user, api_token):
    return api_token(make_user(role=Role.STAFF))


@pytest.fixture
def resident(make_user, api_token):
    return api_token(make_user())


def count(db, model):
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def test_staff_create_a_series_and_its_occurrences_appear(client, db, staff):
    response = client.post("/api/v1/series", json=WEEKLY, headers=staff)
    assert response.status_code == 201
    series = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/series/{series['id']}")
    assert series["rrule"] == "FREQ=WEEKLY;BYDAY=TU" and series["timezone"] == "Asia/Bahrain"
    sessions = client.get(f"/api/v1/sessions?series={series['id']}", headers=staff).get_json()["sessions"]
    assert len(sessions) == 26  # the rolling horizon: 26 weeks
    first = sessions[0]
    assert SESSION_KEYS <= set(first)
    starts = datetime.fromisoformat(first["starts_at"])
    assert starts.utcoffset() is not None
    local = starts.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Bahrain"))
    assert (local.weekday(), local.hour, local.minute) == (1, 19, 0)  # Tuesday 19:00
    assert datetime.fromisoformat(first["ends_at"]) - starts == timedelta(minutes=90)
    assert datetime.fromisoformat(first["registration_opens_at"]) == starts - timedelta(days=7)


@pytest.mark.parametrize("changes, field", [
    ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=XY"}, "rrule"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -3}, "capacity"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": -30}, "duration_minutes"),
    ({"kind": "monthly"}, "kind"),
    ({"visibility": "secret"}, "visibility"),
    ({"first_start": "next tuesday"}, "first_start"),
    ({"title_ar": ""}, "title_ar"),
    ({"capacity": "many"}, "capacity"),
])
def test_invalid_series_is_400_with_the_field_named_and_creates_nothing(client, db, staff, changes, field):
    response = client.post("/api/v1/series", json={**WEEKLY, **changes}, headers=staff)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert count(db, Series) == 0 and count(db, MajlisSession) == 0


def test_series_routes_need_staff(client, resident):
    assert client.post("/api/v1/series", json=WEEKLY, headers=resident).status_code == 403
    assert client.post("/api/v1/series", json=WEEKLY).status_code == 401
    assert client.post("/api/v1/sessions", json={}, headers=resident).status_code == 403
    assert client.patch("/api/v1/sessions/1", json={}, headers=resident).status_code == 403
    assert client.post("/api/v1/sessions/1/cancel", json={}, headers=resident).status_code == 403


def test_residents_do_not_see_invited_series_or_sessions(client, staff, resident):
    client.post("/api/v1/series", json=WEEKLY, headers=staff)
    invited = client.post("/api/v1/series", json={**WEEKLY, "kind": "coordinating", "visibility": "invited",
                                                   "rrule": "FREQ=MONTHLY;BYDAY=1WE",
                                                   "first_start": "2026-01-07T10:00"}, headers=staff).get_json()
    assert {s["kind"] for s in client.get("/api/v1/series", headers=resident).get_json()["series"]} == {"weekly"}
    assert client.get(f"/api/v1/series/{invited['id']}", headers=resident).status_code == 404
    hidden = client.get(f"/api/v1/sessions?series={invited['id']}", headers=staff).get_json()["sessions"][0]
    assert client.get(f"/api/v1/sessions/{hidden['id']}", headers=resident).status_code == 404
    assert client.get(f"/api/v1/sessions/{hidden['id']}", headers=staff).status_code == 200
    assert all(s["kind"] == "weekly" for s in client.get("/api/v1/sessions", headers=resident).get_json()["sessions"])


def test_sessions_filter_by_local_dates(client, staff):
    client.post("/api/v1/series", json=WEEKLY, headers=staff)
    all_sessions = client.get("/api/v1/sessions", headers=staff).get_json()["sessions"]
    first_day = datetime.fromisoformat(all_sessions[2]["starts_at"]).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Bahrain")).date()
    same_day = client.get(f"/api/v1/sessions?from={first_day}&to={first_day}", headers=staff).get_json()["sessions"]
    assert [s["id"] for s in same_day] == [all_sessions[2]["id"]]
    bad = client.get("/api/v1/sessions?from=2026-02-30", headers=staff)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"
    backwards = client.get("/api/v1/sessions?from=2026-03-01&to=2026-02-01", headers=staff)
    assert backwards.status_code == 400 and backwards.get_json()["error"]["field"] == "to"


def test_one_off_session(client, staff, db):
    response = client.post("/api/v1/sessions", json={
        "title_ar": "مجلس خاص", "title_en": "Special majlis", "starts_at": "2027-03-15T17:30:00+03:00",
        "duration_minutes": 60, "capacity": 30, "visibility": "public"}, headers=staff)
    assert response.status_code == 201
    body = response.get_json()
    assert body["series_id"] is None and body["kind"] == "special" and body["status"] == "scheduled"
    assert datetime.fromisoformat(body["starts_at"]) == datetime(2027, 3, 15, 14, 30, tzinfo=UTC)
    assert client.get(response.headers["Location"], headers=staff).get_json() == body


@pytest.mark.parametrize("changes, field", [
    ({"starts_at": "soon"}, "starts_at"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"capacity": 0}, "capacity"),
    ({"registration_opens_at": "2027-03-16T00:00+03:00"}, "registration_closes_at"),
])
def test_invalid_one_off_is_400(client, staff, db, changes, field):
    data = {"title_ar": "مجلس خاص", "title_en": "Special", "starts_at": "2027-03-15T17:30:00+03:00",
            "duration_minutes": 60, "capacity": 30, **changes}
    response = client.post("/api/v1/sessions", json=data, headers=staff)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert count(db, MajlisSession) == 0


@pytest.fixture
def one_session(db):
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=3))


def test_move_a_session(client, staff, db, one_session):
    new_start = one_session.starts_at + timedelta(days=1, hours=1)
    response = client.patch(f"/api/v1/sessions/{one_session.id}", json={"starts_at": new_start.isoformat()},
                            headers=staff)
    assert response.status_code == 200
    body = response.get_json()
    assert datetime.fromisoformat(body["starts_at"]) == new_start
    assert datetime.fromisoformat(body["ends_at"]) == new_start + timedelta(minutes=90)  # length kept
    db.refresh(one_session)
    assert one_session.sequence == 1


def test_correct_past_times_as_the_meeting_ran(client, staff, db):
    """Recording the real times of a session that has run (moving one that has not begun into the past is refused:
    tests/sessions/test_planning_pages.py)."""
    with unit_of_work(db):
        held = factories.majlis_session(db, starts_at=datetime.now(UTC) - timedelta(days=3))
    ran_from = held.starts_at + timedelta(minutes=5)
    response = client.patch(f"/api/v1/sessions/{held.id}", json={
        "starts_at": ran_from.isoformat(), "ends_at": (ran_from + timedelta(minutes=110)).isoformat(),
        "registration_opens_at": (ran_from - timedelta(days=7)).isoformat(),
        "registration_closes_at": (ran_from - timedelta(hours=1)).isoformat()},
        headers=staff)
    assert response.status_code == 200
    assert datetime.fromisoformat(response.get_json()["ends_at"]) == ran_from + timedelta(minutes=110)


@pytest.mark.parametrize("changes, field", [
    ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -1}, "capacity"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"title_en": "New"}, "title_en"),
])
def test_invalid_patch_is_400_and_changes_nothing(client, staff, db, one_session, changes, field):
    before = client.get(f"/api/v1/sessions/{one_session.id}", headers=staff).get_json()
    response = client.patch(f"/api/v1/sessions/{one_session.id}", json=changes, headers=staff)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert client.get(f"/api/v1/sessions/{one_session.id}", headers=staff).get_json() == before


def test_cancel_a_session_with_a_reason(client, staff, db, one_session):
    missing = client.post(f"/api/v1/sessions/{one_session.id}/cancel", json={}, headers=staff)
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "reason"
    response = client.post(f"/api/v1/sessions/{one_session.id}/cancel", json={"reason": "عطلة رسمية"}, headers=staff)
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancel_reason"] == "عطلة رسمية"
    again = client.post(f"/api/v1/sessions/{one_session.id}/cancel", json={"reason": "مرة أخرى"}, headers=staff)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "session_cancelled"
    page = client.get(f"/sessions/{one_session.id}").get_data(as_text=True)
    assert "عطلة رسمية" in page


def test_unknown_session_is_404(client, staff):
    assert client.get("/api/v1/sessions/424242", headers=staff).status_code == 404
    assert client.patch("/api/v1/sessions/424242", json={"capacity": 3}, headers=staff).status_code == 404


def test_the_home_page_shows_hijri_with_the_configured_adjustment(app, client, db, one_session):
    plain = client.get("/").get_data(as_text=True)
    app.config["MAJLIS_HIJRI_ADJUST_DAYS"] = 1
    adjusted = client.get("/").get_data(as_text=True)
    import re

    pattern = re.compile(r'class="hijri">(\d+) ')
    assert int(pattern.search(adjusted).group(1)) != int(pattern.search(plain).group(1))


def test_session_list_is_cacheable_and_never_stale(client, staff, one_session):
    first = client.get("/api/v1/sessions", headers=staff)
    etag = first.headers["ETag"]
    assert client.get("/api/v1/sessions", headers={**staff, "If-None-Match": etag}).status_code == 304
    client.patch(f"/api/v1/sessions/{one_session.id}", json={"capacity": 77}, headers=staff)
    changed = client.get("/api/v1/sessions", headers={**staff, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["sessions"][0]["capacity"] == 77


def test_public_reads_answer_without_a_token_and_show_only_public_things(client, db):
    from majlis.enums import QuestionStatus, Visibility
    from majlis.questions.models import Question

    with unit_of_work(db):
        author = factories.user(db)
        public = factories.majlis_session(db, title_en="Open majlis")
        factories.majlis_session(db, title_en="Closed meeting", visibility=Visibility.INVITED)
        now = datetime.now(UTC)
        for body, status in (("approved one?", QuestionStatus.APPROVED), ("pending one?", QuestionStatus.PENDING)):
            db.add(Question(session_id=public.id, author_id=author.id, body=body, status=status,
                                    created_at=now, updated_at=now))
        public_id = public.id

    listed = client.get("/api/v1/sessions")
    assert listed.status_code == 200
    assert [s["title_en"] for s in listed.get_json()["sessions"]] == ["Open majlis"]
    assert client.get(f"/api/v1/sessions/{public_id}").get_json()["title_en"] == "Open majlis"
    questions = client.get(f"/api/v1/sessions/{public_id}/questions").get_json()["questions"]
    assert [q["body"] for q in questions] == ["approved one?"]
    assert client.get("/api/v1/archive").status_code == 200
    # A bad token is still refused: only the absence of one reads as the public.
    assert client.get("/api/v1/sessions", headers={"Authorization": "Bearer nope"}).status_code == 401
