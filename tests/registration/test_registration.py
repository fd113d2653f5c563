"""Seats and the waiting line through the API and the session page; every refusal changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from majlis.db import unit_of_work
from majlis.enums import InvitationResponse, RegistrationStatus, Role, SessionStatus, Visibility
from majlis.notifications.models import OutboxMessage
from majlis.registration.models import Registration
from majlis.sessions.models import Invitation, MajlisSession
from tests import factories
from tests.conftest import form_post
from tests.mailbox import Recorder, deliver


@pytest.fixture
def open_session(db):
    """A session three days ahead whose registration is open now, with 2 seats."""
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + timedelta(days=3), capacity=2,
                                        registration_opens_at=now - timedelta(days=1))


@pytest.fixture
def residents(make_user, api_token):
    def make(n):
        return [api_token(make_user()) for _ in range(n)]

    return make


def register(client, session_id, headers):
    return client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers)


def snapshot(db, session_id):
    """Everything a refusal must leave untouched."""
    db.expire_all()
    row = db.get(MajlisSession, session_id)
    registrations = db.execute(select(Registration.user_id, Registration.status, Registration.queued_at)
                               .where(Registration.session_id == session_id).order_by(Registration.id)).all()
    outbox = db.scalar(select(func.count()).select_from(OutboxMessage))
    db.rollback()
    return (row.confirmed_count, row.waitlist_count, row.capacity, registrations, outbox)


def test_seats_then_the_line_with_positions(client, db, open_session, residents):
    a, b, c, d = residents(4)
    first = register(client, open_session.id, a)
    assert first.status_code == 201
    assert {k: first.get_json()[k] for k in ("session_id", "status", "position")} == {
        "session_id": open_session.id, "status": "confirmed", "position": None}
    assert register(client, open_session.id, b).get_json()["status"] == "confirmed"
    third = register(client, open_session.id, c)
    assert third.status_code == 201 and third.get_json()["status"] == "waitlisted"
    assert third.get_json()["position"] == 1
    assert register(client, open_session.id, d).get_json()["position"] == 2
    db.expire_all()
    row = db.get(MajlisSession, open_session.id)
    assert (row.confirmed_count, row.waitlist_count) == (2, 2)


def test_cancelling_a_seat_promotes_the_head_of_the_line_and_renumbers(client, db, open_session, residents):
    a, b, c, d = residents(4)
    for headers in (a, b, c, d):
        register(client, open_session.id, headers)
    assert client.delete(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=a).status_code == 204
    assert client.get(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=c).get_json()["status"] == \
        "confirmed"
    assert client.get(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=d).get_json()["position"] == 1
    db.rollback()
    kinds = db.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds.count("registration_promoted") == 1


def test_leaving_the_line_moves_the_people_behind_up(client, open_session, residents):
    a, b, c, d, e = residents(5)
    for headers in (a, b, c, d, e):
        register(client, open_session.id, headers)
    client.delete(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=c)
    assert client.get(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=d).get_json()["position"] == 1
    assert client.get(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=e).get_json()["position"] == 2


def test_re_registering_after_cancelling_goes_to_the_back(client, open_session, residents):
    a, b, c = residents(3)
    for headers in (a, b, c):
        register(client, open_session.id, headers)
    client.delete(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=a)  # c takes the seat
    again = register(client, open_session.id, a)
    assert again.status_code == 201
    assert (again.get_json()["status"], again.get_json()["position"]) == ("waitlisted", 1)


def test_registering_twice_is_409_and_changes_nothing(client, db, open_session, residents):
    [a] = residents(1)
    register(client, open_session.id, a)
    before = snapshot(db, open_session.id)
    response = register(client, open_session.id, a)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_registered"
    assert snapshot(db, open_session.id) == before


@pytest.mark.parametrize("changes, status, code", [
    ({"registration_opens_at": "future"}, 409, "registration_closed"),
    ({"registration_closes_at": "past"}, 409, "registration_closed"),
    ({"status": SessionStatus.CANCELLED}, 409, "session_cancelled"),
    ({"visibility": Visibility.INVITED}, 404, "not_found"),  # to an outsider, an invited session does not exist
])
def test_refusals_change_nothing(client, db, open_session, residents, changes, status, code):
    now = datetime.now(UTC)
    values = {"future": now + timedelta(hours=1), "past": now - timedelta(minutes=1)}
    with unit_of_work(db):
        row = db.get(MajlisSession, open_session.id)
        for key, value in changes.items():
            setattr(row, key, values.get(value, value) if isinstance(value, str) else value)
    [a] = residents(1)
    before = snapshot(db, open_session.id)
    response = register(client, open_session.id, a)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert snapshot(db, open_session.id) == before


def test_staff_and_officials_do_not_register_as_residents(client, db, open_session, make_user, api_token):
    response = register(client, open_session.id, api_token(make_user(role=Role.STAFF)))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "residents_only"


def test_unknown_session_and_cancel_without_registration(client, open_session, residents):
    [a] = residents(1)
    assert register(client, 999999, a).status_code == 404
    response = client.delete(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=a)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_registered"


def test_invited_residents_may_register_for_an_invited_session(client, db, open_session, make_user, api_token):
    invitee = make_user()
    with unit_of_work(db):
        row = db.get(MajlisSession, open_session.id)
        row.visibility = Visibility.INVITED
        db.add(Invitation(session_id=row.id, user_id=invitee.id, created_at=datetime.now(UTC)))
    assert register(client, open_session.id, api_token(invitee)).status_code == 201
    with unit_of_work(db):
        db.scalar(select(Invitation)).response = InvitationResponse.DECLINED
    other = make_user()
    assert register(client, open_session.id, api_token(other)).status_code == 404  # not invited: no such session


def test_raising_capacity_promotes_and_lowering_keeps_everyone(client, db, open_session, residents, make_user,
                                                                api_token):
    staff = api_token(make_user(role=Role.STAFF))
    people = residents(5)
    for headers in people:
        register(client, open_session.id, headers)
    response = client.patch(f"/api/v1/sessions/{open_session.id}", json={"capacity": 4}, headers=staff)
    assert response.status_code == 200
    assert response.get_json()["confirmed_count"] == 4 and response.get_json()["waitlist_count"] == 1
    lowered = client.patch(f"/api/v1/sessions/{open_session.id}", json={"capacity": 1}, headers=staff).get_json()
    assert lowered["capacity"] == 1 and lowered["confirmed_count"] == 4
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Registration).where(
        Registration.status == RegistrationStatus.CONFIRMED)) == 4


def test_staff_see_the_list_with_positions(client, open_session, residents, make_user, api_token):
    people = residents(3)
    for headers in people:
        register(client, open_session.id, headers)
    staff = api_token(make_user(role=Role.MODERATOR))
    listing = client.get(f"/api/v1/sessions/{open_session.id}/registrations", headers=staff).get_json()
    rows = listing["registrations"]
    assert [(r["status"], r["position"], r["attended"]) for r in rows] == [
        ("confirmed", None, False), ("confirmed", None, False), ("waitlisted", 1, False)]
    assert set(rows[0]) == {"user_id", "name", "status", "position", "attended", "joined_at", "left_at",
                            "minutes_present", "mode", "checked_in_at"}
    assert (rows[0]["joined_at"], rows[0]["left_at"], rows[0]["minutes_present"]) == (None, None, None)
    assert client.get(f"/api/v1/sessions/{open_session.id}/registrations", headers=people[0]).status_code == 403


def test_moving_or_cancelling_a_session_tells_every_registrant(app, client, db, open_session, residents, make_user,
                                                                api_token):
    people = residents(3)
    for headers in people:
        register(client, open_session.id, headers)
    staff = api_token(make_user(role=Role.STAFF))
    new_start = (open_session.starts_at + timedelta(hours=2)).isoformat()
    client.patch(f"/api/v1/sessions/{open_session.id}", json={"starts_at": new_start}, headers=staff)
    client.post(f"/api/v1/sessions/{open_session.id}/cancel", json={"reason": "ظرف طارئ"}, headers=staff)
    db.rollback()
    kinds = db.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count("session_moved") == 3 and kinds.count("session_cancelled") == 3
    cancelled = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "session_cancelled")).first()
    assert cancelled.params == {"session_id": open_session.id} and cancelled.body_text is None
    recorder = Recorder()
    deliver(app, db, now=datetime.now(UTC), senders={"email": recorder})
    texts = [message for _, message in recorder.sent if "ظرف طارئ" in message.text]
    assert len(texts) == 3 and all("BEGIN:VCALENDAR" in message.ics for message in texts)


def test_session_page_register_and_cancel(client, db, open_session, make_user, login_as):
    resident = make_user()
    login_as(resident)
    page = client.get(f"/sessions/{open_session.id}").get_data(as_text=True)
    assert f'action="/sessions/{open_session.id}/register"' in page
    assert form_post(client, f"/sessions/{open_session.id}/register", {},
                     page=f"/sessions/{open_session.id}").status_code == 302
    page = client.get(f"/sessions/{open_session.id}").get_data(as_text=True)
    assert "state-confirmed" in page
    assert form_post(client, f"/sessions/{open_session.id}/unregister", {},
                     page=f"/sessions/{open_session.id}").status_code == 302
    db.rollback()
    assert db.scalar(select(Registration.status)) == RegistrationStatus.CANCELLED


def test_cancelling_asks_first_and_the_confirmation_works_without_script(client, db, open_session, make_user,
                                                                          login_as):
    login_as(make_user())
    form_post(client, f"/sessions/{open_session.id}/register", {}, page=f"/sessions/{open_session.id}")
    page = client.get(f"/sessions/{open_session.id}?lang=en").get_data(as_text=True)
    # The session page offers a link to the question, not a form that cancels at once.
    assert f'action="/sessions/{open_session.id}/unregister"' not in page
    assert f'href="/sessions/{open_session.id}/unregister"' in page
    confirm = client.get(f"/sessions/{open_session.id}/unregister")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "You can register again until" in text and "No, keep my place" in text
    db.rollback()
    assert db.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED  # asking changed nothing
    assert form_post(client, f"/sessions/{open_session.id}/unregister", {},
                     page=f"/sessions/{open_session.id}/unregister").status_code == 302
    db.rollback()
    assert db.scalar(select(Registration.status)) == RegistrationStatus.CANCELLED


def test_cancelling_in_the_last_hour_says_the_place_cannot_be_taken_back(client, db, make_user, login_as):
    now = datetime.now(UTC)
    with unit_of_work(db):
        soon = factories.majlis_session(db, starts_at=now + timedelta(minutes=40),
                                        registration_opens_at=now - timedelta(days=1))
        resident = factories.user(db)
        db.add(Registration(session_id=soon.id, user_id=resident.id, status=RegistrationStatus.CONFIRMED,
                            queued_at=now - timedelta(days=1), confirmed_at=now - timedelta(days=1),
                            created_at=now, updated_at=now))
        soon.confirmed_count = 1
    login_as(resident)
    text = client.get(f"/sessions/{soon.id}/unregister").get_data(as_text=True)
    assert "لا يمكن التراجع" in text
    english = client.get(f"/sessions/{soon.id}/unregister?lang=en").get_data(as_text=True)
    assert "This cannot be undone: registration for this session has closed" in english


def test_the_cancel_question_is_not_offered_without_a_place(client, open_session, make_user, login_as):
    login_as(make_user())
    response = client.get(f"/sessions/{open_session.id}/unregister")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sessions/{open_session.id}")


def test_session_page_shows_the_place_in_line(client, db, open_session, make_user, login_as, residents):
    for headers in residents(2):
        register(client, open_session.id, headers)
    resident = make_user()
    login_as(resident)
    form_post(client, f"/sessions/{open_session.id}/register", {}, page=f"/sessions/{open_session.id}")
    page = client.get(f"/sessions/{open_session.id}?lang=en").get_data(as_text=True)
    assert "You are number 1 in line for a seat." in page


def test_page_register_without_csrf_is_refused(client, open_session, make_user, login_as, db):
    login_as(make_user())
    assert client.post(f"/sessions/{open_session.id}/register").status_code == 400
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Registration)) == 0


def test_registrant_csv_has_a_bom_and_arabic_names(client, db, open_session, make_user, login_as, api_token):
    resident = make_user(name="=فاطمة علي")
    register(client, open_session.id, api_token(resident))
    login_as(make_user(role=Role.STAFF))
    response = client.get(f"/staff/sessions/{open_session.id}/registrants.csv")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    text = response.data.decode("utf-8-sig")
    assert "'=فاطمة علي" in text  # a formula-looking name is defused
    assert "مؤكَّد" in text and "confirmed" not in text  # the status in the headers' language
    english = client.get(f"/staff/sessions/{open_session.id}/registrants.csv?lang=en").data.decode("utf-8-sig")
    assert "Status" in english and ",Confirmed," in english
    page = client.get(f"/staff/sessions/{open_session.id}/registrants")
    assert page.status_code == 200


def test_no_cell_of_the_registrant_csv_reads_as_a_formula(client, db, open_session, make_user, login_as, api_token):
    """The probe's finding: names were defused, addresses were not. Every cell of the export is, whatever it holds."""
    import csv
    import io

    with unit_of_work(db):
        area = factories.area(db, name_ar="-المنامة")
    hostile = [
        make_user(email="=HYPERLINK(\"http://evil.example\")@example.com", name="Ali", phone="+97333123456"),
        make_user(email="@sum@example.com", name="\uff1dcmd|' /C calc'!A0", area=area),  # a full-width =
    ]
    for resident in hostile:
        register(client, open_session.id, api_token(resident))
    login_as(make_user(role=Role.STAFF))
    text = client.get(f"/staff/sessions/{open_session.id}/registrants.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    for row in rows:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "\uff1d"), cell
    assert "'=HYPERLINK(\"http://evil.example\")@example.com" in rows[1]
    assert "'+97333123456" in rows[1] and "'-المنامة" in rows[2]


@pytest.mark.parametrize("value, expected", [
    ("=1+2", "'=1+2"), ("+973", "'+973"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("|calc", "'|calc"), ("\uff1d1+2", "'\uff1d1+2"), (" =1+2", "' =1+2"),
    ("\u200b=1+2", "'\u200b=1+2"), (-3, "'-3"), ("فاطمة", "فاطمة"), ("a=b", "a=b"), (7, "7"), (None, ""), ("", ""),
])
def test_csv_cells_are_defused(value, expected):
    from majlis.csvexport import defuse

    assert defuse(value) == expected


def test_registrant_list_is_for_staff_only(client, open_session, make_user, login_as):
    login_as(make_user())
    assert client.get(f"/staff/sessions/{open_session.id}/registrants").status_code == 403
    assert client.get(f"/staff/sessions/{open_session.id}/registrants.csv").status_code == 403


def test_reminders_are_queued_once_each(app, db, open_session, client, residents):
    from scheduler.runner import run_due

    for headers in residents(2):
        register(client, open_session.id, headers)
    app.config["MAIL_BACKEND"] = "null"
    start = open_session.starts_at
    run_due(app, now=start - timedelta(hours=30))
    run_due(app, now=start - timedelta(hours=23))
    run_due(app, now=start - timedelta(hours=23))
    run_due(app, now=start - timedelta(minutes=50))
    db.rollback()
    leads = db.scalars(select(OutboxMessage.params).where(OutboxMessage.kind == "reminder")).all()
    assert sorted(params["lead_minutes"] for params in leads) == [60, 60, 24 * 60, 24 * 60]


def test_a_late_served_arrival_goes_behind_the_line(app, db, open_session, make_user):
    """A request that read the clock before waiting for the session's lock is still served after those ahead."""
    from majlis.registration import services

    with unit_of_work(db):
        row = db.get(MajlisSession, open_session.id)
        row.capacity = 1
    residents = [make_user() for _ in range(4)]
    now = datetime.now(UTC)
    # Served in this order, with clocks read in the opposite order.
    clocks = (now, now, now - timedelta(seconds=1), now - timedelta(seconds=2))
    for resident, clock in zip(residents, clocks, strict=True):
        with unit_of_work(db):
            services.register(db, open_session.id, resident, now=clock)
    line = db.execute(select(Registration.user_id, Registration.queued_at).where(
        Registration.session_id == open_session.id).order_by(Registration.queued_at, Registration.id)).all()
    assert [user_id for user_id, _ in line] == [resident.id for resident in residents]
    assert line[2][1] == now + timedelta(microseconds=2) and line[3][1] == now + timedelta(microseconds=3)
    places = [place for _, place in services.active_registrations(db, db.get(MajlisSession, open_session.id))]
    assert places == [None, 1, 2, 3]


def test_a_resident_back_after_cancelling_goes_to_the_back_of_the_line(client, db, open_session, residents):
    a, b, c = residents(3)
    for headers in (a, b, c):
        assert register(client, open_session.id, headers).status_code == 201
    assert client.delete(f"/api/v1/sessions/{open_session.id}/registrations/me", headers=a).status_code == 204
    again = register(client, open_session.id, a)  # c took the freed seat; a queues behind nobody
    assert again.status_code == 201 and again.get_json()["status"] == "waitlisted"
    assert again.get_json()["position"] == 1
    db.expire_all()
    row = db.get(MajlisSession, open_session.id)
    assert (row.confirmed_count, row.waitlist_count) == (2, 1)
    assert db.scalar(select(func.count()).select_from(Registration)) == 3  # the same row, not a second one


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_resident_registering_twice_at_once_gets_one_row(app, db, open_session, make_user):
    """The second request waits for the first's lock, and its read of the registrations predates the first's commit:
    the unique key refuses its row and it answers already_registered; one seat is taken."""
    import threading
    import time

    from sqlalchemy import text

    from majlis.db import get_database
    from majlis.errors import Conflict
    from majlis.registration import services

    resident = make_user()
    database = get_database(app)
    first = database.session_factory()
    outcome = {}
    try:
        with app.app_context():
            with unit_of_work(first):
                services.register(first, open_session.id, resident, now=datetime.now(UTC))

                def second():
                    with app.app_context(), database.session_factory() as db_session:
                        try:
                            with unit_of_work(db_session):
                                services.register(db_session, open_session.id, resident, now=datetime.now(UTC))
                        except Conflict as exc:
                            outcome["code"] = exc.code

                thread = threading.Thread(target=second)
                thread.start()
                deadline, waiting = time.monotonic() + 10, 0
                while not waiting and time.monotonic() < deadline:  # until the second waits for the lock
                    time.sleep(0.02)
                    waiting = db.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                              "current_database() AND wait_event_type = 'Lock'")).scalar()
                    db.rollback()
                assert waiting, "the second registration never waited for the session's lock"
            thread.join(timeout=30)
    finally:
        first.close()
    assert outcome == {"code": "already_registered"}
    assert db.scalar(select(func.count()).select_from(Registration)) == 1
    assert db.get(MajlisSession, open_session.id).confirmed_count == 1


def test_a_confirmation_e_mail_gives_the_time_without_seconds_and_the_zone_by_name(app, client, db, open_session,
                                                                                   residents):
    import re

    register(client, open_session.id, residents(1)[0])
    recorder = Recorder()
    deliver(app, db, now=datetime.now(UTC), senders={"email": recorder})
    text = recorder.sent[0][1].text
    assert "(توقيت البحرين)" in text
    assert not re.search(r"\d:\d\d:\d\d", text) and "التوقيت العربي الرسمي" not in text
