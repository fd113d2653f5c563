"""The staff planning pages: series, the month calendar, moving, cancelling, splitting and ending, one-offs."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from majlis.db import unit_of_work
from majlis.enums import Role, SessionStatus
from majlis.sessions.models import MajlisSession, Series
from tests import factories
from tests.conftest import form_post

BAHRAIN = ZoneInfo("Asia/Bahrain")  # the app's zone, UTC+3
WALL = "%Y-%m-%dT%H:%M"
TUESDAY, WEDNESDAY = 1, 2


def today() -> date:
    return datetime.now(BAHRAIN).date()


def next_weekday(after: date, weekday: int) -> date:
    """The first day after `after` that falls on `weekday` (Monday is 0)."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def local(instant: datetime) -> datetime:
    return instant.astimezone(BAHRAIN)


def wall(instant: datetime) -> str:
    return local(instant).strftime(WALL)


def fresh(db) -> None:
    """See what the requests committed: end the test's read transaction and forget loaded rows."""
    db.rollback()
    db.expire_all()  # rollback alone expires nothing when no transaction is open


def count(db, model) -> int:
    fresh(db)
    return db.scalar(select(func.count()).select_from(model))


def occurrences(db, series_id: int) -> list[MajlisSession]:
    fresh(db)
    return list(db.scalars(select(MajlisSession).where(MajlisSession.series_id == series_id)
                           .order_by(MajlisSession.starts_at)))


def series_form(**changes) -> dict:
    """The new-series form as a staff member fills it in: every Tuesday at 19:00, from a Tuesday ahead."""
    first = next_weekday(today() + timedelta(days=1), TUESDAY)
    data = {"kind": "weekly", "title_ar": "المجلس الأسبوعي", "title_en": "Tuesday majlis", "description_ar": "",
            "description_en": "", "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": f"{first.isoformat()}T19:00",
            "duration_minutes": "90", "capacity": "100", "registration_opens_days": "7",
            "registration_closes_minutes": "60", "visibility": "public"}
    data.update(changes)
    return data


def edit_form(series: Series, from_day: date, **changes) -> dict:
    """The edit form as the page pre-fills it, with some fields changed."""
    data = {"from_day": from_day.isoformat(), "title_ar": series.title_ar, "title_en": series.title_en,
            "description_ar": series.description_ar, "description_en": series.description_en,
            "rrule": series.rrule, "start_time": series.first_start_local.strftime("%H:%M"),
            "duration_minutes": series.duration_minutes, "capacity": series.capacity,
            "registration_opens_days": series.registration_opens_days,
            "registration_closes_minutes": series.registration_closes_minutes, "visibility": series.visibility.value}
    data.update(changes)
    return data


def update_form(row: MajlisSession, **changes) -> dict:
    """The move form as the page pre-fills it (local wall times), with some fields changed."""
    data = {"starts_at": wall(row.starts_at), "ends_at": wall(row.ends_at), "capacity": row.capacity,
            "registration_opens_at": wall(row.registration_opens_at),
            "registration_closes_at": wall(row.registration_closes_at)}
    data.update(changes)
    return data


def link_to(row: MajlisSession) -> str:
    return f'href="/staff/sessions/{row.id}"'


def month_page(client, day: date) -> str:
    response = client.get(f"/staff/calendar?month={day:%Y-%m}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def error_next_to(html: str, field: str) -> str:
    """The field's error message, checking the control is marked invalid and points at it (else '')."""
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{field}"[^>]*>', html)
    error = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', html)
    if not (control and error and 'aria-invalid="true"' in control[0]):
        return ""
    described = re.search(r'aria-describedby="([^"]*)"', control[0])
    return error[1].strip() if described and f"{field}-error" in described[1].split() else ""


@pytest.fixture
def staff(client, make_user, login_as):
    """A signed-in staff member reading the English pages (the Arabic wording of new pages comes later)."""
    login_as(make_user(role=Role.STAFF))
    client.get("/?lang=en")
    return client


@pytest.fixture
def series_id(staff):
    response = form_post(staff, "/staff/series/new", series_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


# --- who may plan -------------------------------------------------------------------------------------------------

PAGES = ["/staff/series", "/staff/series/new", "/staff/series/1", "/staff/calendar", "/staff/calendar?month=2027-01",
         "/staff/sessions/1", "/staff/sessions/new"]
FORMS = ["/staff/series/new", "/staff/series/1/edit", "/staff/series/1/end", "/staff/sessions/new",
         "/staff/sessions/1/update", "/staff/sessions/1/cancel"]


@pytest.mark.parametrize("path", PAGES)
def test_planning_pages_need_staff(client, make_user, login_as, path):
    assert client.get(path).status_code == 401
    login_as(make_user(role=Role.RESIDENT))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.MODERATOR, Role.OFFICIAL])
@pytest.mark.parametrize("path", FORMS)
def test_planning_forms_refuse_other_roles_and_change_nothing(client, db, make_user, login_as, path, role):
    data = {**series_form(), "reason": "A reason that is long enough", "last_day": today().isoformat()}
    assert form_post(client, path, data, page="/login").status_code == 401
    login_as(make_user(role=role))
    assert form_post(client, path, data, page="/").status_code == 403
    assert count(db, Series) == 0 and count(db, MajlisSession) == 0


def test_admins_may_plan_too(client, make_user, login_as):
    login_as(make_user(role=Role.ADMIN))
    assert client.get("/staff/series").status_code == 200


def test_staff_desk_links_to_the_planning_pages(staff):
    html = staff.get("/staff/").get_data(as_text=True)
    for path in ("/staff/series", "/staff/calendar", "/staff/series/new", "/staff/sessions/new"):
        assert f'href="{path}"' in html


# --- series -------------------------------------------------------------------------------------------------------


def test_staff_create_a_series_and_its_sessions_appear_on_the_month_view(staff, db):
    response = form_post(staff, "/staff/series/new", series_form())
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tuesday majlis" in page and "Every Tuesday" in page and "The series was created" in page

    series = db.scalar(select(Series))
    rows = occurrences(db, series.id)
    assert len(rows) >= 25  # the 26-week rolling horizon
    assert {(local(r.starts_at).weekday(), local(r.starts_at).strftime("%H:%M")) for r in rows} == {(TUESDAY, "19:00")}
    assert all(r.ends_at - r.starts_at == timedelta(minutes=90) for r in rows)

    first_month = local(rows[0].starts_at).date()
    html = month_page(staff, first_month)
    same_month = [r for r in rows if local(r.starts_at).strftime("%Y-%m") == first_month.strftime("%Y-%m")]
    assert all(link_to(r) in html for r in same_month)
    assert html.count("Tuesday majlis") == len(same_month)
    assert local(rows[0].starts_at).strftime("%B %-d, %Y") in html and " AH" in html  # Gregorian and Hijri

    listing = staff.get("/staff/series").get_data(as_text=True)
    assert f'href="/staff/series/{series.id}"' in listing and "Every Tuesday" in listing
    assert local(rows[0].starts_at).strftime("%b %-d, %Y") in listing  # the next session


@pytest.mark.parametrize("changes, field", [
    ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
    ({"rrule": "FREQ=WEEKLY;BYDAY=XY"}, "rrule"),
    ({"capacity": "0"}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"duration_minutes": "0"}, "duration_minutes"),
    ({"first_start": "next Tuesday"}, "first_start"),
    ({"title_en": ""}, "title_en"),
    ({"title_ar": "م"}, "title_ar"),
    ({"kind": "monthly"}, "kind"),
    ({"visibility": "secret"}, "visibility"),
])
def test_an_invalid_series_is_shown_again_with_the_error_next_to_the_field(staff, db, changes, field):
    response = form_post(staff, "/staff/series/new", series_form(**changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_next_to(html, field)
    kept = "المجلس الأسبوعي" if field == "title_en" else "Tuesday majlis"
    assert f'value="{kept}"' in html  # what was typed is kept
    assert count(db, Series) == 0 and count(db, MajlisSession) == 0


def test_a_series_page_lists_its_coming_sessions_with_hijri_dates(staff, db, series_id):
    rows = occurrences(db, series_id)
    html = staff.get(f"/staff/series/{series_id}").get_data(as_text=True)
    assert all(link_to(row) in html for row in rows[:10])
    assert local(rows[0].starts_at).strftime("%A, %B %-d, %Y") in html and " AH" in html
    assert "FREQ=WEEKLY;BYDAY=TU" in html


def test_editing_a_series_from_a_date_with_a_new_weekday_splits_it(staff, db, series_id):
    rows = occurrences(db, series_id)
    earlier = {row.id: row.starts_at for row in rows[:2]}
    from_day = local(rows[2].starts_at).date()
    series = db.get(Series, series_id)
    response = form_post(staff, f"/staff/series/{series_id}/edit",
                         edit_form(series, from_day, rrule="FREQ=WEEKLY;BYDAY=WE"), page=f"/staff/series/{series_id}")
    assert response.status_code == 302
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert new_id != series_id

    fresh(db)
    old, new = db.get(Series, series_id), db.get(Series, new_id)
    assert new.previous_id == old.id and new.rrule == "FREQ=WEEKLY;BYDAY=WE"
    assert old.ends_on == from_day - timedelta(days=1)
    assert {row.id: row.starts_at for row in occurrences(db, series_id)} == earlier  # earlier sessions unchanged
    later = occurrences(db, new_id)
    assert later and all(local(r.starts_at).weekday() == WEDNESDAY and local(r.starts_at).hour == 19 for r in later)
    assert local(later[0].starts_at).date() == from_day + timedelta(days=1)

    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Every Wednesday" in page and "new schedule" in page
    assert f'href="/staff/series/{series_id}"' in page  # it names the series it continues
    assert f'href="/staff/series/{new_id}"' in staff.get(f"/staff/series/{series_id}").get_data(as_text=True)
    assert link_to(later[0]) in month_page(staff, local(later[0].starts_at).date())


def test_editing_a_series_title_from_a_date_keeps_the_series_and_earlier_titles(staff, db, series_id):
    rows = occurrences(db, series_id)
    from_day = local(rows[2].starts_at).date()
    series = db.get(Series, series_id)
    response = form_post(staff, f"/staff/series/{series_id}/edit",
                         edit_form(series, from_day, title_en="Tuesday majlis with the Governor"),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/series/{series_id}")
    titles = [row.title_en for row in occurrences(db, series_id)]
    assert titles[:2] == ["Tuesday majlis"] * 2
    assert set(titles[2:]) == {"Tuesday majlis with the Governor"}
    assert count(db, Series) == 1


def test_an_edit_that_changes_nothing_is_refused(staff, db, series_id):
    series = db.get(Series, series_id)
    response = form_post(staff, f"/staff/series/{series_id}/edit", edit_form(series, today()),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 400 and "Nothing to change." in response.get_data(as_text=True)


def test_a_bad_rule_in_an_edit_is_shown_next_to_the_field_and_changes_nothing(staff, db, series_id):
    before = [(row.id, row.starts_at) for row in occurrences(db, series_id)]
    series = db.get(Series, series_id)
    response = form_post(staff, f"/staff/series/{series_id}/edit", edit_form(series, today(), rrule="EVERY TUESDAY"),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), "rrule")
    assert [(row.id, row.starts_at) for row in occurrences(db, series_id)] == before
    assert count(db, Series) == 1


def test_ending_a_series_removes_later_sessions_from_the_month_view(staff, db, series_id):
    rows = [(row.id, local(row.starts_at).date()) for row in occurrences(db, series_id)]
    (first_id, last_day), later = rows[0], rows[1:4]
    response = form_post(staff, f"/staff/series/{series_id}/end", {"last_day": last_day.isoformat()},
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302
    assert "The series ends after" in staff.get(response.headers["Location"]).get_data(as_text=True)

    assert [row.id for row in occurrences(db, series_id)] == [first_id]
    assert f'href="/staff/sessions/{first_id}"' in month_page(staff, last_day)
    for session_id, day in later:
        assert f'href="/staff/sessions/{session_id}"' not in month_page(staff, day)
    assert "Ends after" in staff.get("/staff/series").get_data(as_text=True)


def test_ending_a_series_on_a_past_day_keeps_the_sessions_that_took_place(staff, db, series_id):
    held_at = datetime.now(BAHRAIN).replace(hour=19, minute=0, second=0, microsecond=0) - timedelta(days=7)
    with unit_of_work(db):
        held = factories.majlis_session(db, series_id=series_id, starts_at=held_at, original_starts_at=held_at,
                                        status=SessionStatus.ENDED).id
    last_day = held_at.date() - timedelta(days=7)
    response = form_post(staff, f"/staff/series/{series_id}/end", {"last_day": last_day.isoformat()},
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), "last_day")
    fresh(db)
    row = db.get(MajlisSession, held)
    assert row is not None and row.status == SessionStatus.ENDED


# --- one session --------------------------------------------------------------------------------------------------


def test_moving_an_occurrence_changes_its_times_and_the_month_view_marks_it(staff, db, series_id, app):
    rows = occurrences(db, series_id)
    moved, neighbour = rows[1], rows[2]
    original = local(moved.starts_at)
    new_start = datetime.combine(original.date() + timedelta(days=1), time(20, 0), tzinfo=BAHRAIN)
    response = form_post(staff, f"/staff/sessions/{moved.id}/update",
                         update_form(moved, starts_at=new_start.strftime(WALL)), page=f"/staff/sessions/{moved.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/staff/sessions/{moved.id}")

    fresh(db)
    row = db.get(MajlisSession, moved.id)
    assert row.starts_at == new_start and row.ends_at == new_start + timedelta(minutes=90)  # the length is kept
    assert row.original_starts_at == original and row.is_moved
    assert row.registration_closes_at == new_start - timedelta(minutes=60)  # the window moves along
    assert db.get(MajlisSession, neighbour.id).starts_at == neighbour.starts_at

    html = month_page(staff, new_start.date())
    assert link_to(row) in html and "Moved from" in html and original.strftime("%b %-d, %Y") in html
    public = app.test_client().get(f"/sessions/{row.id}?lang=en").get_data(as_text=True)
    assert "This session was moved from" in public


def test_a_move_that_would_end_before_it_starts_is_refused_next_to_the_field(staff, db, series_id):
    row = occurrences(db, series_id)[1]
    response = form_post(staff, f"/staff/sessions/{row.id}/update",
                         update_form(row, ends_at=wall(row.starts_at - timedelta(hours=1))),
                         page=f"/staff/sessions/{row.id}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error_next_to(html, "ends_at") == "The end must be after the start."
    fresh(db)
    assert db.get(MajlisSession, row.id).ends_at == row.ends_at


@pytest.mark.parametrize("changes, message", [
    ({"ends_at": "start - 1h"}, "The end must be after the start."),
    ({"registration_closes_at": "end + 1h"}, "Registration must close before the session ends."),
])
def test_an_invalid_move_is_a_400_next_to_the_field_and_changes_nothing(staff, db, series_id, changes, message):
    row = occurrences(db, series_id)[1]
    values = {"start - 1h": row.starts_at - timedelta(hours=1), "end + 1h": row.ends_at + timedelta(hours=1)}
    form = update_form(row, **{field: wall(values[when]) for field, when in changes.items()})
    response = form_post(staff, f"/staff/sessions/{row.id}/update", form, page=f"/staff/sessions/{row.id}")
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), next(iter(changes))) == message
    fresh(db)
    kept = db.get(MajlisSession, row.id)
    assert (kept.starts_at, kept.ends_at, kept.registration_closes_at) == (
        row.starts_at, row.ends_at, row.registration_closes_at)


def test_a_session_that_has_not_begun_cannot_be_moved_into_the_past(staff, db, series_id, api_token, make_user):
    row = occurrences(db, series_id)[1]
    past = datetime(2020, 3, 1, 18, 0, tzinfo=BAHRAIN)
    response = form_post(staff, f"/staff/sessions/{row.id}/update",
                         update_form(row, starts_at=past.strftime(WALL),
                                     ends_at=(past + timedelta(hours=1)).strftime(WALL),
                                     registration_opens_at=(past - timedelta(days=7)).strftime(WALL),
                                     registration_closes_at=(past - timedelta(hours=1)).strftime(WALL)),
                         page=f"/staff/sessions/{row.id}")
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), "starts_at") == \
        "A session that has not begun cannot be moved into the past."
    api = staff.application.test_client().patch(f"/api/v1/sessions/{row.id}", json={"starts_at": past.isoformat()},
                                                headers=api_token(make_user(role=Role.STAFF)))
    assert api.status_code == 400 and api.get_json()["error"]["field"] == "starts_at"
    fresh(db)
    assert db.get(MajlisSession, row.id).starts_at == row.starts_at


def test_the_real_times_of_a_session_that_ran_can_be_recorded(staff, db, api_token, make_user):
    now = datetime.now(UTC)
    with unit_of_work(db):
        held = factories.majlis_session(db, starts_at=now - timedelta(hours=3),
                                        registration_opens_at=now - timedelta(days=8),
                                        registration_closes_at=now - timedelta(hours=4))
    real_start = held.starts_at + timedelta(minutes=20)
    response = staff.application.test_client().patch(
        f"/api/v1/sessions/{held.id}", json={"starts_at": real_start.isoformat()},
        headers=api_token(make_user(role=Role.STAFF)))
    assert response.status_code == 200, response.get_json()
    fresh(db)
    assert db.get(MajlisSession, held.id).starts_at == real_start


def test_a_one_off_at_short_notice_takes_registrations_until_it_starts(db, api_token, make_user, client):
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=40)
    response = client.post("/api/v1/sessions", headers=api_token(make_user(role=Role.STAFF)), json={
        "title_ar": "مجلس عاجل", "title_en": "Urgent majlis", "starts_at": starts.isoformat(),
        "duration_minutes": 60, "capacity": 20, "visibility": "public"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert datetime.fromisoformat(body["registration_closes_at"]) == starts  # not already closed at creation
    resident = api_token(make_user())
    assert client.post(f"/api/v1/sessions/{body['id']}/registrations", headers=resident).status_code == 201


def test_changing_only_the_seats_keeps_the_times(staff, db, series_id):
    row = occurrences(db, series_id)[0]
    response = form_post(staff, f"/staff/sessions/{row.id}/update", update_form(row, capacity="140"),
                         page=f"/staff/sessions/{row.id}")
    assert response.status_code == 302
    fresh(db)
    changed = db.get(MajlisSession, row.id)
    assert changed.capacity == 140 and changed.starts_at == row.starts_at and not changed.is_moved


def test_lowering_the_seats_never_removes_confirmed_residents(staff, db, series_id):
    row = occurrences(db, series_id)[0]
    with unit_of_work(db):
        db.get(MajlisSession, row.id).confirmed_count = 80
    response = form_post(staff, f"/staff/sessions/{row.id}/update", update_form(row, capacity="10"),
                         page=f"/staff/sessions/{row.id}", follow_redirects=True)
    fresh(db)
    changed = db.get(MajlisSession, row.id)
    # The new limit is kept (nobody new gets a seat until fewer than 10 hold one); nobody loses a seat ...
    assert (changed.capacity, changed.confirmed_count) == (10, 80)
    # ... and staff are told so, not left to find out.
    assert "80 residents already hold a seat" in response.get_data(as_text=True)


@pytest.mark.parametrize("reason", ["", "  ", "ok"])
def test_cancelling_needs_a_reason(staff, db, series_id, reason):
    row = occurrences(db, series_id)[0]
    response = form_post(staff, f"/staff/sessions/{row.id}/cancel", {"reason": reason},
                         page=f"/staff/sessions/{row.id}")
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), "reason")
    fresh(db)
    assert db.get(MajlisSession, row.id).status == SessionStatus.SCHEDULED


def test_a_cancelled_session_shows_its_reason_on_the_public_page_and_the_month_view(staff, db, series_id, app):
    row = occurrences(db, series_id)[0]
    reason = "The Governor is travelling abroad; the majlis resumes next week."
    response = form_post(staff, f"/staff/sessions/{row.id}/cancel", {"reason": reason},
                         page=f"/staff/sessions/{row.id}")
    assert response.status_code == 302
    fresh(db)
    assert db.get(MajlisSession, row.id).status == SessionStatus.CANCELLED

    public = app.test_client().get(f"/sessions/{row.id}?lang=en").get_data(as_text=True)
    assert "This session is cancelled." in public and reason in public
    html = month_page(staff, local(row.starts_at).date())
    assert "<s>Tuesday majlis</s>" in html and f"Reason: {reason}" in html
    manage = staff.get(f"/staff/sessions/{row.id}").get_data(as_text=True)
    assert "This session is cancelled." in manage and f'action="/staff/sessions/{row.id}/update"' not in manage
    again = form_post(staff, f"/staff/sessions/{row.id}/update", update_form(row, capacity="5"),
                      page="/staff/series")
    assert again.status_code == 409 and "This session is cancelled." in again.get_data(as_text=True)


def test_a_one_off_session_can_be_created(staff, db, app):
    day = today() + timedelta(days=10)
    response = form_post(staff, "/staff/sessions/new", {
        "kind": "special", "title_ar": "مجلس خاص بمناسبة العيد", "title_en": "Eid majlis", "description_ar": "",
        "description_en": "Greetings and open talk.", "starts_at": f"{day.isoformat()}T17:30",
        "duration_minutes": "60", "capacity": "30", "visibility": "public", "registration_opens_at": "",
        "registration_closes_at": ""})
    assert response.status_code == 302
    session_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert "Eid majlis" in staff.get(response.headers["Location"]).get_data(as_text=True)

    fresh(db)
    row = db.get(MajlisSession, session_id)
    starts = datetime.combine(day, time(17, 30), tzinfo=BAHRAIN)
    assert row.series_id is None and row.starts_at == starts and row.ends_at == starts + timedelta(minutes=60)
    assert row.capacity == 30 and row.registration_opens_at == starts - timedelta(days=7)
    assert link_to(row) in month_page(staff, day)
    assert "Eid majlis" in app.test_client().get("/?lang=en").get_data(as_text=True)


def test_a_one_off_whose_registration_closes_after_it_ends_is_refused(staff, db):
    day = today() + timedelta(days=10)
    response = form_post(staff, "/staff/sessions/new", {
        "kind": "special", "title_ar": "مجلس خاص", "title_en": "Special majlis", "starts_at": f"{day}T17:30",
        "duration_minutes": "60", "capacity": "30", "visibility": "public",
        "registration_closes_at": f"{day}T19:00"})
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), "registration_closes_at")
    assert count(db, MajlisSession) == 0


# --- the month view -----------------------------------------------------------------------------------------------


def test_the_month_view_opens_on_this_month_and_links_to_its_neighbours(staff):
    html = staff.get("/staff/calendar").get_data(as_text=True)
    first = today().replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    assert f"Calendar: {first:%B %Y}" in html
    assert f'href="/staff/calendar?month={following:%Y-%m}"' in html
    assert f'href="/staff/calendar?month={previous:%Y-%m}"' in html


@pytest.mark.parametrize("month", ["2027-13", "27-01", "January", "1999-01"])
def test_the_month_view_refuses_a_month_it_cannot_read(staff, month):
    assert staff.get(f"/staff/calendar?month={month}").status_code == 400


def test_the_month_view_shows_invited_sessions_to_staff(staff, db):
    first = next_weekday(today() + timedelta(days=1), WEDNESDAY)
    response = form_post(staff, "/staff/series/new", series_form(
        kind="coordinating", title_en="Coordinating majlis", rrule="FREQ=MONTHLY;BYDAY=1WE", visibility="invited",
        first_start=f"{first}T10:00"))
    assert response.status_code == 302
    series_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = occurrences(db, series_id)[0]
    html = month_page(staff, local(row.starts_at).date())
    assert link_to(row) in html and "By invitation" in html
    assert "The first Wednesday of every month" in staff.get("/staff/series").get_data(as_text=True)
