"""Calendar feeds parsed back, expanded and compared with the database, instant by instant in UTC."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from majlis.calendar.models import CalendarFeed
from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role, SessionStatus, Visibility
from majlis.registration.models import Registration
from majlis.sessions import services
from majlis.sessions.models import MajlisSession
from tests.calendar.conftest import BAHRAIN, NOW, TITLE_AR
from tests.conftest import form_post

YEAR_START = NOW
YEAR_END = NOW + timedelta(days=365)


def expand(body: bytes, start=YEAR_START, end=YEAR_END) -> list[tuple[datetime, datetime]]:
    """Occurrences a calendar client shows: (start, end) in UTC, cancelled ones dropped."""
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert not component.errors, component.errors
    found = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        if str(event.get("STATUS", "")) == "CANCELLED":
            continue
        found.append((event.DTSTART.astimezone(UTC), event.DTEND.astimezone(UTC)))
    return sorted(found)


def expected(db, *, visibility=(Visibility.PUBLIC,), start=YEAR_START, end=YEAR_END):
    db.rollback()
    rows = db.scalars(select(MajlisSession).where(MajlisSession.status != SessionStatus.CANCELLED,
                                                  MajlisSession.visibility.in_(visibility)))
    return sorted((r.starts_at, r.ends_at) for r in rows if r.starts_at < end and r.ends_at > start)


def test_public_feed_shows_exactly_the_stored_sessions_over_a_year(client, db, plan):
    response = client.get("/calendar/majlis.ics")
    assert response.status_code == 200
    occurrences = expand(response.data)
    assert len(occurrences) > 50  # a year of weekly sessions
    assert occurrences == expected(db)
    starts = {start for start, _ in occurrences}
    assert datetime(2027, 1, 27, 15, 0, tzinfo=UTC) in starts  # the move: Wednesday 18:00 Bahrain
    assert datetime(2027, 1, 26, 16, 0, tzinfo=UTC) not in starts  # ... no longer on Tuesday
    assert datetime(2027, 2, 9, 16, 0, tzinfo=UTC) not in starts  # the cancellation
    assert datetime(2027, 6, 2, 17, 0, tzinfo=UTC) in starts  # after the split: Wednesdays 20:00
    assert datetime(2027, 6, 1, 16, 0, tzinfo=UTC) not in starts
    assert datetime(2027, 3, 15, 14, 30, tzinfo=UTC) in starts  # the one-off


def test_public_feed_has_one_master_per_series_with_exdate_override_and_until(client, plan):
    calendar = Calendar.from_ical(client.get("/calendar/majlis.ics").data)
    events = calendar.walk("VEVENT")
    old_uid = f"series-{plan.weekly.id}@127.0.0.1"
    new_uid = f"series-{plan.weekly_after_split.id}@127.0.0.1"
    old = [e for e in events if str(e["UID"]) == old_uid]
    masters = [e for e in old if "RECURRENCE-ID" not in e]
    overrides = [e for e in old if "RECURRENCE-ID" in e]
    assert len(masters) == 1 and len(overrides) == 1
    master = masters[0]
    assert master["RRULE"]["UNTIL"][0] == datetime(2027, 5, 31, 20, 59, 59, tzinfo=UTC)
    assert [d.dt for d in master["EXDATE"].dts] == [datetime(2027, 2, 9, 19, 0, tzinfo=BAHRAIN)]
    assert overrides[0]["RECURRENCE-ID"].dt == datetime(2027, 1, 26, 19, 0, tzinfo=BAHRAIN)
    assert any(str(e["UID"]) == new_uid for e in events)
    assert not any("coordinating" in str(e.get("SUMMARY", "")).lower() for e in events)  # invited: not public
    assert not any("series-" + str(plan.coordinating.id) in str(e["UID"]) for e in events)


def test_feed_follows_the_rules_line_by_line(client, plan):
    body = client.get("/calendar/majlis.ics").data
    text = body.decode("utf-8")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    lines = text.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")
    for line in unfolded:
        name = line.split(":", 1)[0].split(";", 1)[0]
        if name in {"DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE"}:
            if line == "DTSTART:20000101T000000":
                continue  # the VTIMEZONE observance's own start, local by definition (RFC 5545 3.6.5)
            assert ";TZID=Asia/Bahrain:" in line, line
        if name in {"DTSTAMP", "CREATED", "LAST-MODIFIED"}:
            assert line.endswith("Z"), line
        if line.startswith("RRULE:") and "UNTIL=" in line:
            assert re.search(r"UNTIL=\d{8}T\d{6}Z", line), line
    for required in ("VERSION:2.0", "PRODID:-//Capital Governorate//Majlis//AR", "CALSCALE:GREGORIAN",
                     "METHOD:PUBLISH", "REFRESH-INTERVAL;VALUE=DURATION:PT6H", "X-PUBLISHED-TTL:PT6H",
                     "BEGIN:VTIMEZONE", "TZID:Asia/Bahrain"):
        assert required in unfolded, required
    assert any(line.startswith("NAME:") for line in unfolded)
    assert any(line.startswith("X-WR-CALNAME:") for line in unfolded)
    assert unfolded.count("BEGIN:VTIMEZONE") == 1
    # Arabic text with commas and semicolons is escaped, and newlines become \n.
    escaped_title = TITLE_AR.replace(",", "\\,").replace(";", "\\;")
    assert f"SUMMARY:{escaped_title}" in unfolded
    assert any("لقاء مفتوح مع الأهالي.\\nسطر ثانٍ: الجهات\\; الحكومية\\, والأهالي" in line for line in unfolded)
    events = text.count("BEGIN:VEVENT")
    assert text.count("ORGANIZER") == events  # METHOD:PUBLISH needs an ORGANIZER on every event
    assert "VALARM" not in text and "ATTENDEE" not in text
    assert "/join" not in text  # no join links in public feeds


def test_same_data_gives_the_same_bytes_and_304(client, plan):
    first = client.get("/calendar/majlis.ics")
    second = client.get("/calendar/majlis.ics")
    assert first.data == second.data
    assert first.headers["ETag"]
    cached = client.get("/calendar/majlis.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""


def test_feed_content_type_and_accept_text_calendar(client, plan):
    response = client.get("/calendar/majlis.ics", headers={"Accept": "text/calendar"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_a_change_gives_new_bytes_and_a_higher_sequence(app, client, db, plan):
    before = client.get("/calendar/majlis.ics")
    master_sequence = _master(before.data, plan.weekly_after_split.id)["SEQUENCE"]
    with app.app_context(), unit_of_work(db):
        row = db.scalars(select(MajlisSession).where(MajlisSession.series_id == plan.weekly_after_split.id)
                         .order_by(MajlisSession.starts_at)).all()[3]
        services.cancel_session(db, row, reason="تعديل", actor=None, now=NOW)
    after = client.get("/calendar/majlis.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert _master(after.data, plan.weekly_after_split.id)["SEQUENCE"] > master_sequence
    assert expand(after.data) == expected(db)


def _master(body: bytes, series_id: int):
    calendar = Calendar.from_ical(body)
    return next(e for e in calendar.walk("VEVENT")
                if str(e["UID"]).startswith(f"series-{series_id}@") and "RECURRENCE-ID" not in e)


def test_series_feed_holds_only_that_series(client, db, plan):
    body = client.get(f"/calendar/series/{plan.weekly.id}.ics").data
    db.rollback()
    rows = db.scalars(select(MajlisSession).where(MajlisSession.series_id == plan.weekly.id,
                                                  MajlisSession.status != SessionStatus.CANCELLED)).all()
    assert expand(body) == sorted((r.starts_at, r.ends_at) for r in rows)
    assert client.get(f"/calendar/series/{plan.coordinating.id}.ics").status_code == 404  # invited
    assert client.get("/calendar/series/99999.ics").status_code == 404


def test_session_feed_and_cancelled_one_off(client, plan):
    one = Calendar.from_ical(client.get(f"/calendar/sessions/{plan.one_off.id}.ics").data)
    [event] = one.walk("VEVENT")
    assert str(event["UID"]) == f"session-{plan.one_off.id}@127.0.0.1"
    assert event.DTSTART == datetime(2027, 3, 15, 17, 30, tzinfo=BAHRAIN)
    public = Calendar.from_ical(client.get("/calendar/majlis.ics").data)
    uid = f"session-{plan.cancelled_one_off.id}@"
    cancelled = next(e for e in public.walk("VEVENT") if str(e["UID"]).startswith(uid))
    assert str(cancelled["STATUS"]) == "CANCELLED" and cancelled["SEQUENCE"] >= 1

def test_invited_session_feed_is_hidden_from_the_public(client, db, plan):
    invited = db.scalars(select(MajlisSession.id).where(MajlisSession.series_id == plan.coordinating.id)).first()
    assert client.get(f"/calendar/sessions/{invited}.ics").status_code == 404


def test_personal_feed_lists_my_sessions_with_join_links_and_dies_when_revoked(client, db, plan, make_user, login_as):
    resident = make_user()
    db.rollback()
    rows = db.scalars(select(MajlisSession).where(MajlisSession.series_id == plan.weekly_after_split.id)
                      .order_by(MajlisSession.starts_at).limit(2)).all()
    with unit_of_work(db):
        for row in rows:
            db.add(Registration(session_id=row.id, user_id=resident.id, status=RegistrationStatus.CONFIRMED,
                                queued_at=NOW, created_at=NOW, updated_at=NOW))
    login_as(resident)
    assert form_post(client, "/calendar/personal", {}, page="/account").status_code == 302
    db.rollback()
    secret = db.scalar(select(CalendarFeed.secret).where(CalendarFeed.revoked_at.is_(None)))
    page = client.get("/account").get_data(as_text=True)
    assert f"webcal://127.0.0.1:5000/calendar/feed/{secret}.ics" in page

    anonymous = client.application.test_client()
    response = anonymous.get(f"/calendar/feed/{secret}.ics")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert sorted(e.DTSTART.astimezone(UTC) for e in events) == [r.starts_at for r in rows]
    assert all(f"/sessions/{e['URL'].rsplit('/', 1)[-1]}/join" in str(e["DESCRIPTION"]) for e in events)
    assert all("CONFERENCE" in e for e in events)

    assert form_post(client, "/calendar/personal/revoke", {}, page="/account").status_code == 302
    assert anonymous.get(f"/calendar/feed/{secret}.ics").status_code == 404


def test_staff_personal_feed_includes_coordinating_sessions(app, client, db, plan, make_user):
    from majlis.calendar import services as calendar_services

    staff = make_user(role=Role.STAFF)
    with unit_of_work(db):
        feed = calendar_services.issue_feed(db, staff, now=NOW)
    body = client.get(f"/calendar/feed/{feed.secret}.ics").data
    summaries = {str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    assert "المجلس التنسيقي" in summaries


def test_unknown_feed_secret_is_404(client, plan):
    assert client.get("/calendar/feed/not-a-secret.ics").status_code == 404


def test_staff_export_over_a_range(client, db, plan, make_user, api_token):
    staff_headers = api_token(make_user(role=Role.STAFF))
    response = client.get("/api/v1/export/calendar.ics?from=2027-01-01&to=2027-03-31", headers=staff_headers)
    assert response.status_code == 200
    start, end = datetime(2027, 1, 1, tzinfo=BAHRAIN), datetime(2027, 4, 1, tzinfo=BAHRAIN)
    exported = expand(response.data, start, end)
    assert exported == expected(db, visibility=(Visibility.PUBLIC, Visibility.INVITED), start=start, end=end)
    assert "/join" in response.get_data(as_text=True)
    resident_headers = api_token(make_user())
    assert client.get("/api/v1/export/calendar.ics", headers=resident_headers).status_code == 403
    assert client.get("/api/v1/export/calendar.ics").status_code == 401
    bad = client.get("/api/v1/export/calendar.ics?from=2027-13-01", headers=staff_headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"


def test_export_ics_command_writes_a_file(runner, plan, tmp_path):
    target = tmp_path / "export.ics"
    result = runner.invoke(args=["export-ics", "--from", "2027-01-01", "--to", "2027-01-31", "-o", str(target)])
    assert result.exit_code == 0, result.output
    events = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert len(events) == 4 + 1  # four weekly sessions (one moved) and the coordinating one in January


def test_session_page_offers_calendar_links(client, plan):
    html = client.get(f"/sessions/{plan.one_off.id}").get_data(as_text=True)
    assert "webcal://127.0.0.1:5000/calendar/majlis.ics" in html
    assert f"/calendar/sessions/{plan.one_off.id}.ics" in html
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "dates=20270315T143000Z%2F20270315T153000Z" in html
    assert "outlook.live.com/calendar/0/deeplink/compose" in html


@pytest.mark.parametrize("lang, title", [("ar", TITLE_AR), ("en", "Weekly majlis, open; to all")])
def test_feed_language(client, plan, lang, title):
    body = client.get(f"/calendar/series/{plan.weekly.id}.ics?lang={lang}").data
    assert title in {str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")}
