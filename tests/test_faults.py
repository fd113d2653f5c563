"""Faults (issue 16): the database drops its connections, Redis is gone. Nothing lost, nothing doubled, and the
user is told plainly. The scheduler's faults are in tests/test_scheduler_faults.py."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from majlis import create_app
from majlis.db import Database, make_engine, unit_of_work
from majlis.enums import RegistrationStatus
from majlis.registration.models import Registration
from majlis.sessions import live
from majlis.sessions.models import MajlisSession
from tests import factories
from tests.conftest import PG_SKIP_REASON, PG_URL, REDIS_SKIP_REASON, REDIS_URL, form_post
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


@pytest.fixture
def redis_down(app_config, monkeypatch):
    """The app as production configures it with REDIS_URL set, but nothing listens there."""
    from tests.mailbox import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    app = create_app({**app_config, "MAJLIS_LIVE_STREAM_SECONDS": 4})
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    yield app
    app.extensions["majlis_db"].engine.dispose()


def test_without_redis_pages_sign_up_login_and_registration_still_work(redis_down, db, make_user):
    client = redis_down.test_client()
    user = make_user()
    now = datetime.now(UTC)
    with unit_of_work(db):
        row = factories.majlis_session(db, capacity=5, starts_at=now + timedelta(days=2),
                                       registration_opens_at=now - timedelta(hours=1))
    assert client.get("/").status_code == 200
    assert client.get(f"/sessions/{row.id}").status_code == 200
    signed_up = client.post("/api/v1/auth/signup", json={"email": "new.resident@example.com", "name": "Huda Saleh",
                                                         "password": "A-long-enough-secret-9"})
    assert signed_up.status_code == 201, signed_up.get_json()
    assert form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 302
    app_client = redis_down.test_client()  # the app: a bearer token, no cookie
    token = app_client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD})
    assert token.status_code in (200, 201), token.get_json()
    registered = app_client.post(f"/api/v1/sessions/{row.id}/registrations",
                             headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert registered.status_code == 201, registered.get_json()

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": "up", "redis": "degraded"}


def test_without_redis_rate_limits_count_in_memory(redis_down, make_user):
    client = redis_down.test_client()
    user = make_user()
    statuses = []
    for attempt in range(11):
        # Several accounts: the per-account throttle (in the database) must not be what answers 429 here.
        email = user.email if attempt % 3 == 0 else f"guess{attempt}@example.com"
        statuses.append(client.post("/api/v1/auth/token",
                                    json={"email": email, "password": f"Wrong-{attempt}-x"}).status_code)
    assert statuses == [401] * 10 + [429]


def test_without_redis_live_updates_fall_back_to_polling(redis_down, db):
    with unit_of_work(db):
        row = factories.majlis_session(db)
        live.bump(db, row.id)
    client = redis_down.test_client()
    response = client.get(f"/sessions/{row.id}/events?since=0", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    received = ""
    while "event: version" not in received:
        received += next(chunks).decode()
    first = received
    with unit_of_work(db):
        live.bump(db, row.id)  # a change while the stream waits: no Redis message will say so
    started = time.monotonic()
    for chunk in chunks:
        received += chunk.decode()
        if received.count("event: version") == 2:
            break
    response.close()
    assert received.count("event: version") == 2 and time.monotonic() - started < 3, (first, received)


def test_healthz_says_redis_is_up_when_it_answers(app_config, monkeypatch):
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP_REASON)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    app = create_app(app_config)
    assert app.test_client().get("/healthz").get_json() == {"status": "ok", "database": "up", "redis": "up"}
    app.extensions["majlis_db"].engine.dispose()


def test_a_request_run_again_after_a_dropped_connection_counts_once_against_its_limit(request, tmp_path):
    """The view runs a second time on a fresh connection, but the person made one request: one hit on the limit."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)  # only PostgreSQL drops pooled connections
    from majlis.extensions import limiter
    from tests.conftest import _truncate

    url, engine = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_engine")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "MAJLIS_FAST_PASSWORD_HASH": True, "MAIL_BACKEND": "null"})
    client = app.test_client()
    with app.app_context():
        limiter.reset()
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    remaining = []
    try:
        for attempt in range(3):
            assert client.get("/healthz").status_code == 200  # the app's pool holds a connection now
            assert _drop_every_connection(admin) > 0
            response = client.post("/api/v1/auth/signup", json={
                "email": f"after.restart{attempt}@example.com", "name": "Huda Saleh",
                "password": "A-long-enough-secret-9"})
            assert response.status_code == 201, response.get_json()
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    finally:
        admin.dispose()
        app.extensions["majlis_db"].engine.dispose()
        engine.dispose()  # its pooled connections were dropped too
        _truncate(engine)
    assert remaining == [9, 8, 7]  # "10 per hour": one each, although each ran its view twice
