"""Faults (issue 16): the database drops its connections, Redis is gone. Nothing lost, nothing doubled, and the
user is told plainly. The scheduler's faults are in tests/test_scheduler_faults.py."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from majlis.db import Database, make_engine
from majlis.enums import RegistrationStatus
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests.conftest import PG_SKIP_REASON, PG_URL
from tests.registration.test_races import _call
from tests.servers import gunicorn
from tests.test_scale_out import _seed


@pytest.fixture
def server(request, tmp_path):
    """One gunicorn (2 gthread workers of 8 threads) on the test's PostgreSQL database, and an admin connection."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    request.getfixturevalue("pg_engine")
    url = request.getfixturevalue("pg_url")
    database = Database(url)
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    env = {"DATABASE_URL": url, "MAIL_BACKEND": "null", "REDIS_URL": "", "RATELIMIT_STORAGE_URI": "memory://",
           "MAJLIS_RATELIMIT_PREFIX": f"faults-{uuid.uuid4().hex}", "MAJLIS_INSTANCE_PATH": str(tmp_path / "i")}
    with gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=8) as base:
        yield {"base": base, "database": database, "admin": admin, "log": tmp_path / "gunicorn.log"}
    database.engine.dispose()
    admin.dispose()
    from tests.conftest import _truncate

    engine = request.getfixturevalue("pg_engine")
    engine.dispose()  # its pooled connections were dropped too
    _truncate(engine)


def _drop_every_connection(admin) -> int:
    """What a PostgreSQL restart or failover does to the app: every other backend of the database is ended."""
    with admin.connect() as connection:
        return len(connection.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").all())


def test_postgresql_dropping_every_connection_mid_burst_loses_and_doubles_nothing(server):
    session_id, tokens, _ = _seed(server["database"], residents=60, capacity=25)
    url = server["base"] + f"/api/v1/sessions/{session_id}/registrations"
    # Warm the pools: each worker holds connections the server is about to drop.
    for token in tokens[:8]:
        assert _call("GET", server["base"] + "/api/v1/me", token)[0] == 200
    results: dict[int, tuple[int, dict]] = {}
    start = threading.Barrier(len(tokens) + 1)

    def register(index: int, token: str) -> None:
        start.wait()
        time.sleep(index * 0.01)
        results[index] = _call("POST", url, token)

    threads = [threading.Thread(target=register, args=(i, t)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(0.25)  # mid-burst
    dropped = _drop_every_connection(server["admin"])
    for thread in threads:
        thread.join(60)
    assert dropped > 0

    unavailable = [i for i, (status, _) in results.items() if status == 503]
    for status, body in results.values():
        assert status in (201, 503), body
        if status == 503:
            assert body["error"]["code"] == "database_unavailable"
    # The next request works without a restart; one refused before is answered now (or was in fact saved).
    for index in unavailable:
        status, body = _call("POST", url, tokens[index])
        assert status == 201 or (status == 409 and body["error"]["code"] == "already_registered"), body
    assert _call("GET", server["base"] + "/healthz", tokens[0])[0] == 200

    server["database"].engine.dispose()  # the test's own connections were dropped with the others
    with server["database"].session_factory() as db:
        counts = dict(db.execute(select(Registration.status, func.count()).where(
            Registration.session_id == session_id).group_by(Registration.status)).all())
        row = db.get(MajlisSession, session_id)
        assert counts.get(RegistrationStatus.CONFIRMED, 0) == row.confirmed_count == 25
        assert counts.get(RegistrationStatus.WAITLISTED, 0) == row.waitlist_count == 35
        assert db.scalar(select(func.count()).select_from(Registration)
                         .where(Registration.session_id == session_id)) == 60
