"""Fixtures: every app test runs on SQLite, and again on PostgreSQL when MAJLIS_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from majlis import create_app
from majlis.db import Base, get_database, make_engine, unit_of_work
from tests import factories

PG_URL = os.environ.get("MAJLIS_TEST_DATABASE_URL")


def _redis_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker takes its own Redis database, so limits and cached bodies never collide.

    (Pub/sub channels span databases; a message from another worker only makes a stream re-read its version.)
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.removeprefix("gw").isdecimal():
        return url
    return urlsplit(url)._replace(path=f"/{int(worker.removeprefix('gw')) % 16}").geturl()


REDIS_URL = _redis_of_this_worker(os.environ.get("MAJLIS_TEST_REDIS_URL"))
PG_SKIP_REASON = "PostgreSQL run skipped: set MAJLIS_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
REDIS_SKIP_REASON = "Redis test skipped: set MAJLIS_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"


def pytest_report_header(config):
    return [
        "majlis databases: sqlite"
        + (f" + postgresql ({_redact(PG_URL)})" if PG_URL else " only (" + PG_SKIP_REASON + ")"),
        "majlis redis: " + (_redact(REDIS_URL) if REDIS_URL else "none (" + REDIS_SKIP_REASON + ")"),
    ]


def pytest_terminal_summary(terminalreporter):
    """Say plainly what did not run, and why, grouped by reason."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("what was skipped and why")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count:5d} × {reason}")


def _redact(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]+@", r"//\1:***@", url)


@pytest.fixture(scope="session")
def pg_url():
    """A database of this test run's own on the PostgreSQL server, dropped at the end.

    Concurrent runs (a developer and CI, say) each get their own, so their truncations never collide.
    """
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    name = f"majlis_test_{os.getpid()}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    """A PostgreSQL engine with the schema created once; tests truncate after themselves."""
    engine = make_engine(pg_url)
    import majlis.models  # noqa: F401

    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate(engine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The database under test: a fresh SQLite file, or the shared PostgreSQL database emptied afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'majlis.db'}"
        engine = make_engine(url)
        import majlis.models  # noqa: F401

        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    engine = request.getfixturevalue("pg_engine")
    yield request.getfixturevalue("pg_url")
    _truncate(engine)


@pytest.fixture
def empty_database(database_url, tmp_path):
    """An engine on an empty database of the engine under test, for a migration to build up (dropped afterwards)."""
    from tests.test_db import _drop_pg_database, _fresh_pg_database

    if database_url.startswith("postgresql"):
        url = _fresh_pg_database(database_url, "majlis_migration")
    else:
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if url.startswith("postgresql"):
        _drop_pg_database(url)


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MAJLIS_FAST_PASSWORD_HASH": True,
        "MAIL_BACKEND": "null",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["majlis_db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A SQLAlchemy session on the app's database, separate from the sessions requests use.

    No app context stays pushed: requests made by the test client get their own, as in production.
    """
    db_session = get_database(app).session_factory()
    yield db_session
    db_session.close()


@pytest.fixture
def now():
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def make_user(db):
    def make(**overrides):
        with unit_of_work(db):
            return factories.user(db, **overrides)

    return make


@pytest.fixture
def make_body(db):
    def make(**overrides):
        with unit_of_work(db):
            return factories.body(db, **overrides)

    return make


@pytest.fixture
def login_as(client):
    """Sign a user in through the real login form (CSRF token and all)."""

    def login(user, password: str = factories.PASSWORD):
        response = form_post(client, "/login", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login


@pytest.fixture
def api_token(db, app):
    """Issue a bearer token for a user and return the Authorization header."""
    from majlis.auth import services

    def issue(user) -> dict:
        with app.test_request_context(), unit_of_work(db):
            token, _ = services.issue_api_token(db, user, label="test",
                                                policy=services.AccountPolicy.from_config(app.config),
                                                now=datetime.now(UTC))
        return {"Authorization": f"Bearer {token}"}

    return issue


_CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def form_post(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Post a form the way a browser does: load the page, take its CSRF token, submit."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(html)}, **kwargs)
