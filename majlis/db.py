"""Database engine, typed base, UTC datetimes and the unit of work that owns commits."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000
log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator):
    """An instant: stored as UTC on every engine, always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant; pass a timezone-aware value")
        value = value.astimezone(UTC)
        # SQLite keeps no offset; store the UTC wall time so ordering and comparison stay right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _configure_sqlite(engine: Engine) -> None:
    """Apply WAL, foreign keys and a busy timeout, and take control of BEGIN.

    pysqlite's legacy transaction handling does not BEGIN before reads, and a plain
    deferred BEGIN makes concurrent writers fail at once with "database is locked".
    Write units of work therefore start with BEGIN IMMEDIATE (see ``unit_of_work``).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite has no time zones: reports ask Python for an instant's local date (PostgreSQL uses timezone()).
        dbapi_connection.create_function("majlis_local_date", 2, _local_date, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("majlis_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif options.get("majlis_autocommit"):
            return  # a read: each statement sees the committed data of its moment (see Database.reader)
        else:
            conn.exec_driver_sql("BEGIN")


def _local_date(stored: str | None, zone: str | None) -> str | None:
    """The local calendar date, in `zone`, of an instant as SQLite stores it (UTC wall time, no offset)."""
    if stored is None or zone is None:
        return None
    from zoneinfo import ZoneInfo

    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


class WriteGate:
    """One SQLite writer at a time across this machine's processes and threads, queued in the kernel.

    SQLite admits one writer; the others retry from its busy handler, which sleeps 1, 2, 5 ... up to 100 ms between
    tries. Under a burst (registration opening) the lock then sits idle while the waiters sleep, and the p99 grows
    with the sleeps. The gate queues writers instead: an exclusive `flock` on a file beside the database (the kernel
    wakes the next process the moment it is released) and a re-entrant lock for the threads of one process. A
    writer that does not pass the gate (the sqlite3 shell, an old process) is still kept out by SQLite's own lock.
    A process that dies releases its flock with its file descriptors.

    A writer waits as long as the one ahead holds the gate: units of work hold it for database work only, never
    across a network call (mail is sent outside them). Why the wait is unbounded: bench/ANALYSIS.md, 7.
    """

    def __init__(self, database_path: str):
        self.path = f"{database_path}-writers.lock"
        self._pid = None
        self._fd: int | None = None
        self._threads = threading.RLock()
        self._depth = 0

    def _setup(self) -> None:
        # First use, or a forked child: a fork shares the open file (so the flock), and a lock held at the fork by
        # another thread would never be released in the child.
        with _GATE_SETUP:
            if self._pid == os.getpid():
                return
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError as exc:  # a lock file another user made, say: SQLite's own locking still holds
                log.warning("SQLite writers' gate unavailable (%s); relying on the busy timeout", exc)
                self._fd = None
            self._threads = threading.RLock()
            self._depth = 0
            self._pid = os.getpid()  # last: other threads see a complete gate

    @contextlib.contextmanager
    def process_turn(self) -> Iterator[None]:
        """This process's turn only (its threads one at a time), before the machine-wide flock of `held`: a thread
        may take a pooled connection here without others of its process queueing with connections in hand."""
        if self._pid != os.getpid():
            self._setup()
        with self._threads:
            yield

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        import fcntl

        if self._pid != os.getpid():
            self._setup()
        fd = self._fd
        if fd is None:
            yield
            return
        with self._threads:
            if self._depth == 0:
                fcntl.flock(fd, fcntl.LOCK_EX)  # sleeps in the kernel, without the GIL, until it is our turn
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(fd, fcntl.LOCK_UN)


_GATE_SETUP = threading.Lock()


def _write_gate(parsed) -> WriteGate | None:
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or os.name != "posix":
        return None
    path = os.path.realpath(database)
    gate = _GATES.get(path)
    if gate is None:
        gate = _GATES.setdefault(path, WriteGate(path))
    return gate


_GATES: dict[str, WriteGate] = {}  # one per database file in this process, shared by all its engines


def write_gate(engine: Engine) -> WriteGate | None:
    return getattr(engine, "majlis_write_gate", None)


def make_engine(url: str) -> Engine:
    """Create the engine for a SQLAlchemy URL with the settings Majlis relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        engine.majlis_write_gate = _write_gate(parsed)
        return engine
    if parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg2 to SQLAlchemy; Majlis ships psycopg 3.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No ping at checkout (a round trip per request): a connection the server has dropped fails its statement, which
    # invalidates the pool's older connections; the request answers 503 and the next one reconnects.
    return create_engine(url, pool_pre_ping=False)


# PostgreSQL's default, under which Majlis's write rules hold: each statement sees what was committed before it, and
# the rows a transaction locks (a session's seats) are read again after the lock is granted.
WRITE_ISOLATION = "READ COMMITTED"


class Database:
    """The engine of one app and its ORM sessions, which read outside transactions and write in units of work.

    A request that only reads (most of them) costs its statements alone: no BEGIN, no ROLLBACK, no ping. Each
    statement sees the data committed at its start, as each statement of a READ COMMITTED transaction does on
    PostgreSQL, so reads are no less consistent than in a transaction there. `unit_of_work` opens the write
    transaction (BEGIN IMMEDIATE on SQLite, READ COMMITTED on PostgreSQL).
    """

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.write_gate = write_gate(self.engine)
        if self.engine.dialect.name == "sqlite":
            self.reader = self.engine.execution_options(majlis_autocommit=True)  # see _configure_sqlite
            self.write_options = {"majlis_write": True}
        else:
            self.reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self.write_options = {"majlis_write": True, "isolation_level": WRITE_ISOLATION}
        self.session_factory = sessionmaker(bind=self.reader, expire_on_commit=False, info={"majlis_database": self})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def init_app(app: Flask) -> Database:
    database = Database(app.config["SQLALCHEMY_DATABASE_URI"])
    app.extensions["majlis_db"] = database

    @app.teardown_appcontext
    def _close_db_session(_exc):
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()

    return database


def dispatch_once_more_after_a_dropped_connection(dispatch, *, before_again=None):
    """Run a request's view once more when the database dropped its connection before anything was committed.

    There is no ping at checkout (see make_engine), so after a PostgreSQL restart or failover the first statement
    on each pooled connection fails. SQLAlchemy then invalidates the whole pool, and a second run of the view gets a
    fresh connection: the user sees an answer instead of a 503. Only when no commit was started (a dropped COMMIT
    has an unknown outcome, and running the view again could do its work twice); a second failure is the 503.
    `before_again` runs before the second run (the app marks the request's rate limits as already counted).
    """
    from sqlalchemy.exc import DBAPIError

    try:
        return dispatch()
    except DBAPIError as exc:
        db_session = g.get("db_session")
        if not exc.connection_invalidated or (db_session is not None and db_session.info.get("majlis_commits")):
            raise
        log.warning("database connection dropped; running the request once more")
        if db_session is not None:
            db_session.rollback()  # what it had loaded (the signed-in user) is read again on the new connection
        if before_again is not None:
            before_again()
        return dispatch()


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["majlis_db"]


def get_db() -> Session:
    """Return the SQLAlchemy session of the current app context, opening it on first use."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def _end_read(db_session: Session) -> None:
    """End the session's read before a write: what was read is read again under the write lock, except the accounts
    that carry `majlis_kept_across_writes` (the request's signed-in user: one read of it per request is enough)."""
    if db_session.new or db_session.dirty or db_session.deleted:
        db_session.rollback()  # changes made outside a unit of work are never written
        return
    db_session.commit()  # reads run outside transactions: nothing to send, and nothing is expired
    for obj in list(db_session.identity_map.values()):
        if not getattr(obj, "majlis_kept_across_writes", False):
            db_session.expire(obj)


@contextlib.contextmanager
def unit_of_work(db_session: Session | None = None) -> Iterator[Session]:
    """Run a block as one write transaction: commit at the end, roll back on any error.

    On SQLite the transaction starts with BEGIN IMMEDIATE so that its reads and writes
    are serialised against other writers (seat counts cannot race). A read already made in
    the session is ended first, so the block sees fresh data (`_end_read`). An error
    with ``commit_anyway`` set (see ``errors.MajlisError``) still commits what was flushed.
    """
    db_session = db_session or get_db()
    if db_session.info.get("majlis_write"):
        yield db_session  # nested: the outer unit of work commits
        return
    if db_session.in_transaction():
        _end_read(db_session)
    database = db_session.info["majlis_database"]
    gate = database.write_gate
    with gate.held() if gate is not None else contextlib.nullcontext():
        db_session.info["majlis_write"] = True
        try:
            db_session.connection(execution_options=database.write_options)
            yield db_session
            # Counted before it is sent: a COMMIT the server may have applied is never run again (see init_app).
            db_session.info["majlis_commits"] = db_session.info.get("majlis_commits", 0) + 1
            db_session.commit()
        except BaseException as exc:
            # A refusal may carry bookkeeping that must survive it (a failed-attempt counter).
            if getattr(exc, "commit_anyway", False):
                db_session.commit()
            else:
                db_session.rollback()
            raise
        finally:
            db_session.info.pop("majlis_write", None)


def ping(database: Database) -> None:
    """Raise if the database does not answer: one statement on a pooled connection, outside any transaction."""
    with database.reader.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
