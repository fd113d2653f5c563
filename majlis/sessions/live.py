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
import os
import threading
import time
from collections.abc import Iterator

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from majlis.sessions.models import MajlisSession

log = logging.getLogger(__name__)
CHANNEL = "majlis:live:{session_id}"
_publishers: dict[str, object] = {}


def bump(db_session: Session, session_id: int) -> None:
    """Raise the session's live version in the caller's transaction; publish it after the commit."""
    # On the table, not the model: no cached read (majlis.cache) shows the live version.
    db_session.connection().execute(_bump_statement(), {"b_session": session_id})
    db_session.info.setdefault("live_sessions", set()).add(session_id)


def announce(db_session: Session, session_id: int) -> None:
    """Publish the session's version after the commit, for a change that raised it on the row itself."""
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


class Hub:
    """One Redis subscriber per worker process, fanning each session's changes out to the streams watching it.

    A stream registers an event for its session and sleeps on it; the hub's thread holds the process's only
    subscription (a pattern over every session's channel) and sets the events of the session a message names.
    While Redis is unreachable the hub reconnects in the background, and streams poll the database instead.
    """

    def __init__(self, url: str):
        self.url = url
        self.connected = threading.Event()
        self._watchers: dict[int, set[threading.Event]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="majlis-live-hub", daemon=True)
        self._thread.start()

    def watch(self, session_id: int) -> threading.Event:
        woken = threading.Event()
        with self._lock:
            self._watchers.setdefault(session_id, set()).add(woken)
        return woken

    def unwatch(self, session_id: int, woken: threading.Event) -> None:
        with self._lock:
            watchers = self._watchers.get(session_id)
            if watchers is not None:
                watchers.discard(woken)
                if not watchers:
                    del self._watchers[session_id]

    def _wake(self, session_id: int | None) -> None:
        with self._lock:
            if session_id is None:
                woken = [each for watchers in self._watchers.values() for each in watchers]
            else:
                woken = list(self._watchers.get(session_id, ()))
        for each in woken:
            each.set()

    def _run(self) -> None:
        import redis

        delay = 0.5
        while True:
            pubsub = None
            try:
                pubsub = redis.Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=15,
                                              client_name=f"majlis-live-{os.getpid()}").pubsub(
                    ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL.format(session_id="*"))
                self.connected.set()
                self._wake(None)  # a change may have been published while nobody listened: everyone re-reads
                delay = 0.5
                for message in pubsub.listen():
                    channel = message.get("channel") or b""
                    _, _, number = channel.decode().rpartition(":")
                    if number.isdecimal():
                        self._wake(int(number))
            except Exception as exc:  # noqa: BLE001 - Redis gone: streams poll until it is back
                if self.connected.is_set():
                    log.warning("live updates: Redis unreachable (%s); streams poll the database",
                                type(exc).__name__)
                self.connected.clear()
                self._wake(None)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001, S110 - closing a dead connection
                        pass
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


_hubs: dict[tuple[str, int], Hub] = {}
_hubs_lock = threading.Lock()


def hub(url: str) -> Hub:
    """This process's hub for a Redis URL (made on first use; a forked worker makes its own)."""
    key = (url, os.getpid())
    found = _hubs.get(key)
    if found is None:
        with _hubs_lock:
            found = _hubs.get(key) or _hubs.setdefault(key, Hub(url))
    return found


class StreamSlots:
    """How many live streams this worker process serves, in all and per client address.

    A stream holds a worker thread for its whole lifetime: a worker must never give all its threads to streams, or
    every other request (the health check included) would wait. Beyond the caps a stream is refused with 503 and
    Retry-After, and the page falls back to polling the question list.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_client: dict[str, int] = {}

    def take(self, client: str, *, per_worker: int, per_client: int) -> bool:
        with self._lock:
            if self._total >= per_worker or self._by_client.get(client, 0) >= per_client:
                return False
            self._total += 1
            self._by_client[client] = self._by_client.get(client, 0) + 1
            return True

    def give_back(self, client: str) -> None:
        with self._lock:
            self._total -= 1
            left = self._by_client.get(client, 1) - 1
            if left:
                self._by_client[client] = left
            else:
                self._by_client.pop(client, None)


slots = StreamSlots()  # per process: gunicorn forks its workers before any stream is open


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

    The stream ends after `lifetime` seconds; the browser reconnects by itself with the last id it saw. With Redis
    it sleeps until the process's hub hears the session change (re-reading every few seconds anyway); without it,
    or while Redis is down, it polls the version.
    """
    yield "retry: 1000\n\n"
    deadline = time.monotonic() + lifetime
    last_beat = time.monotonic()
    fan_out = hub(redis_url) if redis_url else None
    woken = fan_out.watch(session_id) if fan_out is not None else None
    try:
        while time.monotonic() < deadline:
            if woken is not None:
                woken.clear()  # before the read: a change published after it wakes the wait below at once
            version = read_version()
            if version is None:
                return
            if version > since:
                since = version
                yield f"id: {version}\nevent: version\ndata: {version}\n\n"
                last_beat = time.monotonic()
            remaining = max(0.0, deadline - time.monotonic())
            if fan_out is not None and fan_out.connected.is_set():
                woken.wait(min(5.0, remaining, heartbeat))
            else:
                time.sleep(min(poll, remaining))
            if time.monotonic() - last_beat >= heartbeat:
                yield ": keep-alive\n\n"
                last_beat = time.monotonic()
    finally:
        if woken is not None:
            fan_out.unwatch(session_id, woken)
