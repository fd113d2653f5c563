"""Real concurrent requests against several gunicorn worker processes: nobody is ever overbooked."""

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from majlis.auth.services import AccountPolicy, issue_api_token
from majlis.db import Database, unit_of_work
from majlis.enums import RegistrationStatus, SeatMode, SessionFormat
from majlis.registration.models import Registration
from majlis.registration.services import active_registrations
from majlis.sessions.models import MajlisSession
from tests import factories
from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@pytest.fixture
def server(database_url, tmp_path):
    """gunicorn with several sync workers serving wsgi:app on this test's database."""
    env = {"DATABASE_URL": database_url, "MAJLIS_INSTANCE_PATH": str(tmp_path / "instance"), "MAIL_BACKEND": "null"}
    with gunicorn(env, tmp_path / "gunicorn.log", workers=WORKERS) as base:
        yield base


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    yield database
    database.engine.dispose()


def _call(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            body = response.read()
            return response.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _all_at_once(calls):
    """Run the calls in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_forty_residents_race_for_ten_seats(server, database):
    now = datetime.now(UTC)
    db = database.session_factory()
    policy = AccountPolicy(verification_required=False, secret_key="x", fast_hash=True)
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, capacity=10, starts_at=now + timedelta(days=2),
                                                  registration_opens_at=now - timedelta(hours=1))
        residents = [factories.user(db) for _ in range(40)]
        tokens = [issue_api_token(db, user, label="race", policy=policy, now=now)[0] for user in residents]
    session_id = majlis_session.id
    url = f"{server}/api/v1/sessions/{session_id}/registrations"

    results = _all_at_once([lambda t=t: _call("POST", url, t) for t in tokens])
    statuses = [status for status, _ in results]
    assert statuses == [201] * 40, statuses
    bodies = [body for _, body in results]
    assert sum(body["status"] == "confirmed" for body in bodies) == 10
    assert sorted(body["position"] for body in bodies if body["status"] == "waitlisted") == list(range(1, 31))

    db.expire_all()
    row = db.get(MajlisSession, session_id)
    lines = active_registrations(db, row)
    assert (row.confirmed_count, row.waitlist_count) == (10, 30)
    assert [position for _, position in lines if position] == list(range(1, 31))
    # Each answer told its resident the place they hold in the line (the order the lock served them in).
    held = {registration.user_id: position for registration, position in lines}
    assert [held[user.id] for user in residents] == [body["position"] for body in bodies]
    first_two_in_line = {registration.user_id for registration, position in lines if position in (1, 2)}
    confirmed_tokens = [t for t, body in zip(tokens, bodies, strict=True) if body["status"] == "confirmed"][:2]
    db.rollback()

    results = _all_at_once([lambda t=t: _call("DELETE", f"{url}/me", t) for t in confirmed_tokens])
    assert [status for status, _ in results] == [204, 204]
    db.expire_all()
    row = db.get(MajlisSession, session_id)
    confirmed = set(db.scalars(select(Registration.user_id).where(
        Registration.session_id == session_id, Registration.status == RegistrationStatus.CONFIRMED)))
    assert first_two_in_line <= confirmed
    assert (row.confirmed_count, row.waitlist_count) == (10, 28) and len(confirmed) == 10
    assert [position for _, position in active_registrations(db, row) if position] == list(range(1, 29))
    db.close()


def test_two_pools_of_a_hybrid_visit_each_hold_under_a_race(server, database):
    """Residents race for the hall and for the online seats at once: neither pool is overbooked, each line is
    numbered by itself, the counters equal the rows, and a hall seat given up goes to the head of the hall's line."""
    now = datetime.now(UTC)
    db = database.session_factory()
    policy = AccountPolicy(verification_required=False, secret_key="x", fast_hash=True)
    with unit_of_work(db):
        majlis_session = factories.majlis_session(
            db, capacity=5, starts_at=now + timedelta(days=2), registration_opens_at=now - timedelta(hours=1),
            format=SessionFormat.HYBRID, in_person_capacity=4, place_name_ar="قاعة", place_name_en="Hall")
        residents = [factories.user(db) for _ in range(24)]
        tokens = [issue_api_token(db, user, label="race", policy=policy, now=now)[0] for user in residents]
    session_id = majlis_session.id
    url = f"{server}/api/v1/sessions/{session_id}/registrations"
    modes = ["in_person", "online"] * 12

    results = _all_at_once([lambda t=t, m=m: _call("POST", url, t, {"mode": m}) for t, m in zip(tokens, modes,
                                                                                                  strict=True)])
    assert [status for status, _ in results] == [201] * 24, results
    bodies = [body for _, body in results]
    for mode, seats in (("in_person", 4), ("online", 5)):
        mine = [body for body in bodies if body["mode"] == mode]
        assert sum(body["status"] == "confirmed" for body in mine) == seats
        assert sorted(body["position"] for body in mine if body["status"] == "waitlisted") == \
            list(range(1, 12 - seats + 1))
    codes = [body["check_in_code"] for body in bodies if body["mode"] == "in_person"]
    assert len(set(codes)) == 12 and not any("check_in_code" in body for body in bodies if body["mode"] == "online")

    db.expire_all()
    row = db.get(MajlisSession, session_id)
    counted = {(mode, status): count for mode, status, count in db.execute(
        select(Registration.mode, Registration.status, func.count()).where(Registration.session_id == session_id)
        .group_by(Registration.mode, Registration.status))}
    assert (row.in_person_confirmed_count, row.in_person_waitlist_count, row.confirmed_count,
            row.waitlist_count) == (4, 8, 5, 7)
    assert counted == {(SeatMode.IN_PERSON, RegistrationStatus.CONFIRMED): 4,
                       (SeatMode.IN_PERSON, RegistrationStatus.WAITLISTED): 8,
                       (SeatMode.ONLINE, RegistrationStatus.CONFIRMED): 5,
                       (SeatMode.ONLINE, RegistrationStatus.WAITLISTED): 7}
    head_of_hall = next(user.id for user, body in zip(residents, bodies, strict=True)
                        if body["mode"] == "in_person" and body["position"] == 1)
    leaving = next(t for t, body in zip(tokens, bodies, strict=True)
                   if body["mode"] == "in_person" and body["status"] == "confirmed")
    db.rollback()

    assert _call("DELETE", f"{url}/me", leaving)[0] == 204
    db.expire_all()
    row = db.get(MajlisSession, session_id)
    promoted = db.scalar(select(Registration.status).where(Registration.session_id == session_id,
                                                           Registration.user_id == head_of_hall))
    assert promoted == RegistrationStatus.CONFIRMED
    assert (row.in_person_confirmed_count, row.in_person_waitlist_count, row.confirmed_count,
            row.waitlist_count) == (4, 7, 5, 7)
    db.close()
