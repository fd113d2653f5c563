"""A series held in person or hybrid, at a place: every session has the place and the hall's seats (the API, the
planning pages, the calendars); a change of place from a day forward, and what is refused."""

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.notifications.models import OutboxMessage
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession, Series
from tests import factories
from tests.conftest import form_post
from tests.sessions.test_planning_pages import (
    count,
    edit_form,
    error_next_to,
    fresh,
    local,
    occurrences,
    series_form,
    today,
)

PLACE = {"name_ar": "قاعة المحافظة", "name_en": "Governorate hall", "address": "Road 1, Manama", "lat": 26.2285,
         "lon": 50.586}
HALL_TAKEN = "Residents are registered for the hall: the session must keep its place."


@pytest.fixture
def staff(make_user, api_token):
    return api_token(make_user(role=Role.STAFF))


@pytest.fixture
def area(db):
    with unit_of_work(db):
        return factories.area(db, name_ar="المنامة", name_en="Manama")


def weekly(**overrides) -> dict:
    """A hybrid weekly majlis in the governorate's hall, Tuesdays at 19:00, registration open two weeks ahead (a key
    given as None is left out)."""
    data = {"kind": "weekly", "title_ar": "المجلس الأسبوعي", "title_en": "Weekly majlis",
            "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": "2026-01-06T19:00", "duration_minutes": 90,
            "capacity": 100, "registration_opens_days": 14, "format": "hybrid", "in_person_capacity": 1,
            "place": PLACE}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def sessions_of(client, staff, series_id) -> list[dict]:
    return client.get(f"/api/v1/sessions?series={series_id}", headers=staff).get_json()["sessions"]


def open_for_registration(sessions: list[dict]) -> dict:
    now = datetime.now(UTC)
    return next(s for s in sessions if datetime.fromisoformat(s["registration_opens_at"]) <= now
                < datetime.fromisoformat(s["registration_closes_at"]))


def register(client, session_id, headers, mode=None) -> dict:
    body = {"json": {"mode": mode}} if mode else {}
    return client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers, **body).get_json()


def venue_fields(series: Series) -> dict:
    """The edit form's place fields as the page pre-fills them."""
    return {"format": series.format.value, "in_person_capacity": str(series.in_person_capacity or ""),
            "place_name_ar": series.place_name_ar or "", "place_name_en": series.place_name_en or "",
            "place_address": series.place_address or "",
            "place_area_id": str(series.place_area_id) if series.place_area_id else "",
            "latitude": "" if series.latitude is None else str(series.latitude),
            "longitude": "" if series.longitude is None else str(series.longitude)}


def events(ics: bytes):
    """The feed's master event (with the RRULE) and its overrides by their RECURRENCE-ID (UTC)."""
    found = [event for event in Calendar.from_ical(ics).walk("VEVENT")]
    [master] = [event for event in found if "RRULE" in event]
    overrides = {event.decoded("RECURRENCE-ID").astimezone(UTC): event for event in found if "RECURRENCE-ID" in event}
    return master, overrides


# --- the API ------------------------------------------------------------------------------------------------------


def test_a_hybrid_series_holds_every_session_at_its_place_and_residents_take_hall_seats(client, staff, area,
                                                                                       make_user, api_token):
    response = client.post("/api/v1/series", json=weekly(place={**PLACE, "area_id": area.id}), headers=staff)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["capacity"], body["in_person_capacity"]) == ("hybrid", 100, 1)
    place = body["place"]
    assert (place["name_en"], place["address"], place["area_id"], place["lat"], place["lon"]) == \
        ("Governorate hall", "Road 1, Manama", area.id, 26.2285, 50.586)
    assert client.get(f"/api/v1/series/{body['id']}").get_json()["place"] == place

    sessions = sessions_of(client, staff, body["id"])
    assert len(sessions) >= 25
    assert {(s["format"], s["capacity"], s["in_person_capacity"], s["place"]["name_en"], s["place"]["area_id"],
             s["place"]["lat"]) for s in sessions} == {("hybrid", 100, 1, "Governorate hall", area.id, 26.2285)}

    # The hall's one seat goes to the first resident, the next waits for it; the online seats are untouched.
    session_id = open_for_registration(sessions)["id"]
    first = register(client, session_id, api_token(make_user()), "in_person")
    assert (first["status"], first["mode"], len(first["check_in_code"])) == ("confirmed", "in_person", 6)
    assert register(client, session_id, api_token(make_user()), "in_person")["status"] == "waitlisted"
    row = client.get(f"/api/v1/sessions/{session_id}", headers=staff).get_json()
    assert (row["in_person_confirmed_count"], row["in_person_waitlist_count"], row["confirmed_count"]) == (1, 1, 0)


def test_an_in_person_series_has_only_hall_seats(client, staff, make_user, api_token):
    response = client.post("/api/v1/series", json=weekly(kind="field_visit", format="in_person", capacity=None,
                                                         in_person_capacity=30), headers=staff)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["format"], body["capacity"], body["in_person_capacity"]) == ("in_person", 0, 30)
    sessions = sessions_of(client, staff, body["id"])
    assert {(s["format"], s["capacity"], s["in_person_capacity"]) for s in sessions} == {("in_person", 0, 30)}
    answer = register(client, open_for_registration(sessions)["id"], api_token(make_user()))
    assert (answer["status"], answer["mode"]) == ("confirmed", "in_person")


def test_an_online_series_stays_online(client, staff):
    body = client.post("/api/v1/series", json=weekly(format=None, place=None, in_person_capacity=None),
                       headers=staff).get_json()
    assert (body["format"], body["place"], body["in_person_capacity"]) == ("online", None, 0)
    assert {(s["format"], s["place"]) for s in sessions_of(client, staff, body["id"])} == {("online", None)}


@pytest.mark.parametrize(("overrides", "field"), [
    ({"format": "online", "in_person_capacity": None}, "place"),  # online, with a place
    ({"format": "online", "place": None}, "in_person_capacity"),  # online, with hall seats
    ({"format": "in_person", "place": None}, "place"),
    ({"place": {**PLACE, "lon": None}}, "place.lon"),  # a latitude without a longitude
    ({"place": {"name_ar": "قاعة", "name_en": "Hall", "lon": 50.5}}, "place.lat"),
    ({"place": {**PLACE, "lat": 91}}, "place.lat"),
    ({"place": {**PLACE, "area_id": 999999}}, "place.area_id"),
    ({"place": {**PLACE, "floor": 2}}, "place.floor"),
    ({"in_person_capacity": None}, "in_person_capacity"),
    ({"capacity": None}, "capacity"),  # hybrid: online seats too
    ({"format": "by_pigeon"}, "format"),
])
def test_a_series_with_a_bad_venue_is_refused_and_nothing_is_stored(client, db, staff, overrides, field):
    response = client.post("/api/v1/series", json=weekly(**overrides), headers=staff)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert count(db, Series) == 0 and count(db, MajlisSession) == 0


# --- the planning pages -------------------------------------------------------------------------------------------


@pytest.fixture
def planner(client, make_user, login_as):
    login_as(make_user(role=Role.STAFF))
    client.get("/?lang=en")
    return client


def visit_form(area, **changes) -> dict:
    """The new-series form for a weekly field visit to Sitra, in person."""
    return series_form(**{"kind": "field_visit", "title_en": "Sitra visit", "format": "in_person",
                          "in_person_capacity": "40", "place_name_ar": "مركز سترة", "place_name_en": "Sitra centre",
                          "place_address": "Road 12", "place_area_id": str(area.id), "latitude": "26.1547",
                          "longitude": "50.6203", **changes})


def test_staff_plan_an_in_person_series_on_the_planning_page(planner, db, area):
    response = form_post(planner, "/staff/series/new", visit_form(area))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = planner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sitra centre" in page and "In person, at a place" in page
    assert "openstreetmap.org/?mlat=26.154700&amp;mlon=50.620300" in page

    series = db.scalar(select(Series))
    assert (series.format.value, series.capacity, series.in_person_capacity, series.place_area_id,
            series.latitude) == ("in_person", 0, 40, area.id, 26.1547)
    rows = occurrences(db, series.id)
    assert len(rows) >= 25
    assert {(r.format.value, r.capacity, r.in_person_capacity, r.place_name_en, r.place_address, r.place_area_id,
             r.latitude, r.longitude) for r in rows} == {
        ("in_person", 0, 40, "Sitra centre", "Road 12", area.id, 26.1547, 50.6203)}
    # The edit form shows where it is held.
    assert 'value="Sitra centre"' in page
    assert re.search(rf'<option (selected value="{area.id}"|value="{area.id}" selected)', page)


@pytest.mark.parametrize(("changes", "field"), [
    ({"place_name_ar": "", "place_name_en": ""}, "place_name_ar"),  # in person without a place
    ({"longitude": ""}, "longitude"),  # a latitude without a longitude
    ({"format": "online"}, "in_person_capacity"),  # online, with hall seats
    ({"in_person_capacity": ""}, "in_person_capacity"),
    ({"place_area_id": "999999"}, "place_area_id"),
])
def test_a_bad_venue_on_the_planning_page_is_shown_next_to_its_field(planner, db, area, changes, field):
    response = form_post(planner, "/staff/series/new", visit_form(area, **changes))
    assert response.status_code == 400
    assert error_next_to(response.get_data(as_text=True), field)
    assert count(db, Series) == 0 and count(db, MajlisSession) == 0


# --- changes from a day forward -----------------------------------------------------------------------------------


def test_a_new_place_from_a_day_forward_keeps_the_series_and_the_calendar_shows_both(client, db, staff, planner):
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    rows = occurrences(db, series_id)
    from_day = local(rows[2].starts_at).date()
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, from_day, **{**venue_fields(series), "place_name_en": "Sitra hall",
                                                        "place_name_ar": "قاعة سترة", "in_person_capacity": "60"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/staff/series/{series_id}")  # not split
    assert count(db, Series) == 1
    rows = occurrences(db, series_id)
    assert {(r.place_name_en, r.in_person_capacity) for r in rows[:2]} == {("Governorate hall", 1)}
    assert {(r.place_name_en, r.place_name_ar, r.in_person_capacity, r.format.value) for r in rows[2:]} == {
        ("Sitra hall", "قاعة سترة", 60, "hybrid")}
    assert db.get(Series, series_id).place_name_en == "Sitra hall"

    # The series' event is at the new place; the two sessions before the day keep the old one as exceptions.
    master, overrides = events(client.get(f"/calendar/series/{series_id}.ics?lang=en").get_data())
    assert str(master["LOCATION"]) == "Sitra hall, Road 1, Manama"
    assert (master["GEO"].latitude, master["GEO"].longitude) == (26.2285, 50.586)
    assert {when: str(event["LOCATION"]) for when, event in overrides.items()} == {
        row.original_starts_at: "Governorate hall, Road 1, Manama" for row in rows[:2]}


def test_going_online_while_residents_hold_hall_seats_is_refused_and_changes_nothing(client, db, staff, make_user,
                                                                                   api_token, planner):
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    session_id = open_for_registration(sessions_of(client, staff, series_id))["id"]
    assert register(client, session_id, api_token(make_user()), "in_person")["status"] == "confirmed"
    series = db.get(Series, series_id)
    before = [(r.id, r.format, r.place_name_en, r.in_person_capacity, r.capacity, r.sequence)
              for r in occurrences(db, series_id)]

    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "format": "online"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 409
    assert HALL_TAKEN in response.get_data(as_text=True)
    assert [(r.id, r.format, r.place_name_en, r.in_person_capacity, r.capacity, r.sequence)
            for r in occurrences(db, series_id)] == before
    series = db.get(Series, series_id)
    assert (series.format.value, series.place_name_en, series.sequence) == ("hybrid", "Governorate hall", 0)
    assert db.scalar(select(Registration.mode).where(Registration.session_id == session_id)).value == "in_person"


def test_the_online_feed_of_a_series_moved_online_has_no_place(client, db, staff, planner):
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "format": "online"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    rows = occurrences(db, series_id)
    assert {(r.format.value, r.place_name_en, r.in_person_capacity, r.capacity) for r in rows
            if local(r.original_starts_at).date() >= today()} == {("online", None, 0, 100)}
    master, _overrides = events(client.get(f"/calendar/series/{series_id}.ics?lang=en").get_data())
    assert "GEO" not in master and "Governorate hall" not in str(master["LOCATION"])


def test_more_hall_seats_from_a_day_forward_seat_the_resident_waiting(client, db, staff, make_user, api_token,
                                                                      planner):
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    session_id = open_for_registration(sessions_of(client, staff, series_id))["id"]
    first, second = api_token(make_user()), api_token(make_user())
    register(client, session_id, first, "in_person")
    assert register(client, session_id, second, "in_person")["status"] == "waitlisted"
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "in_person_capacity": "2"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    mine = client.get(f"/api/v1/sessions/{session_id}/registrations/me", headers=second).get_json()
    assert (mine["status"], mine["mode"]) == ("confirmed", "in_person")


def test_a_session_given_its_own_place_keeps_it_when_the_series_seats_change(client, db, staff, planner):
    """Like a calendar exception: a session staff moved elsewhere on its own is not pulled back by a series edit."""
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    rows = occurrences(db, series_id)
    own = rows[3]
    moved = client.patch(f"/api/v1/sessions/{own.id}", headers=staff,
                         json={"place": {**PLACE, "name_en": "Sitra hall", "name_ar": "قاعة سترة"}})
    assert moved.status_code == 200, moved.get_json()
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "capacity": "150"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    after = {row.id: (row.place_name_en, row.capacity) for row in occurrences(db, series_id)
             if local(row.starts_at).date() >= today()}
    assert after.pop(own.id) == ("Sitra hall", 100)
    assert set(after.values()) == {("Governorate hall", 150)}


def test_a_session_that_has_begun_keeps_its_place_when_the_series_moves_from_today(client, db, staff, planner):
    """A daily series whose session today began at midnight: the new place is for the sessions still to come."""
    started = client.post("/api/v1/series", headers=staff, json=weekly(
        rrule="FREQ=DAILY", first_start=f"{today().isoformat()}T00:00", duration_minutes=24 * 60 - 1))
    assert started.status_code == 201, started.get_json()
    series_id = started.get_json()["id"]
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "place_name_en": "Sitra hall"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    now = datetime.now(UTC)
    places = {(row.starts_at <= now, row.place_name_en) for row in occurrences(db, series_id)
              if local(row.original_starts_at).date() >= today()}
    assert places == {(True, "Governorate hall"), (False, "Sitra hall")}


def test_a_new_place_from_a_day_forward_is_told_only_to_the_registrants_of_the_sessions_that_move(
        client, db, staff, make_user, api_token, planner):
    series_id = client.post("/api/v1/series", json=weekly(), headers=staff).get_json()["id"]
    now = datetime.now(UTC)
    first, second = [s for s in sessions_of(client, staff, series_id)
                     if datetime.fromisoformat(s["registration_opens_at"]) <= now
                     < datetime.fromisoformat(s["registration_closes_at"])][:2]
    stays, moves = make_user(locale="en"), make_user(locale="en")
    assert register(client, first["id"], api_token(stays), "online")["status"] == "confirmed"
    assert register(client, second["id"], api_token(moves), "in_person")["status"] == "confirmed"

    def told() -> list[tuple[str, int, int]]:
        fresh(db)
        return [(row.kind, row.user_id, row.params["session_id"]) for row in db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.like("session_%")).order_by(OutboxMessage.id))]

    # Other seats only, from the first session on: nobody is told.
    series = db.get(Series, series_id)
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, today(), **{**venue_fields(series), "in_person_capacity": "5"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert told() == []

    # A new hall from the second session's day: its registrant is told, the first session's is not.
    series = db.get(Series, series_id)
    from_day = local(datetime.fromisoformat(second["starts_at"])).date()
    response = form_post(planner, f"/staff/series/{series_id}/edit",
                         edit_form(series, from_day, **{**venue_fields(series), "place_name_en": "Sitra hall",
                                                        "place_name_ar": "قاعة سترة"}),
                         page=f"/staff/series/{series_id}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert told() == [("session_relocated", moves.id, second["id"])]
