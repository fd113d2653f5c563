"""Cached hot reads (majlis/cache.py, majlis/fastpath.py): the same answers as Flask, and never a stale one.

Each test reads through the real WSGI stack (the test client calls the app, whose outermost layer is the fast
path), changes something the way a user does (the API, another app instance on the same database, the scheduler's
bulk update, a restore), and reads again.
"""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from majlis import cache, create_app
from majlis.db import get_database, unit_of_work
from majlis.enums import Role, SessionStatus, Visibility
from majlis.sessions import lifecycle
from majlis.sessions.models import MajlisSession
from tests import factories

ONE_RESPONSE_HEADERS = {"x-request-id", "date"}


@pytest.fixture
def flask_runs(app):
    """How many requests reached Flask (the fast path answers the others)."""
    calls = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: calls.append(1) and None)
    return calls


@pytest.fixture
def sessions(db):
    with unit_of_work(db):
        public = factories.majlis_session(db, title_en="Open majlis")
        invited = factories.majlis_session(db, title_en="Closed coordination", visibility=Visibility.INVITED)
    return public, invited


def _headers(response) -> dict:
    return {name.lower(): value for name, value in response.headers if name.lower() not in ONE_RESPONSE_HEADERS}


def _summaries(body: bytes) -> list[str]:
    return sorted(str(event["SUMMARY"]) for event in Calendar.from_ical(body).walk("VEVENT"))


def test_feed_from_the_fast_path_is_flasks_answer_byte_for_byte(app, client, sessions, flask_runs):
    first = client.get("/calendar/majlis.ics")
    second = client.get("/calendar/majlis.ics")
    assert len(flask_runs) == 1  # the second came from the store
    assert second.status_code == first.status_code == 200
    assert second.data == first.data
    assert _headers(second) == _headers(first)
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert second.headers["Content-Security-Policy"].startswith("default-src 'self'")

    etag = first.headers["ETag"]
    app.config["MAJLIS_FAST_PATH"] = False
    flask_304 = client.get("/calendar/majlis.ics", headers={"If-None-Match": etag})
    app.config["MAJLIS_FAST_PATH"] = True
    fast_304 = client.get("/calendar/majlis.ics", headers={"If-None-Match": etag})
    assert fast_304.status_code == flask_304.status_code == 304
    assert fast_304.data == b""
    assert _headers(fast_304) == _headers(flask_304)

    head = client.head("/calendar/majlis.ics")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]


def test_feed_shows_a_change_at_once_even_one_made_by_another_app_instance(app, app_config, client, db, sessions,
                                                                             api_token):
    public, _ = sessions
    before = client.get("/calendar/majlis.ics")
    assert "Open majlis" not in before.get_data(as_text=True)  # Arabic by default
    assert client.get("/calendar/majlis.ics", headers={"If-None-Match": before.headers["ETag"]}).status_code == 304

    other = create_app(app_config)  # a second worker or host on the same database
    with unit_of_work(db):
        staff = factories.user(db, role=Role.STAFF)
    moved = (public.starts_at + timedelta(days=1)).astimezone(UTC)
    response = other.test_client().patch(f"/api/v1/sessions/{public.id}", headers=api_token(staff),
                                         json={"starts_at": moved.isoformat()})
    assert response.status_code == 200, response.get_json()
    get_database(other).engine.dispose()

    after = client.get("/calendar/majlis.ics", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not the 304 of the old feed
    starts = [event.decoded("DTSTART").astimezone(UTC) for event in Calendar.from_ical(after.data).walk("VEVENT")]
    assert moved.replace(microsecond=0) in [start.replace(microsecond=0) for start in starts]


def test_the_schedulers_bulk_updates_raise_the_versions(client, db, sessions):
    public, _ = sessions
    client.get("/calendar/majlis.ics")
    client.get("/calendar/majlis.ics")
    with unit_of_work(db):
        # A guarded bulk update, as the scheduler's start job runs it (no ORM flush involved).
        assert lifecycle.mark_live(db, public.id, now=public.starts_at + timedelta(minutes=1))
    versions = _versions(db)
    assert versions[cache.CALENDAR] >= 1 and versions[cache.SESSIONS] >= 1


def test_other_languages_and_signed_in_readers_go_through_flask(client, sessions, flask_runs):
    arabic = client.get("/calendar/majlis.ics")
    english = client.get("/calendar/majlis.ics?lang=en")
    assert len(flask_runs) == 2
    assert "Open majlis" in _summaries(english.data)
    assert "Open majlis" not in _summaries(arabic.data)
    # The ?lang= choice is remembered in the cookie; a request with the cookie gets English, not the stored Arabic.
    again = client.get("/calendar/majlis.ics")
    assert "Open majlis" in _summaries(again.data)
    assert len(flask_runs) == 3


def test_session_list_counts_a_registration_at_once(client, db, sessions, api_token, flask_runs):
    public, _ = sessions
    with unit_of_work(db):
        reader, resident = factories.user(db), factories.user(db)
    headers = api_token(reader)

    def seats():
        body = client.get("/api/v1/sessions", headers=headers).get_json()
        return next(s["confirmed_count"] for s in body["sessions"] if s["id"] == public.id)

    assert seats() == 0
    assert seats() == 0
    runs = len(flask_runs)
    assert runs == 1
    response = client.post(f"/api/v1/sessions/{public.id}/registrations", headers=api_token(resident))
    assert response.status_code == 201
    assert seats() == 1


def test_session_list_is_per_viewer_class_and_checks_the_token_every_time(client, db, sessions, api_token,
                                                                           flask_runs):
    public, invited = sessions
    with unit_of_work(db):
        staff, resident, official = (factories.user(db, role=Role.STAFF), factories.user(db),
                                     factories.user(db, role=Role.OFFICIAL))
    staff_headers, resident_headers = api_token(staff), api_token(resident)

    def ids(headers):
        response = client.get("/api/v1/sessions", headers=headers)
        assert response.status_code == 200
        return {s["id"] for s in response.get_json()["sessions"]}

    assert ids(staff_headers) == {public.id, invited.id}
    assert ids(staff_headers) == {public.id, invited.id}
    assert ids(resident_headers) == {public.id}  # not the staff's stored list
    assert ids(resident_headers) == {public.id}
    assert ids(api_token(official)) == {public.id, invited.id}
    assert len(flask_runs) == 2  # one build per viewer class

    # A revoked token stops working at once, although its list is stored.
    assert client.delete("/api/v1/auth/token", headers=resident_headers).status_code == 204
    refused = client.get("/api/v1/sessions", headers=resident_headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"

    # So does a token whose user has been disabled, and one that has expired.
    other_headers = api_token(factories_user(db))
    assert ids(other_headers) == {public.id}
    _disable_last_user(db)
    assert client.get("/api/v1/sessions", headers=other_headers).status_code == 401
    late_headers = api_token(factories_user(db))
    assert ids(late_headers) == {public.id}
    _expire_tokens(db)
    assert client.get("/api/v1/sessions", headers=late_headers).status_code == 401
    assert client.get("/api/v1/sessions", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/api/v1/sessions").status_code == 401


def test_list_etag_and_query_filters(client, db, sessions, api_token):
    public, _ = sessions
    with unit_of_work(db):
        reader = factories.user(db)
    headers = api_token(reader)
    first = client.get("/api/v1/sessions", headers=headers)
    etag = first.headers["ETag"]
    assert client.get("/api/v1/sessions", headers={**headers, "If-None-Match": etag}).status_code == 304
    day = public.starts_at.date()
    later = (day + timedelta(days=30)).isoformat()
    assert client.get(f"/api/v1/sessions?from={later}", headers=headers).get_json() == {"sessions": []}
    with unit_of_work(db):
        db.get(MajlisSession, public.id).title_en = "Renamed majlis"
    renamed = client.get("/api/v1/sessions", headers={**headers, "If-None-Match": etag})
    assert renamed.status_code == 200
    assert "Renamed majlis" in {s["title_en"] for s in renamed.get_json()["sessions"]}


def test_versions_move_only_for_what_each_read_shows(app, client, db, sessions, api_token):
    public, _ = sessions
    with unit_of_work(db):
        resident = factories.user(db)
        stamp = db.get(MajlisSession, public.id).updated_at
    start = _versions(db)
    client.post(f"/api/v1/sessions/{public.id}/registrations", headers=api_token(resident))
    after_registration = _versions(db)
    assert after_registration[cache.SESSIONS] == start[cache.SESSIONS] + 1  # the seat counter is listed
    assert after_registration[cache.CALENDAR] == start[cache.CALENDAR]  # ... but not in any feed
    db.rollback()
    assert db.get(MajlisSession, public.id).updated_at == stamp  # so the feed's DTSTAMP stays put

    with unit_of_work(db):
        from majlis import live

        live.bump(db, public.id)  # a question approved: watchers care, lists and feeds do not
    assert _versions(db) == after_registration

    with unit_of_work(db):
        row = db.get(MajlisSession, public.id)
        row.status = SessionStatus.CANCELLED
        row.cancel_reason = "عطلة"
    cancelled = _versions(db)
    assert cancelled[cache.CALENDAR] == after_registration[cache.CALENDAR] + 1
    db.rollback()
    assert db.get(MajlisSession, public.id).updated_at > stamp  # the last change a calendar shows


def test_restore_moves_versions_past_what_workers_built(app, runner, client, db, sessions, tmp_path):
    public, _ = sessions
    client.get("/calendar/majlis.ics")
    target = tmp_path / "backup.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    with unit_of_work(db):
        db.get(MajlisSession, public.id).title_ar = "عنوان بعد النسخة"
    changed = client.get("/calendar/majlis.ics")
    assert "عنوان بعد النسخة" in changed.get_data(as_text=True)
    before_restore = _versions(db)
    db.close()
    assert runner.invoke(args=["restore", str(target), "--yes"]).exit_code == 0
    after_restore = _versions(db)
    assert all(after_restore[s] > before_restore.get(s, 0) for s in cache.SCOPES)
    restored = client.get("/calendar/majlis.ics")
    assert "عنوان بعد النسخة" not in restored.get_data(as_text=True)


def _versions(db) -> dict[str, int]:
    db.rollback()
    with db.get_bind().connect() as connection:
        found = cache.versions_of(connection)
    return {scope: found.get(scope, 0) for scope in cache.SCOPES}


def factories_user(db):
    with unit_of_work(db):
        return factories.user(db)


def _disable_last_user(db):
    from sqlalchemy import select

    from majlis.auth.models import User

    with unit_of_work(db):
        user = db.scalars(select(User).order_by(User.id.desc()).limit(1)).one()
        user.is_disabled = True


def _expire_tokens(db):
    from sqlalchemy import update

    from majlis.auth.models import ApiToken

    with unit_of_work(db):
        db.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_a_worker_whose_callers_all_hold_the_feed_still_answers_them_before_flask(app, app_config, client, sessions):
    etag = client.get("/calendar/majlis.ics").headers["ETag"]
    fresh = create_app(app_config)  # another worker: its store is empty, every caller sends the current ETag
    runs = []
    fresh.before_request_funcs.setdefault(None, []).insert(0, lambda: runs.append(1) and None)
    other = fresh.test_client()
    for _ in range(3):
        response = other.get("/calendar/majlis.ics", headers={"If-None-Match": etag, "X-Request-ID": "abcdef123456"})
        assert response.status_code == 304
        assert response.headers["X-Request-ID"] == "abcdef123456"
    assert len(runs) == 1  # Flask built it once, unconditionally; the store answered from then on
    get_database(fresh).engine.dispose()


def test_a_change_rolled_back_with_a_savepoint_still_raises_the_version_of_what_commits(db, sessions):
    public, _ = sessions
    start = _versions(db)
    with unit_of_work(db):
        try:
            with db.begin_nested():
                db.get(MajlisSession, public.id).title_en = "Never shown"
                db.flush()
                raise RuntimeError("the savepoint is rolled back")
        except RuntimeError:
            pass
        db.get(MajlisSession, public.id).title_en = "Shown"
    after = _versions(db)
    assert after[cache.CALENDAR] == start[cache.CALENDAR] + 1
    assert after[cache.SESSIONS] == start[cache.SESSIONS] + 1


def test_if_match_on_a_stored_feed_is_answered_as_flask_answers_it(app, client, sessions):
    etag = client.get("/calendar/majlis.ics").headers["ETag"]
    app.config["MAJLIS_FAST_PATH"] = False
    flask = client.get("/calendar/majlis.ics", headers={"If-Match": etag, "If-None-Match": etag})
    app.config["MAJLIS_FAST_PATH"] = True
    fast = client.get("/calendar/majlis.ics", headers={"If-Match": etag, "If-None-Match": etag})
    assert fast.status_code == flask.status_code


# --- registrations: a burst when registration opens ----------------------------------------------------------------


@pytest.fixture
def opening(db):
    """A public session whose registration is open now, with one seat."""
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + timedelta(days=3), capacity=1,
                                        registration_opens_at=now - timedelta(minutes=5))


def _register(client, session_id, headers):
    return client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers)


def _through_flask(app, client, session_id, headers):
    app.config["MAJLIS_FAST_PATH"] = False
    try:
        return _register(client, session_id, headers)
    finally:
        app.config["MAJLIS_FAST_PATH"] = True


def _outbox_of(db, user):
    from sqlalchemy import select

    from majlis.notifications.models import OutboxMessage

    db.expire_all()
    rows = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).all()
    return [(m.kind, m.to_address, m.subject, m.body_text, m.ics, m.status, m.send_after is not None) for m in rows]


def test_registrations_answered_before_flask_are_flasks_answers(app, client, db, opening, api_token, flask_runs):
    from sqlalchemy import select

    from majlis.enums import RegistrationStatus
    from majlis.registration import notices
    from majlis.registration.models import Registration

    with unit_of_work(db):
        first, second, third, english = (factories.user(db), factories.user(db), factories.user(db),
                                         factories.user(db, locale="en"))
    versions = _versions(db)
    seated = _through_flask(app, client, opening.id, api_token(first))  # builds this worker's e-mail .ics
    assert seated.status_code == 201 and seated.get_json()["status"] == "confirmed"
    runs = len(flask_runs)

    waiting = _register(client, opening.id, api_token(second))
    behind = _register(client, opening.id, api_token(third))
    assert len(flask_runs) == runs  # both written before Flask
    assert waiting.status_code == behind.status_code == 201
    assert waiting.get_json() == {"id": waiting.get_json()["id"], "session_id": opening.id, "status": "waitlisted",
                                  "position": 1}
    assert behind.get_json()["position"] == 2
    assert _headers(waiting) == {**_headers(seated), "content-length": waiting.headers["Content-Length"]}

    # What Flask writes for the same arrival: the rows, the counters, the notice, the versions.
    reference = _through_flask(app, client, opening.id, api_token(english))
    assert reference.get_json()["position"] == 3
    db.expire_all()
    row = db.get(MajlisSession, opening.id)
    assert (row.confirmed_count, row.waitlist_count) == (1, 3)
    line = db.execute(select(Registration.user_id, Registration.status, Registration.id, Registration.created_at,
                             Registration.updated_at, Registration.confirmed_at)
                      .where(Registration.session_id == opening.id,
                             Registration.status == RegistrationStatus.WAITLISTED)
                      .order_by(Registration.queued_at, Registration.id)).all()
    assert [user_id for user_id, *_ in line] == [second.id, third.id, english.id]
    assert line[0][2] == waiting.get_json()["id"]
    assert all(created is not None and updated == created and confirmed is None
               for *_, created, updated, confirmed in line)
    assert _versions(db)[cache.SESSIONS] == versions[cache.SESSIONS] + 4
    assert _versions(db)[cache.CALENDAR] == versions[cache.CALENDAR]  # seats are not in the calendars
    with app.test_request_context():
        ics = notices._ics(row, "ar")
        expected = notices.registered_message(row, "ar", RegistrationStatus.WAITLISTED, 1, ics=ics)
    [message] = _outbox_of(db, second)
    assert message == (expected["kind"], second.email, expected["subject"], expected["body_text"], ics,
                       message[5], True)
    assert message[5].value == "pending"
    [english_message] = _outbox_of(db, english)  # Flask's, in English, for the same session
    assert english_message[0] == message[0] == "registration_waitlisted"
    assert "waiting list" in english_message[2] and "number 3 in line" in english_message[3]

    listed = client.get("/api/v1/sessions", headers=api_token(first)).get_json()["sessions"]
    assert next(s for s in listed if s["id"] == opening.id)["waitlist_count"] == 3


@pytest.mark.parametrize("change, status, code", [
    ("registered before", 409, "already_registered"),
    ("cancelled before", 201, None),
    ("registration closed", 409, "registration_closed"),
    ("session cancelled", 409, "session_cancelled"),
    ("invitation only", 403, "invited_only"),
    ("not a resident", 403, "residents_only"),
    ("token revoked", 401, "invalid_token"),
])
def test_registrations_the_fast_path_does_not_take_are_flasks(app, client, db, opening, api_token, flask_runs,
                                                               change, status, code):
    from sqlalchemy import func, select

    from majlis.auth.models import ApiToken, User
    from majlis.notifications.models import OutboxMessage
    from majlis.registration.models import Registration

    with unit_of_work(db):
        primer, user = factories.user(db), factories.user(db)
    assert _through_flask(app, client, opening.id, api_token(primer)).status_code == 201
    headers = api_token(user)
    if change in ("registered before", "cancelled before"):
        assert _register(client, opening.id, headers).status_code == 201
    if change == "cancelled before":
        assert client.delete(f"/api/v1/sessions/{opening.id}/registrations/me", headers=headers).status_code == 204
    with unit_of_work(db):
        row = db.get(MajlisSession, opening.id)
        now = datetime.now(UTC)
        if change == "registration closed":
            row.registration_closes_at = now - timedelta(minutes=1)
        elif change == "session cancelled":
            row.status = SessionStatus.CANCELLED
        elif change == "invitation only":
            row.visibility = Visibility.INVITED
        elif change == "not a resident":
            db.get(User, user.id).role = Role.STAFF
        elif change == "token revoked":
            db.scalar(select(ApiToken).where(ApiToken.user_id == user.id)).revoked_at = now
    _build_notice_ics(app, db, opening.id)  # so that the refusal is take_seat's, not a missing .ics

    def state():
        db.expire_all()
        counts = db.get(MajlisSession, opening.id)
        rows = db.execute(select(Registration.user_id, Registration.status).order_by(Registration.id)).all()
        result = (counts.confirmed_count, counts.waitlist_count, rows,
                  db.scalar(select(func.count()).select_from(OutboxMessage)), _versions(db))
        db.rollback()
        return result

    before, runs = state(), len(flask_runs)
    response = _register(client, opening.id, headers)
    assert len(flask_runs) == runs + 1  # Flask answered
    assert response.status_code == status
    if code is None:  # back to the end of the line, through `register`
        assert response.get_json()["status"] == "waitlisted" and response.get_json()["position"] == 1
    else:
        assert response.get_json()["error"]["code"] == code
        assert state() == before


def _build_notice_ics(app, db, session_id):
    """The e-mail .ics of the session as it is now, built in this worker (as Flask's first registration does)."""
    from majlis.registration import notices

    db.expire_all()
    row = db.get(MajlisSession, session_id)
    with app.test_request_context():
        for language in ("ar", "en"):
            notices._ics(row, language)
    db.rollback()


def _seat(app, session_id, headers, now, notice):
    """`take_seat` as the fast path runs it: a write transaction (at the writers' gate on SQLite), committed unless
    it declines."""
    import contextlib

    from majlis.db import get_database, write_gate
    from majlis.registration import services
    from majlis.security import token_digest

    engine = get_database(app).engine
    gate = write_gate(engine)
    digest = token_digest(headers["Authorization"].removeprefix("Bearer "))
    with gate.held() if gate else contextlib.nullcontext(), \
            engine.connect().execution_options(majlis_write=True) as connection, connection.begin() as transaction:
        seat = services.take_seat(connection, session_id, digest, now=now, notice=notice)
        if seat is None:
            transaction.rollback()
        return seat


def _plain_notice(*_):
    return {"kind": "registration_confirmed", "subject": "s", "body_text": "b", "ics": None}


def test_take_seat_writes_nothing_without_its_notice(app, db, opening, api_token):
    from sqlalchemy import func, select

    from majlis.notifications.models import OutboxMessage
    from majlis.registration.models import Registration

    with unit_of_work(db):
        resident = factories.user(db)
    headers = api_token(resident)
    assert _seat(app, opening.id, headers, datetime.now(UTC), lambda *_: None) is None
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.get(MajlisSession, opening.id).confirmed_count == 0
    seat = _seat(app, opening.id, headers, datetime.now(UTC), _plain_notice)
    assert seat is not None and seat.status.value == "confirmed" and seat.position is None
    db.rollback()
    assert db.get(MajlisSession, opening.id).confirmed_count == 1


def test_take_seat_puts_a_late_served_arrival_behind_the_line(app, db, opening, api_token):
    """A request that read the clock before waiting for the lock is still served after those ahead of it."""
    from sqlalchemy import select

    from majlis.registration import services
    from majlis.registration.models import Registration

    with unit_of_work(db):
        residents = [factories.user(db) for _ in range(3)]
    now = datetime.now(UTC)
    # Served in this order, with clocks read in the opposite order.
    for resident, clock in zip(residents, (now, now - timedelta(seconds=1), now - timedelta(seconds=2)), strict=True):
        assert _seat(app, opening.id, api_token(resident), clock, _plain_notice) is not None
    db.rollback()
    line = db.execute(select(Registration.user_id, Registration.queued_at).where(Registration.session_id == opening.id)
                      .order_by(Registration.queued_at, Registration.id)).all()
    assert [user_id for user_id, _ in line] == [resident.id for resident in residents]
    assert line[0][1] == now
    assert line[1][1] == now + timedelta(microseconds=1) and line[2][1] == now + timedelta(microseconds=2)
    places = [place for _, place in services.active_registrations(db, db.get(MajlisSession, opening.id))]
    assert places == [None, 1, 2]


def _waiting_for_a_lock(db, count: int = 1) -> None:
    """Until `count` other backends wait for a row lock (PostgreSQL), at most ten seconds."""
    import time

    from sqlalchemy import text

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = db.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock'")).scalar()
        db.rollback()
        if waiting >= count:
            return
        time.sleep(0.02)
    raise AssertionError("no request came to wait for the lock")


def _in_thread(work):
    import threading

    result = {}

    def run():
        try:
            result["value"] = work()
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_take_seat_twice_at_once_for_one_resident_writes_one_registration(app, db, opening, api_token):
    """Two registrations of one resident, the second waiting for the first's lock: one seat, and `None` for the
    second (its read of the registrations predates the first's commit; the unique key refuses the row). PostgreSQL
    only: on SQLite the writers' gate serialises whole transactions, so the second reads the first's row."""
    from sqlalchemy import func, select

    from majlis.db import get_database
    from majlis.registration import services
    from majlis.registration.models import Registration
    from majlis.security import token_digest

    with unit_of_work(db):
        resident = factories.user(db)
    digest = token_digest(api_token(resident)["Authorization"].removeprefix("Bearer "))
    engine = get_database(app).engine
    now = datetime.now(UTC)
    with engine.connect() as first:
        transaction = first.begin()
        assert services.take_seat(first, opening.id, digest, now=now, notice=_plain_notice) is not None

        def second():
            with engine.connect() as connection, connection.begin():
                return services.take_seat(connection, opening.id, digest, now=now, notice=_plain_notice)

        thread, result = _in_thread(second)
        _waiting_for_a_lock(db)
        transaction.commit()
        thread.join(timeout=30)
    assert "error" not in result and result["value"] is None
    assert db.scalar(select(func.count()).select_from(Registration)) == 1
    assert db.get(MajlisSession, opening.id).confirmed_count == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_take_seat_and_an_account_change_do_not_deadlock(app, db, opening, api_token):
    """An account change holds the user's row and raises the list's counter at its commit (deleting an account
    cancels its registrations); a registration of that user meanwhile waits for the user's row before it takes the
    counter row, so both finish."""
    from sqlalchemy import text

    from majlis.db import get_database
    from majlis.registration import services
    from majlis.security import token_digest

    with unit_of_work(db):
        resident = factories.user(db)
    digest = token_digest(api_token(resident)["Authorization"].removeprefix("Bearer "))
    engine = get_database(app).engine
    with engine.connect() as account:
        transaction = account.begin()
        account.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": resident.id})

        def register():
            with engine.connect() as connection, connection.begin():
                return services.take_seat(connection, opening.id, digest, now=datetime.now(UTC),
                                          notice=_plain_notice)

        thread, result = _in_thread(register)
        _waiting_for_a_lock(db)
        account.execute(text("UPDATE users SET email = :email WHERE id = :id"),
                        {"email": f"changed-{resident.id}@example.com", "id": resident.id})
        cache.raise_now(account, (cache.SESSIONS,))  # what the ORM does just before this commit
        transaction.commit()
        thread.join(timeout=30)
    assert "error" not in result, result.get("error")
    assert result["value"] is not None and result["value"].status.value == "confirmed"


def test_a_registration_sent_with_a_body_is_judged_by_flask(app, client, db, opening, api_token, flask_runs):
    """The fast path takes no body: a request carrying one (here with a NUL, which Flask refuses) goes to Flask."""
    with unit_of_work(db):
        primer, resident = factories.user(db), factories.user(db)
    assert _through_flask(app, client, opening.id, api_token(primer)).status_code == 201
    runs = len(flask_runs)
    response = client.post(f"/api/v1/sessions/{opening.id}/registrations", headers=api_token(resident),
                           data={"note": "a\x00b"})
    assert len(flask_runs) == runs + 1
    assert response.status_code == 400
    db.expire_all()
    assert db.get(MajlisSession, opening.id).waitlist_count == 0
