"""Database: UTC instants on both engines, SQLite settings, migrations and the unit of work."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from majlis.db import make_engine, unit_of_work
from majlis.notifications.models import OutboxMessage
from tests import factories


def test_instants_are_stored_as_utc_and_read_back_aware(db, make_user):
    bahrain = timezone(timedelta(hours=3))
    user = make_user(last_login_at=datetime(2026, 12, 1, 19, 0, tzinfo=bahrain))
    db.expunge_all()
    with unit_of_work(db):
        loaded = db.get(type(user), user.id)
    assert loaded.last_login_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert loaded.last_login_at.utcoffset() == timedelta(0)


def test_instants_compare_correctly_in_queries(db, make_user):
    early = make_user(last_login_at=datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))))
    make_user(last_login_at=datetime(2026, 1, 2, 3, 0, tzinfo=timezone(timedelta(hours=3))))
    cutoff = datetime(2026, 1, 2, 1, 0, tzinfo=UTC)  # early is 04:30 UTC on the 2nd: after the cutoff
    later = db.scalars(select(type(early).id).where(type(early).last_login_at > cutoff)).all()
    assert later == [early.id]


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive"):
        with unit_of_work(db):
            factories.user(db, last_login_at=datetime(2026, 1, 1, 12, 0))


def test_unit_of_work_rolls_back_everything_on_error(db, make_user):
    user = make_user()
    with pytest.raises(RuntimeError):
        with unit_of_work(db):
            db.add(OutboxMessage(kind="x", user_id=user.id, to_address=user.email, subject="s", body_text="b"))
            db.flush()
            raise RuntimeError("fails half way")
    assert db.scalar(select(OutboxMessage)) is None


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with unit_of_work(db):
            db.add(OutboxMessage(kind="x", user_id=999_999, to_address="a@example.com", subject="s", body_text="b"))
            db.flush()


def test_sqlite_reads_open_no_transaction_and_writes_begin_immediate(tmp_path):
    from sqlalchemy import event

    from majlis.db import Database

    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    db_session = database.session_factory()
    db_session.execute(text("SELECT 1"))  # a read: no BEGIN, the statement sees what is committed at its start
    with unit_of_work(db_session):
        db_session.execute(text("SELECT 2"))
    db_session.close()
    database.engine.dispose()
    assert statements == ["SELECT 1", "BEGIN IMMEDIATE", "SELECT 2"]


def test_postgresql_reads_leave_no_transaction_open(pg_url):
    """A read costs its statement: the connection is not left 'idle in transaction' (no BEGIN, no ROLLBACK)."""
    from majlis.db import Database

    database = Database(pg_url)
    db_session = database.session_factory()
    try:
        pid = db_session.execute(text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as observer:
            state = observer.execute(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            assert state.scalar() == "idle"
        with unit_of_work(db_session):
            level = db_session.execute(text("SHOW transaction_isolation")).scalar()
            in_transaction = db_session.execute(text("SELECT now() = statement_timestamp()")).scalar()
        assert level == "read committed" and in_transaction is False  # a write runs in a real transaction
    finally:
        db_session.close()
        database.engine.dispose()


def test_migrations_build_exactly_the_models_schema(database_url, tmp_path):
    """Alembic's head equals the models on this engine, and upgrading twice is harmless."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import majlis.models as models
    from majlis import migrations

    if database_url.startswith("postgresql"):
        url = _fresh_pg_database(database_url, "majlis_migration_check")
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
        migrations.upgrade(engine)
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={
                "compare_type": True, "include_name": migrations.include_name}), models.Base.metadata)
        assert diff == []
        assert migrations.current_revision(engine) is not None
    finally:
        engine.dispose()
        if url.startswith("postgresql"):
            _drop_pg_database(url)


def _fresh_pg_database(base_url: str, name: str) -> str:
    """An empty database for one test (named per process, so concurrent runs do not collide)."""
    import os

    from sqlalchemy.engine import make_url

    name = f"{name}_{os.getpid()}"
    admin = make_engine(base_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {parsed.database} WITH (FORCE)")
    admin.dispose()


def _try_gate(path, answers):
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        answers.put("taken")
    except BlockingIOError:
        answers.put("busy")
    finally:
        os.close(fd)


def test_sqlite_writers_queue_at_one_gate_across_processes(tmp_path):
    """While a unit of work is open, no other process may pass the gate; afterwards the next one may at once."""
    import multiprocessing

    from majlis.db import Base, Database, write_gate

    database = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    Base.metadata.create_all(database.engine)
    gate = write_gate(database.engine)
    assert gate is not None and gate.path.endswith("gate.db-writers.lock")
    spawn = multiprocessing.get_context("fork")
    answers = spawn.Queue()

    def other_process():
        child = spawn.Process(target=_try_gate, args=(gate.path, answers))
        child.start()
        child.join(30)
        return answers.get(timeout=30)

    with database.session_factory() as db_session:
        with unit_of_work(db_session):
            factories.user(db_session)
            assert other_process() == "busy"
            with unit_of_work(db_session):  # nested in the same session: no second pass through the gate
                factories.user(db_session)
        assert other_process() == "taken"
        with unit_of_work(db_session):
            assert other_process() == "busy"
        assert other_process() == "taken"
    database.engine.dispose()


def test_postgresql_and_memory_databases_have_no_gate():
    from majlis.db import write_gate

    assert write_gate(make_engine("sqlite://")) is None
    assert write_gate(make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/none")) is None
