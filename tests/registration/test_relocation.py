"""A session that gets a new place: every active registrant is told once, in their language, where it is now; other
seats are not news, and a resident who turned off session changes hears nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import Role, SessionFormat
from majlis.notifications import preferences
from majlis.notifications.models import OutboxMessage
from tests import factories
from tests.conftest import form_post
from tests.mailbox import Recorder, deliver
from tests.sessions.test_planning_pages import update_form

OLD = {"place_name_ar": "قاعة المحافظة", "place_name_en": "Governorate hall", "place_address": "Road 1, Manama",
       "latitude": 26.2285, "longitude": 50.586}
NEW = {"name_ar": "مركز سترة", "name_en": "Sitra centre", "address": "Road 12, Sitra", "lat": 26.1547,
       "lon": 50.6203}


@pytest.fixture
def hall_session(db):
    """A hybrid session three days ahead in the governorate's hall, registration open now."""
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + timedelta(days=3), capacity=10,
                                        registration_opens_at=now - timedelta(days=1), format=SessionFormat.HYBRID,
                                        in_person_capacity=10, **OLD)


@pytest.fixture
def staff(make_user, api_token):
    return api_token(make_user(role=Role.STAFF))


def register(client, session_id, headers) -> None:
    response = client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers,
                           json={"mode": "in_person"})
    assert response.status_code == 201, response.get_json()


def notices(db) -> list[OutboxMessage]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(
        ("session_moved", "session_relocated"))).order_by(OutboxMessage.id)))


def delivered(app, db) -> dict[str, str]:
    """Deliver what is queued; the text each address got."""
    recorder = Recorder()
    deliver(app, db, now=datetime.now(UTC) + timedelta(seconds=1), senders={"email": recorder})
    return {address: message.text for address, message in recorder.sent}


def test_a_new_place_is_told_to_each_active_registrant_in_their_language(app, client, db, hall_session, staff,
                                                                         make_user, api_token):
    arabic, english, gone = make_user(locale="ar"), make_user(locale="en"), make_user(locale="en")
    for user in (arabic, english, gone):
        register(client, hall_session.id, api_token(user))
    assert client.delete(f"/api/v1/sessions/{hall_session.id}/registrations/me",
                         headers=api_token(gone)).status_code == 204
    db.rollback()
    with unit_of_work(db):  # the registration notices are not what this test is about
        db.execute(OutboxMessage.__table__.delete())

    response = client.patch(f"/api/v1/sessions/{hall_session.id}", json={"place": NEW}, headers=staff)
    assert response.status_code == 200, response.get_json()
    rows = notices(db)
    assert sorted((row.kind, row.user_id, row.params["session_id"]) for row in rows) == [
        ("session_relocated", arabic.id, hall_session.id), ("session_relocated", english.id, hall_session.id)]

    texts = delivered(app, db)
    assert set(texts) == {arabic.email, english.email}
    assert "ستُعقد الجلسة التي سجّلت فيها في مكان جديد" in texts[arabic.email]
    assert "المكان: مركز سترة, Road 12, Sitra" in texts[arabic.email]
    assert "openstreetmap.org/?mlat=26.154700&mlon=50.620300" in texts[arabic.email]
    assert "قاعة المحافظة" not in texts[arabic.email]
    assert "will be held at a new place. Your registration stays." in texts[english.email]
    assert "Place: Sitra centre, Road 12, Sitra" in texts[english.email]
    assert "Governorate hall" not in texts[english.email]


def test_other_seats_or_the_same_place_again_tell_nobody_until_the_place_changes(client, db, hall_session, staff,
                                                                                 make_user, api_token):
    resident = make_user()
    register(client, hall_session.id, api_token(resident))
    closes = (hall_session.starts_at - timedelta(hours=2)).isoformat()
    for change in ({"capacity": 20, "in_person_capacity": 30}, {"registration_closes_at": closes},
                   {"place": {"name_ar": OLD["place_name_ar"], "name_en": OLD["place_name_en"],
                              "address": OLD["place_address"], "lat": OLD["latitude"], "lon": OLD["longitude"]}}):
        response = client.patch(f"/api/v1/sessions/{hall_session.id}", json=change, headers=staff)
        assert response.status_code == 200, response.get_json()
    assert notices(db) == []
    # The same edit with another address is news.
    response = client.patch(f"/api/v1/sessions/{hall_session.id}", headers=staff, json={
        "capacity": 25, "place": {"name_ar": OLD["place_name_ar"], "name_en": OLD["place_name_en"],
                                  "address": "Road 2, Manama", "lat": OLD["latitude"], "lon": OLD["longitude"]}})
    assert response.status_code == 200, response.get_json()
    assert [(row.kind, row.user_id) for row in notices(db)] == [("session_relocated", resident.id)]


def test_a_new_time_and_place_in_one_edit_is_one_notice_that_says_both(app, client, db, hall_session, staff,
                                                                       make_user, api_token):
    people = [make_user(locale="en"), make_user(locale="en")]
    for user in people:
        register(client, hall_session.id, api_token(user))
    new_start = (hall_session.starts_at + timedelta(hours=2)).isoformat()
    response = client.patch(f"/api/v1/sessions/{hall_session.id}", json={"starts_at": new_start, "place": NEW},
                            headers=staff)
    assert response.status_code == 200, response.get_json()
    rows = notices(db)
    assert sorted((row.kind, row.user_id) for row in rows) == sorted(
        ("session_relocated", user.id) for user in people)
    texts = delivered(app, db)
    for user in people:
        assert "moved to a new time and will be held at a new place" in texts[user.email]
        assert "Sitra centre" in texts[user.email]


def test_going_online_tells_the_online_registrants_there_is_no_hall(app, client, db, hall_session, staff, make_user,
                                                                    api_token):
    online = make_user(locale="en")
    response = client.post(f"/api/v1/sessions/{hall_session.id}/registrations", headers=api_token(online),
                           json={"mode": "online"})
    assert response.status_code == 201, response.get_json()
    response = client.patch(f"/api/v1/sessions/{hall_session.id}", headers=staff,
                            json={"format": "online", "place": None, "in_person_capacity": 0})
    assert response.status_code == 200, response.get_json()
    assert [(row.kind, row.user_id) for row in notices(db)] == [("session_relocated", online.id)]
    text = delivered(app, db)[online.email]
    assert "no longer held in a hall: it is now online only" in text and "Governorate hall" not in text


def test_a_resident_who_turned_off_session_changes_hears_nothing_of_a_new_place(client, db, hall_session, staff,
                                                                                make_user, api_token):
    quiet, told = make_user(), make_user()
    with unit_of_work(db):
        preferences.set_choices(db, db.get(User, quiet.id), {"session_changed": []}, now=datetime.now(UTC))
    for user in (quiet, told):
        register(client, hall_session.id, api_token(user))
    response = client.patch(f"/api/v1/sessions/{hall_session.id}", json={"place": NEW}, headers=staff)
    assert response.status_code == 200, response.get_json()
    assert [(row.kind, row.user_id) for row in notices(db)] == [("session_relocated", told.id)]


def test_staff_give_a_session_a_new_hall_on_its_page_and_its_registrant_is_told(client, db, hall_session, make_user,
                                                                                api_token, login_as):
    resident = make_user()
    register(client, hall_session.id, api_token(resident))
    login_as(make_user(role=Role.STAFF))
    page = f"/staff/sessions/{hall_session.id}"
    venue = {"format": "hybrid", "in_person_capacity": "10", "place_name_ar": OLD["place_name_ar"],
             "place_name_en": OLD["place_name_en"], "place_address": OLD["place_address"], "place_area_id": "",
             "latitude": str(OLD["latitude"]), "longitude": str(OLD["longitude"])}
    # The page's form as it is pre-filled, with more hall seats: no news.
    response = form_post(client, f"{page}/update", {**update_form(hall_session), **venue, "in_person_capacity": "40"},
                         page=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert notices(db) == []
    response = form_post(client, f"{page}/update", {**update_form(hall_session), **venue,
                                                    "place_name_en": "Sitra centre", "place_name_ar": "مركز سترة"},
                         page=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert [(row.kind, row.user_id) for row in notices(db)] == [("session_relocated", resident.id)]
