"""Live updates: a per-session version that rises with every change watchers should see.

Changes bump `MajlisSession.live_version` in the same transaction; after the commit the new version is
published (Redis pub/sub when REDIS_URL is set, so every worker's streams hear it). Pub/sub drops messages
while nobody listens, so clients never rely on a message: each event only says "version N exists" and the
client re-reads the state; a reconnecting client sends the last version it saw and is brought up to date.
Without Redis, streams poll the version column (a database-backed fallback that works across workers).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from majlis.sessions.models import MajlisSession

log = logging.getLogger(__name__)
CHANNEL = "majlis:live:{session_id}"
_publishers: dict[str, object] = {}
_listeners: dict[str, object] = {}


def bump(db_session: Session, session_id: int) -> None:
    """Raise the session's live version in the caller's transaction; publish it after the commit."""
    # On the table, not the model: no cached read (majlis.cache) shows the live version.
    db_session.connection().execute(_bump_statement(), {"b_session": session_id})
    db_session.info.setdefault("live_sessions", set()).add(session_id)


@functools.cache
def _bump_statement():
    sessions = MajlisSession.__table__
    return update(sessions).where(sessions.c.id == bindparam("b_session")).values(
        live_version=sessions.c.live_version + 1)


def current_version(db_session: Session, session_id: int) -> int | None:
    return db_session.scalar(select(MajlisSession.live_version).where(MajlisSession.id == session_id))


def _redis(url: str):
    """The client that publishes (a small pool: publishing is quick)."""
    client = _publishers.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        _publishers[url] = client
    return client


def _redis_for_streams(url: str):
    """The client whose connections the streams hold while they listen: one per open stream, so no small cap
    (redis-py's default pool would refuse the 101st watcher of a worker, and starve publishing with it)."""
    client = _listeners.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, max_connections=100_000)
        _listeners[url] = client
    return client


def install(session_factory, redis_url: str | None) -> None:
    """Publish the versions of the sessions a transaction changed, once it has committed."""

    @event.listens_for(session_factory, "after_commit")
    def _after_commit(db_session):
        changed = db_session.info.pop("live_sessions", None)
        if not changed or not redis_url:
            return
        try:
            client = _redis(redis_url)
            for session_id in changed:
                client.publish(CHANNEL.format(session_id=session_id), "changed")
        except Exception as exc:  # noqa: BLE001 - a lost message only delays watchers until their next check
            log.warning("live update not published (%s); watchers catch up on their next check", type(exc).__name__)

    @event.listens_for(session_factory, "after_rollback")
    def _after_rollback(db_session):
        db_session.info.pop("live_sessions", None)


def stream(read_version, session_id: int, since: int, *, redis_url: str | None, lifetime: float = 25.0,
           poll: float = 0.5, heartbeat: float = 10.0) -> Iterator[str]:
    """Yield Server-Sent Events: `version` whenever the session's version passes `since`.

    The stream ends after `lifetime` seconds; the browser reconnects by itself with the last id it saw.
    """
    yield "retry: 1000\n\n"
    deadline = time.monotonic() + lifetime
    last_beat = time.monotonic()
    pubsub = None
    if redis_url:
        try:
            pubsub = _redis_for_streams(redis_url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CHANNEL.format(session_id=session_id))
        except Exception as exc:  # noqa: BLE001 - fall back to polling the database
            log.warning("live stream without Redis (%s): polling", type(exc).__name__)
            pubsub = None
    try:
        while time.monotonic() < deadline:
            version = read_version()
            if version is None:
                return
            if version > since:
                since = version
                yield f"id: {version}\nevent: version\ndata: {version}\n\n"
                last_beat = time.monotonic()
            if pubsub is not None:
                # Wake at once on a message; re-read the version at least every few seconds anyway.
                pubsub.get_message(timeout=min(5.0, max(0.0, deadline - time.monotonic())))
            else:
                time.sleep(poll)
            if time.monotonic() - last_beat >= heartbeat:
                yield ": keep-alive\n\n"
                last_beat = time.monotonic()
    finally:
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection
                pass
