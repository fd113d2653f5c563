"""Versions of what the hot reads show, conditional answers from them, and built bodies kept by version.

A cached read is only as good as its invalidation. Here every transaction that changes what a cached read shows
raises that read's version (one row of `cache_versions` per scope) *in the same transaction*, so the new version
and the new data commit together, on SQLite and PostgreSQL, for every worker on every host. Nobody has to remember
to invalidate: a flush hook looks at which columns of which models changed and raises the scopes that show them.

A reader takes the version first and the data after it (`conditional_read`): a client that holds the version's
ETag gets a 304 before any row is read; otherwise the body built for that version is taken from Flask-Caching
(a simple in-process cache embedded, Redis in production), or built from data at least as new as the version and
kept under it. A change moves the version, and the next reader rebuilds; nothing is ever invalidated by hand.

Scopes:
- ``calendar``: the public feeds (`/calendar/majlis.ics`, `/calendar/series/<id>.ics`);
- ``sessions``: the session list (`GET /api/v1/sessions`), which also shows the seat counters.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from flask import Response
from flask_caching import Cache
from sqlalchemy import BigInteger, String, bindparam, event, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from majlis.db import Base

T = TypeVar("T")
CALENDAR = "calendar"
SESSIONS = "sessions"
SCOPES = (CALENDAR, SESSIONS)


class CacheVersion(Base):
    __tablename__ = "cache_versions"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


# For each model: per scope, the columns whose changes that scope does NOT show. Any other column changing (and
# any insert or delete) raises the scope. Listing what is neutral, rather than what is shown, means a column added
# later is assumed visible: at worst a needless rebuild, never a stale answer.
def _rules() -> dict[type, dict[str, frozenset[str]]]:
    from majlis.sessions.models import MajlisSession, Series

    runtime = {"live_version", "actual_started_at", "actual_ended_at", "room_name", "created_by_id"}
    return {
        MajlisSession: {
            # The feeds show times, titles, descriptions, status (cancelled), sequence and the last change.
            CALENDAR: frozenset(runtime | {"confirmed_count", "waitlist_count", "capacity",
                                           "in_person_confirmed_count", "in_person_waitlist_count",
                                           "in_person_capacity", "registration_opens_at",
                                           "registration_closes_at"}),
            # The list shows Session.dump's fields: seats and registration times, not sequence or stamps.
            SESSIONS: frozenset(runtime | {"sequence", "updated_at", "created_at"}),
        },
        # A series is a feed's master event; the list shows sessions only.
        Series: {CALENDAR: frozenset()},
    }


# Columns of these models that, when changed, also mean "the last change a calendar shows" (their updated_at).
STAMPED_SCOPE = CALENDAR
rules = functools.cache(_rules)  # built on first use: the models import this module's Base first


def _changed_columns(obj) -> set[str]:
    """The columns set since the object was loaded (cheap: no per-attribute history is built)."""
    state = inspect(obj)
    return _column_keys(state.mapper) - state.unmodified


@functools.cache
def _column_keys(mapper) -> frozenset[str]:
    return frozenset(attr.key for attr in mapper.column_attrs)


def _scopes_shown(model: type, changed: set[str] | None) -> set[str]:
    """The scopes a change of `changed` columns (None: an insert or delete) of `model` shows up in."""
    per_scope = rules().get(model)
    if per_scope is None:
        return set()
    if changed is None:
        return set(per_scope)
    return {scope for scope, neutral in per_scope.items() if changed - neutral}


_PENDING, _DONE = "majlis_cache_pending", "majlis_cache_done"


def raise_versions(db_session: Session, scopes) -> None:
    """Raise the versions of `scopes` when the session's transaction commits (see `install`)."""
    db_session.info.setdefault(_PENDING, set()).update(scopes)


def _raise_pending(db_session: Session) -> None:
    done = db_session.info.setdefault(_DONE, set())
    todo = db_session.info.pop(_PENDING, set()) - done
    if todo:
        raise_now(db_session.connection(), todo)
        done.update(todo)


# An upsert both engines speak: a missing row (a fresh or truncated table) reads as version 0 and is created at 1.
_RAISE = text("INSERT INTO cache_versions (scope, version) VALUES (:scope, 1) "
              "ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1")


def raise_now(connection, scopes) -> None:
    """Raise the versions of `scopes` in a connection's transaction, for writers without an ORM session (the fast
    path); as the ORM's writers do, after their last row lock and in a fixed order, just before the commit."""
    connection.execute(_RAISE, [{"scope": scope} for scope in sorted(scopes)])


def install(session_factory) -> None:
    """Raise the scopes' versions from every flush and bulk statement that changes what they show.

    Flushes and bulk statements only note the scopes; the counters are raised just before the commit, after the
    last flush, in a fixed order. On PostgreSQL the counter rows are therefore the last locks a transaction takes
    and are held only until its commit: a registration holding its session's row and a series edit holding a
    counter can never wait for each other.
    """

    @event.listens_for(session_factory, "before_flush")
    def _before_flush(db_session, _context, _instances):
        # A session's `updated_at` is the last change a calendar shows (the feeds' DTSTAMP and LAST-MODIFIED);
        # the seat counters and the live version change it no more than they change the feed.
        now = None
        for obj in db_session.dirty:
            if type(obj) not in rules():
                continue
            changed = _changed_columns(obj)
            if STAMPED_SCOPE in _scopes_shown(type(obj), changed) and "updated_at" not in changed:
                now = now or datetime.now(UTC)
                obj.updated_at = now

    @event.listens_for(session_factory, "after_flush")
    def _after_flush(db_session, _context):
        scopes: set[str] = set()
        for obj in (*db_session.new, *db_session.deleted):
            scopes |= _scopes_shown(type(obj), None)
        for obj in db_session.dirty:
            if type(obj) in rules():
                scopes |= _scopes_shown(type(obj), _changed_columns(obj))
        if scopes:
            raise_versions(db_session, scopes)

    @event.listens_for(session_factory, "do_orm_execute")
    def _bulk(state):
        # update()/delete() statements skip the flush. They raise every scope their model shows in, unless they
        # name their scopes with the execution option `majlis_cache_scopes` (an empty tuple: none, as the live
        # version's counter does).
        if not (state.is_update or state.is_delete):
            return None
        mapper = state.bind_mapper
        model = mapper.class_ if mapper is not None else None
        if model not in rules():
            return None
        scopes = state.execution_options.get("majlis_cache_scopes")
        scopes = _scopes_shown(model, None) if scopes is None else set(scopes)
        if not scopes:
            return None
        result = state.invoke_statement()
        if result.rowcount:
            raise_versions(state.session, scopes)
        return result

    @event.listens_for(session_factory, "before_commit")
    def _before_commit(db_session):
        db_session.flush()  # the commit's own flush would come after this hook: note its scopes first
        _raise_pending(db_session)

    @event.listens_for(session_factory, "after_transaction_end")
    def _after_transaction_end(db_session, transaction):
        if transaction.parent is None:  # the whole transaction is over, committed or not
            db_session.info.pop(_PENDING, None)
            db_session.info.pop(_DONE, None)

    @event.listens_for(session_factory, "after_soft_rollback")
    def _after_soft_rollback(db_session, previous):
        if previous.nested:  # a savepoint rolled back may have taken raised counters with it: raise them again
            db_session.info.setdefault(_PENDING, set()).update(db_session.info.pop(_DONE, set()))


def read_version(database, scope: str) -> int:
    """The scope's version, to be read before the data it guards (0 until the first change).

    One statement on a pooled connection outside any transaction: a conditional read that ends in a 304 or a kept
    body needs nothing else from the database, so it does not open the request's ORM session for it.
    """
    with database.reader.connect() as connection:
        return connection.execute(_version_statement(), {"b_scope": scope}).scalar() or 0


@functools.cache
def _version_statement():
    # Built once: every conditional read runs it, and building it costs more than SQLite takes to answer it.
    table = CacheVersion.__table__
    return select(table.c.version).where(table.c.scope == bindparam("b_scope"))


def versions_of(connection) -> dict[str, int]:
    return dict(connection.execute(select(CacheVersion.scope, CacheVersion.version)).all())


RESTORE_GAP = 1_000_000


def raise_past(connection, before: dict[str, int]) -> None:
    """After a restore: every scope far above both its old and its restored version, so no worker serves a
    response it built from the replaced data (the gap covers changes made while the restore ran; stop the workers
    for a restore all the same)."""
    after = versions_of(connection)
    for scope in SCOPES:
        target = max(before.get(scope, 0), after.get(scope, 0)) + RESTORE_GAP
        connection.execute(text("DELETE FROM cache_versions WHERE scope = :scope"), {"scope": scope})
        connection.execute(CacheVersion.__table__.insert().values(scope=scope, version=target))


# --- built bodies, kept under the versions they show ---------------------------------------------------------------

log = logging.getLogger(__name__)
bodies = Cache()
BODY_SECONDS = 600  # a body unused this long goes; anything a version does not cover (an author's new name) too


def init_app(app, database) -> None:
    """Keep the versions honest for every writer of the app's database, and set up the store of built bodies."""
    install(database.session_factory)
    redis_url = app.config.get("REDIS_URL")
    prefix = f"{app.config.get('RATELIMIT_KEY_PREFIX', 'majlis')}:built:"
    config = {"CACHE_DEFAULT_TIMEOUT": BODY_SECONDS, "CACHE_KEY_PREFIX": prefix}
    if redis_url:
        config |= {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url,
                   "CACHE_OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1}}
    else:
        config |= {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
    bodies.init_app(app, config=config)


def built(key: str, build: Callable[[], T]) -> T:
    """The value built for `key` (a key that names the versions the value shows), kept or built now.

    The store is an optimisation only: when it fails (Redis unreachable), the value is built as if it were absent.
    """
    try:
        value = bodies.get(key)
    except Exception as exc:  # noqa: BLE001 - any store failure: build, as on a miss
        log.warning("built-body store unavailable (%s); building", type(exc).__name__)
        return build()
    if value is None:
        value = build()
        try:
            bodies.set(key, value)
        except Exception as exc:  # noqa: BLE001 - the answer stands without the store
            log.warning("built-body store unavailable (%s); not kept", type(exc).__name__)
    return value


def conditional_read(scope: str, variant: tuple, build: Callable[[], bytes], *, mimetype: str,
                     cache_control: str) -> Response:
    """Answer a GET of a cached read: 304 from the scope's version when the client holds it, else the body built
    for that version and `variant` (everything else the body depends on: route, filters, viewer class,
    language)."""
    from flask import current_app, request

    from majlis.db import get_database

    version = read_version(get_database(), scope)  # before any data: see the module's docstring
    etag = f"{scope}-{version}-{_digest(variant)}"
    response = current_app.response_class(mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    if etag in request.if_none_match and request.method in ("GET", "HEAD"):
        response.status_code = 304
        return response
    response.set_data(built(f"{etag}", build))
    return response.make_conditional(request)


def _digest(variant: tuple) -> str:
    return hashlib.blake2s(repr(variant).encode(), digest_size=8).hexdigest()


# --- each worker's store of built values ----------------------------------------------------------------------------


_MEMO_LOCK = threading.Lock()


def memo(name: str, key, build, *, limit: int = 256):
    """A value built once per key in this app (so in each worker), kept in `app.extensions[name]`; past `limit`
    entries the oldest go. For things that are the same for everyone until their key changes."""
    from flask import current_app

    store = current_app.extensions.setdefault(name, {})
    value = store.get(key)
    if value is None:
        value = build()
        with _MEMO_LOCK:
            while len(store) >= limit:
                store.pop(next(iter(store)), None)
            store[key] = value
    return value
