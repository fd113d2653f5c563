"""Field visits and hybrid sessions: a place, two seat pools with their own lines, and check-in at the door."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests import factories
from tests.conftest import csrf_token_from, form_post


@pytest.fixture
def staff(make_user, api_token):
    return api_token(make_user(role=Role.STAFF))


@pytest.fixture
def area(db):
    with unit_of_work(db):
        return factories.area(db, name_ar="سترة", name_en="Sitra")


def plan_visit(client, staff, area, **overrides):
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    data = {"kind": "field_visit", "format": "hybrid", "title_ar": "زيارة ميدانية إلى سترة",
            "title_en": "Field visit to Sitra", "starts_at": starts.isoformat(), "duration_minutes": 120,
            "capacity": 3, "in_person_capacity": 2, "visibility": "public",
            "registration_opens_at": (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat(),
            "place": {"name_ar": "مركز سترة الاجتماعي", "name_en": "Sitra Community Centre",
                      "address": "Road 12, Sitra", "area_id": area.id, "lat": 26.1547, "lon": 50.6203}}
    data.update(overrides)
    return client.post("/api/v1/sessions", json=data, headers=staff)


def register(client, session_id, headers, mode=None):
    body = {"json": {"mode": mode}} if mode else {}
    return client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers, **body)


def test_staff_plan_a_hybrid_field_visit_with_its_place(client, staff, area):
    response = plan_visit(client, staff, area)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["format"], body["capacity"], body["in_person_capacity"]) == \
        ("field_visit", "hybrid", 3, 2)
    assert (body["in_person_confirmed_count"], body["in_person_waitlist_count"]) == (0, 0)
    place = body["place"]
    assert (place["name_en"], place["area_id"], place["lat"], place["lon"]) == \
        ("Sitra Community Centre", area.id, 26.1547, 50.6203)
    assert place["map_url"] == ("https://www.openstreetmap.org/?mlat=26.154700&mlon=50.620300"
                                "#map=17/26.154700/50.620300")
    assert client.get(f"/api/v1/sessions/{body['id']}", headers=staff).get_json()["place"] == place


@pytest.mark.parametrize(("overrides", "field"), [
    ({"place": None}, "place"),
    ({"in_person_capacity": 0}, "in_person_capacity"),
    ({"format": "by_pigeon"}, "format"),
    ({"place": {"name_ar": "مكان", "name_en": "Place", "lat": 95, "lon": 50}}, "place.lat"),
    ({"place": {"name_ar": "مكان", "name_en": "Place", "lat": 26.1}}, "place.lon"),
    ({"place": {"name_ar": "مكان", "name_en": "Place", "area_id": 999999}}, "place.area_id"),
    ({"place": {"name_ar": "مكان", "name_en": "P", "floor": 3}}, "place.floor"),
    ({"format": "online", "capacity": 5}, "place"),
])
def test_bad_places_are_refused_and_nothing_is_planned(client, db, staff, area, overrides, field):
    response = plan_visit(client, staff, area, **overrides)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    db.expire_all()
    assert db.scalar(select(MajlisSession.id)) is None


def test_two_pools_each_with_its_own_line_and_promotion(client, db, staff, area, make_user, api_token):
    session_id = plan_visit(client, staff, area).get_json()["id"]
    hall = [api_token(make_user()) for _ in range(3)]
    online = [api_token(make_user()) for _ in range(2)]
    answers = [register(client, session_id, headers, "in_person").get_json() for headers in hall]
    assert [(a["status"], a["position"], a["mode"]) for a in answers] == [
        ("confirmed", None, "in_person"), ("confirmed", None, "in_person"), ("waitlisted", 1, "in_person")]
    codes = [a["check_in_code"] for a in answers]
    assert len(set(codes)) == 3 and all(len(code) == 6 for code in codes)
    # The online pool is untouched by the hall's line; the default is online, with no check-in code.
    online_answers = [register(client, session_id, headers).get_json() for headers in online]
    assert [(a["status"], a["mode"], "check_in_code" in a) for a in online_answers] == \
        [("confirmed", "online", False)] * 2
    body = client.get(f"/api/v1/sessions/{session_id}", headers=staff).get_json()
    assert (body["confirmed_count"], body["waitlist_count"], body["in_person_confirmed_count"],
            body["in_person_waitlist_count"]) == (2, 0, 2, 1)

    # A hall seat given up goes to the head of the hall's line.
    assert client.delete(f"/api/v1/sessions/{session_id}/registrations/me", headers=hall[0]).status_code == 204
    mine = client.get(f"/api/v1/sessions/{session_id}/registrations/me", headers=hall[2]).get_json()
    assert (mine["status"], mine["mode"], mine["check_in_code"]) == ("confirmed", "in_person", codes[2])
    body = client.get(f"/api/v1/sessions/{session_id}", headers=staff).get_json()
    assert (body["confirmed_count"], body["in_person_confirmed_count"], body["in_person_waitlist_count"]) == (2, 2, 0)


def test_an_in_person_session_has_only_hall_seats(client, staff, area, make_user, api_token):
    response = plan_visit(client, staff, area, format="in_person", capacity=None)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["capacity"], body["in_person_capacity"]) == (0, 2)
    resident = api_token(make_user())
    refused = register(client, body["id"], resident, "online")
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "mode"
    answer = register(client, body["id"], resident).get_json()
    assert (answer["status"], answer["mode"]) == ("confirmed", "in_person")


def test_check_in_at_the_door_by_api(client, db, staff, area, make_user, api_token):
    session_id = plan_visit(client, staff, area).get_json()["id"]
    resident = make_user(name="فاطمة علي")
    code = register(client, session_id, api_token(resident), "in_person").get_json()["check_in_code"]
    moderator = api_token(make_user(role=Role.MODERATOR))
    url = f"/api/v1/sessions/{session_id}/check-in"

    assert client.post(url, json={"code": "ZZZZZZ"}, headers=moderator).get_json()["error"]["code"] == "unknown_code"
    assert client.post(url, json={"code": code}, headers=api_token(make_user())).status_code == 403
    # Typed in lower case with a space, as a person at the door would.
    response = client.post(url, json={"code": f" {code[:3].lower()} {code[3:]}"}, headers=moderator)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["user_id"], body["name"]) == (resident.id, "فاطمة علي")
    assert datetime.fromisoformat(body["checked_in_at"]).tzinfo is not None
    again = client.post(url, json={"code": code}, headers=staff)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_checked_in")

    listed = client.get(f"/api/v1/sessions/{session_id}/registrations", headers=staff).get_json()["registrations"]
    assert [(r["mode"], r["attended"], r["checked_in_at"]) for r in listed] == \
        [("in_person", True, body["checked_in_at"])]


def test_attendance_counts_check_ins_and_online_joins_once_each(client, db, staff, area, make_user, api_token, app):
    from majlis.registration.services import attendance, mark_attended

    session_id = plan_visit(client, staff, area).get_json()["id"]
    in_hall, online, both = (make_user() for _ in range(3))
    codes = {}
    for user, mode in ((in_hall, "in_person"), (online, None), (both, "in_person")):
        codes[user.id] = register(client, session_id, api_token(user), mode).get_json().get("check_in_code")
    for user in (in_hall, both):
        assert client.post(f"/api/v1/sessions/{session_id}/check-in", json={"code": codes[user.id]},
                           headers=staff).status_code == 200
    with unit_of_work(db):
        for user in (online, both):  # joined the room too
            registration_id = db.scalar(select(Registration.id).where(Registration.user_id == user.id))
            mark_attended(db, registration_id, now=datetime.now(UTC))
    db.expire_all()
    counts = attendance(db, db.get(MajlisSession, session_id))
    assert (counts.registered, counts.attended, counts.checked_in) == (3, 3, 2)


def test_the_calendar_has_the_place(client, staff, area):
    session_id = plan_visit(client, staff, area).get_json()["id"]
    ics = client.get(f"/calendar/sessions/{session_id}.ics").get_data(as_text=True).replace("\r\n ", "")
    assert "LOCATION:مركز سترة الاجتماعي\\, Road 12\\, Sitra" in ics
    assert "GEO:26.1547;50.6203" in ics


def test_check_in_page_and_qr_code(client, db, staff, area, make_user, api_token, login_as):
    session_id = plan_visit(client, staff, area).get_json()["id"]
    resident = make_user()
    code = register(client, session_id, api_token(resident), "in_person").get_json()["check_in_code"]

    login_as(resident)
    page = client.get(f"/sessions/{session_id}?lang=en").get_data(as_text=True)
    assert code in page and "<svg" in page and "openstreetmap.org/?mlat=26.154700" in page
    arabic = client.get(f"/sessions/{session_id}?lang=ar").get_data(as_text=True)
    assert "<title>رمز QR لرمز تسجيل حضورك</title>" in arabic and code in arabic
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})

    login_as(make_user(role=Role.MODERATOR))
    door = client.get(f"/sessions/{session_id}/check-in?lang=en")
    assert door.status_code == 200
    done = form_post(client, f"/sessions/{session_id}/check-in", {"code": code.lower()},
                     page=f"/sessions/{session_id}/check-in?lang=en")
    assert done.status_code == 200 and resident.name in done.get_data(as_text=True)
    twice = form_post(client, f"/sessions/{session_id}/check-in", {"code": code},
                      page=f"/sessions/{session_id}/check-in?lang=en")
    assert twice.status_code == 409 and "already checked in" in twice.get_data(as_text=True)
    no_csrf = client.post(f"/sessions/{session_id}/check-in", data={"code": code})
    assert no_csrf.status_code == 400


def test_staff_plan_and_change_a_field_visit_on_the_planning_page(client, db, area, make_user, login_as):
    login_as(make_user(role=Role.STAFF))
    starts = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    form = {"kind": "field_visit", "title_ar": "زيارة ميدانية", "title_en": "Field visit", "starts_at": starts,
            "duration_minutes": "90", "capacity": "20", "visibility": "public", "format": "hybrid",
            "in_person_capacity": "", "place_name_ar": "مجلس الحي", "place_name_en": "Neighbourhood hall",
            "place_address": "Road 5", "place_area_id": str(area.id), "latitude": "26.2", "longitude": "50.6"}
    missing = form_post(client, "/staff/sessions/new", form)
    assert missing.status_code == 400  # a hybrid session needs its hall seats
    assert db.scalar(select(MajlisSession.id)) is None
    created = form_post(client, "/staff/sessions/new", {**form, "in_person_capacity": "30"})
    assert created.status_code == 302, created.get_data(as_text=True)
    db.expire_all()
    row = db.scalar(select(MajlisSession))
    assert (row.kind.value, row.format.value, row.in_person_capacity, row.place_name_en, row.place_area_id,
            row.latitude) == ("field_visit", "hybrid", 30, "Neighbourhood hall", area.id, 26.2)

    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Neighbourhood hall" in page
    changed = form_post(client, f"/staff/sessions/{row.id}/update",
                        {**_current_form(page), "place_name_en": "Sitra hall", "in_person_capacity": "25"},
                        page=created.headers["Location"])
    assert changed.status_code == 302, changed.get_data(as_text=True)
    db.expire_all()
    row = db.get(MajlisSession, row.id)
    assert (row.place_name_en, row.in_person_capacity, row.place_name_ar) == ("Sitra hall", 25, "مجلس الحي")


def _current_form(html: str) -> dict:
    """The values the update form shows (inputs and selected options), as a browser would send them."""
    import re

    form = html[html.index('/update"'):]
    form = form[:form.index("</form>")]
    values = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options)
        if chosen:
            values[name] = chosen.group(1) or chosen.group(2)
    values.pop("csrf_token", None)
    values.pop("public_viewing", None)
    return values


def test_the_confirmation_email_carries_the_code_and_its_qr_code(app, client, db, staff, area, make_user,
                                                                 api_token):
    from majlis.notifications.channels import as_email
    from tests.mailbox import Recorder, deliver

    session_id = plan_visit(client, staff, area).get_json()["id"]
    hall, online = make_user(locale="en"), make_user(locale="en")
    code = register(client, session_id, api_token(hall), "in_person").get_json()["check_in_code"]
    register(client, session_id, api_token(online))
    recorder = Recorder()
    deliver(app, db, now=datetime.now(UTC), senders={"email": recorder})
    sent = {to: message for to, message in recorder.sent}

    mail = sent[hall.email]
    assert mail.subject.startswith("Your seat in the hall is confirmed")
    assert code in mail.text and "Sitra Community Centre" in mail.text and "openstreetmap.org" in mail.text
    [(filename, mime_type, content)] = mail.attachments
    assert (filename, mime_type) == ("check-in-qr.svg", "image/svg+xml") and content.startswith(b"<svg")
    parts = {part.get_content_type() for part in as_email(mail, hall.email, "majlis@example.com").iter_attachments()}
    assert parts == {"image/svg+xml", "text/calendar"}
    assert sent[online.email].attachments == () and "/join" in sent[online.email].text


def test_changing_the_venue_keeps_everyone_and_more_hall_seats_move_the_hall_line(client, db, staff, area,
                                                                                  make_user, api_token):
    session_id = plan_visit(client, staff, area, in_person_capacity=1).get_json()["id"]
    first, second = (api_token(make_user()) for _ in range(2))
    register(client, session_id, first, "in_person")
    assert register(client, session_id, second, "in_person").get_json()["status"] == "waitlisted"
    url = f"/api/v1/sessions/{session_id}"

    refused = client.patch(url, json={"format": "online"}, headers=staff)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "seats_taken")
    body = client.patch(url, json={"in_person_capacity": 2, "place": {"name_ar": "قاعة سترة", "name_en": "Sitra hall",
                                                                     "lat": 26.15, "lon": 50.62}},
                        headers=staff).get_json()
    assert (body["in_person_confirmed_count"], body["in_person_waitlist_count"]) == (2, 0)
    assert (body["place"]["name_en"], body["place"]["address"], body["place"]["area_id"]) == ("Sitra hall", None, None)
    assert client.get(f"{url}/registrations/me", headers=second).get_json()["status"] == "confirmed"
    # The calendar shows the new place.
    ics = client.get(f"/calendar/sessions/{session_id}.ics?lang=en").get_data(as_text=True)
    assert "LOCATION:Sitra hall" in ics and "GEO:26.15;50.62" in ics


def test_an_in_person_session_has_no_video_room(client, staff, area, make_user, api_token):
    session_id = plan_visit(client, staff, area, format="in_person", capacity=None,
                            starts_at=(datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
                            registration_opens_at=None).get_json()["id"]
    resident = api_token(make_user())
    assert register(client, session_id, resident).get_json()["status"] == "confirmed"
    for headers in (resident, api_token(make_user(role=Role.MODERATOR))):
        refused = client.post(f"/api/v1/sessions/{session_id}/join", headers=headers)
        assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "no_room")
