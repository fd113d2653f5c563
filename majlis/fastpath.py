"""The hot requests answered before Flask's request machinery: reads from responses Flask itself built, and the two
writes that come in bursts (a first join, a first registration) for their plain cases.

A calendar client polls `/calendar/majlis.ics` every few minutes and the mobile app lists sessions on every start.
Through Flask each such request pays for the cookie session, the limiter, Babel, the ORM session and the hooks,
several times the cost of the answer itself. This WSGI layer sits in front of Flask and, for a handful of plain
requests (GET or HEAD, no query string, no cookie), does only what the answer needs:

1. read the scope's version (`majlis.cache`), in the same statement as the bearer token where there is one;
2. if this worker holds the response Flask built for that version (and viewer class), send it: a 304 when the
   client's If-None-Match matches, else the stored bytes with the stored headers and a new request id.

Everything else goes to Flask untouched: a miss, an unknown, expired or revoked token, any error, any other route.
On a miss the response Flask builds is stored when its view offered it (`offer`) for the version it read before its
data, so the fast path never decides what a response contains, who may see it, or how an error looks. Every
request is authenticated afresh (a revoked token stops working at once); only built bytes are reused.

The writes (`POST /api/v1/sessions/<id>/join` and `/registrations` with a bearer token) follow the same rule the
other way round: the services write them (`registration.services.mark_attended`, `take_seat`) with the rules of the
Flask path, in a transaction of their own, and any case they do not take — a refusal, an invitee, a registration
cancelled before, a notice this worker cannot build — is rolled back untouched and answered by Flask.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from werkzeug.http import http_date, is_resource_modified, parse_etags, remove_entity_headers, unquote_etag

from majlis import cache
from majlis.enums import SessionStatus
from majlis.extensions import DEFAULT_LOCALE
from majlis.security import token_digest

log = logging.getLogger(__name__)

OFFER_KEY = "majlis.cache_offer"
# Headers that belong to one response, not to the stored answer.
_NOT_STORED = {"x-request-id", "date", "set-cookie"}
# The request headers that make a GET conditional; a miss asks Flask without them (see _build_and_store).
_CONDITIONS = {"HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE",
               "HTTP_IF_RANGE", "HTTP_RANGE"}


def offer(version: int, variant: str) -> None:
    """Called by a view: the response it is building shows the data of `version` and may be given again, for that
    version, to a plain request of the same `variant` (the feed's language, the list's viewer class)."""
    from flask import request

    request.environ[OFFER_KEY] = (version, variant)


def request_id(environ) -> str:
    """The caller's X-Request-ID when it looks like one (8–64 letters and digits), else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex[:16]


_SQL = {
    "version": "SELECT (SELECT version FROM cache_versions WHERE scope = ?)",
    "token": ("SELECT u.role, u.is_disabled, t.revoked_at, t.expires_at, "
              "(SELECT version FROM cache_versions WHERE scope = ?) "
              "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?"),
    # The token's user, the session and that user's registration for it, in one statement.
    "join": ("SELECT u.role, u.is_disabled, t.revoked_at, t.expires_at, u.id, u.name, u.email, "
             "s.status, s.starts_at, s.ends_at, s.room_name, r.status, r.attended_at, r.id "
             "FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN majlis_sessions s ON s.id = ? "
             "LEFT JOIN registrations r ON r.session_id = s.id AND r.user_id = u.id WHERE t.token_hash = ?"),
}
SESSIONS_PREFIX, JOIN, REGISTER = "/api/v1/sessions/", "join", "registrations"


class FastPath:
    """WSGI middleware: plain hot reads from this worker's store, everything else to `wsgi_app` (Flask)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.store = cache.ResponseStore()
        self._engine = None
        self._sql: dict[str, str] = {}

    # --- the database, without the ORM ----------------------------------------------------------------------------

    @staticmethod
    def _statements(engine) -> dict[str, str]:
        # Fixed text with placeholders only; psycopg takes %s where sqlite3 takes ?.
        if engine.dialect.paramstyle == "qmark":
            return dict(_SQL)
        return {name: sql.replace("?", "%s") for name, sql in _SQL.items()}

    def _database(self):
        """The app's engine (set up on first use, with the statements in its dialect's placeholders)."""
        if self._engine is None:
            from majlis.db import get_database

            engine = get_database(self.app).engine
            self._sql = self._statements(engine)
            self._engine = engine  # last: another thread sees all of it or none
        return self._engine

    def _query(self, name: str, params: tuple):
        if self._database().dialect.name != "sqlite":
            from majlis.db import raw_reads

            return raw_reads(self.app.config["SQLALCHEMY_DATABASE_URI"]).one(self._sql[name], params)
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql[name], params)
                return cursor.fetchone()
            finally:
                cursor.close()
        except Exception:
            connection.invalidate()  # perhaps a dead connection: never handed out again
            raise
        finally:
            connection.close()  # back to the pool (on SQLite this ends the statement's read)

    # --- routing ----------------------------------------------------------------------------------------------------

    def _lookup(self, environ) -> tuple[str, str, int] | None:
        """(route, variant, current version) for a request this layer may answer, else None (Flask's)."""
        path = environ.get("PATH_INFO", "")
        if path == "/calendar/majlis.ics" or (path.startswith("/calendar/series/") and path.endswith(".ics")):
            row = self._query("version", (cache.CALENDAR,))
            return path, DEFAULT_LOCALE, int(row[0] or 0)  # no cookie, no ?lang=: the default language
        if path == "/api/v1/sessions":
            scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            row = self._query("token", (cache.SESSIONS, token_digest(token.strip())))
            if row is None or not _token_valid(*row[:4]):
                return None  # Flask answers 401 in its own words
            from majlis.sessions.services import list_class

            return path, list_class(row[0]), int(row[4] or 0)
        return None

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if (environ.get("QUERY_STRING") or environ.get("HTTP_COOKIE")
                or not self.app.config.get("MAJLIS_FAST_PATH", True)):
            return self.wsgi_app(environ, start_response)
        if method == "POST":
            return self._post(environ, start_response)
        if method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        try:
            found = self._lookup(environ)
        except Exception as exc:  # noqa: BLE001 - Flask answers, and reports the failure in its own way
            log.debug("fast path passed a request on (%s)", type(exc).__name__)
            found = None
        if found is None:
            return self.wsgi_app(environ, start_response)
        route, variant, version = found
        stored = self.store.get((route, variant), version)
        if stored is not None:
            return self._replay(stored, environ, start_response)
        return self._build_and_store(route, environ, start_response)

    # --- answering ----------------------------------------------------------------------------------------------------

    def _replay(self, stored: cache.Stored, environ, start_response, rid: str | None = None):
        headers = list(stored.headers)
        headers.append(("X-Request-ID", rid or request_id(environ)))
        headers.append(("Date", http_date()))
        if stored.etag is not None and not is_resource_modified(environ, etag=stored.etag):
            remove_entity_headers(headers)  # in place, as Werkzeug's make_conditional does
            start_response("412 PRECONDITION FAILED" if parse_etags(environ.get("HTTP_IF_MATCH")) else
                           "304 NOT MODIFIED", headers)
            return []
        start_response(stored.status, headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [stored.body]

    def _build_and_store(self, route: str, environ, start_response):
        """Let Flask build the full answer, keep it when its view offered it, then answer this request from it.

        Flask is asked without the request's conditions (If-None-Match and the like), so that it builds the body
        even for a client that already holds it: otherwise a worker whose callers all hold the current version
        would answer them through Flask for ever. The request id is fixed first, so Flask's log lines and the
        answer carry the same one.
        """
        if environ["REQUEST_METHOD"] != "GET":
            return self.wsgi_app(environ, start_response)
        rid = request_id(environ)
        unconditional = {key: value for key, value in environ.items() if key not in _CONDITIONS}
        unconditional["HTTP_X_REQUEST_ID"] = rid
        seen: dict = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"], seen["exc_info"] = status, headers, exc_info
            return lambda _data: None  # the body is returned below, never written through this

        result = self.wsgi_app(unconditional, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = seen["headers"]
        offered = unconditional.get(OFFER_KEY)
        if offered is None or not seen["status"].startswith("200") or \
                any(name.lower() == "set-cookie" for name, _ in headers):
            # Not for reuse (an error, a cookie: one person's answer): pass it on as Flask gave it.
            start_response(seen["status"], headers, seen["exc_info"])
            return [body]
        kept = tuple((name, value) for name, value in headers if name.lower() not in _NOT_STORED)
        etag = next((unquote_etag(value)[0] for name, value in headers if name.lower() == "etag"), None)
        # Stored under what the view says it built: the version it read before its data, for its variant.
        version, variant = offered
        stored = cache.Stored(version=version, status=seen["status"], headers=kept, body=body, etag=etag)
        self.store.put((route, variant), stored)
        return self._replay(stored, environ, start_response, rid)

    # --- the writes of a burst: joining a room, registering --------------------------------------------------------

    def _post(self, environ, start_response):
        """The two writes of a burst: a room token (thousands when a session starts) and a registration (thousands
        when registration opens), for the plain cases only. Every refusal, and anything unusual, goes to Flask."""
        path = environ.get("PATH_INFO", "")
        if environ.get("CONTENT_LENGTH", "0") not in ("", "0") or environ.get("HTTP_TRANSFER_ENCODING"):
            return self.wsgi_app(environ, start_response)  # these take no body: Flask judges one that is sent
        answer = None
        try:
            session_id, action = _session_action(path)
            digest = self._bearer_digest(environ)
            if digest is not None and action == JOIN:
                answer = self._room_token(session_id, digest)
            elif digest is not None and action == REGISTER:
                answer = self._register(session_id, digest)
        except Exception as exc:  # noqa: BLE001 - Flask answers, and reports the failure in its own way
            log.debug("fast path passed a request on (%s)", type(exc).__name__)
            answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, payload = answer
        body = (self.app.json.dumps(payload, indent=None, separators=(",", ":")) + "\n").encode()
        # Vary: Cookie as Flask sends it: with a session cookie the same URL is answered for another caller.
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Vary", "Cookie"),
                   *self._security_headers(), ("X-Request-ID", request_id(environ))]
        start_response(status, headers)
        return [body]

    def _record_attendance(self, registration_id: int, now: datetime) -> bool:
        from majlis.db import read_engine
        from majlis.registration.services import mark_attended

        if self._database().dialect.name != "sqlite":
            # PostgreSQL: one guarded UPDATE, committed by itself (an autocommit pool without pings): one round trip.
            with read_engine(self.app.config["SQLALCHEMY_DATABASE_URI"]).connect() as connection:
                return mark_attended(connection, registration_id, now=now)
        return bool(self._write(lambda connection: mark_attended(connection, registration_id, now=now) or None))

    def _security_headers(self):
        from majlis import security_headers

        return security_headers(self.app)

    def _room_token(self, session_id: int, digest: str) -> tuple[str, dict] | None:
        """The join answer when this layer may give it, else None."""
        RegistrationStatus, Role, MajlisError, jitsi, Participant, issue = _join_deps()  # noqa: N806
        row = self._query("join", (session_id, digest))
        if row is None or not _token_valid(*row[:4]):
            return None
        (role, _, _, _, user_id, name, email, status, starts_at, ends_at, room, registration_status,
         attended_at, registration_id) = row
        moderator = jitsi.standing(Role(role), RegistrationStatus(registration_status)
                                   if registration_status else None)
        if moderator is None:
            return None  # perhaps an invitee: Flask looks at the invitations
        settings = jitsi.settings_from_config(self.app.config)
        if settings.profile is None:
            return None
        times = _SessionTimes(SessionStatus(status), _instant(starts_at), _instant(ends_at))
        now = datetime.now(UTC)
        try:
            jitsi.check_window(times, settings, now)
        except MajlisError:
            return None  # not open yet, ended, cancelled: Flask says so in the reader's language
        signed = issue(settings, Participant(id=user_id, name=name, email=email, moderator=moderator),
                       room=room, starts_at=times.starts_at, ends_at=times.ends_at, now=now)
        first_join = registration_status == RegistrationStatus.CONFIRMED.value and attended_at is None
        if first_join and not self._record_attendance(registration_id, now):
            return None  # changed since it was read (cancelled, or recorded by a join at the same moment): Flask's
        return "200 OK", {"jwt": signed.jwt, "domain": signed.domain, "room": signed.room, "url": signed.url,
                          "expires_at": signed.expires_at.isoformat(), "moderator": signed.moderator}

    # --- registering --------------------------------------------------------------------------------------------------

    def _register(self, session_id: int, digest: str) -> tuple[str, dict] | None:
        """A resident's first registration for a public session open for registration, written by
        `registration.services.take_seat` (the rules of `register`, in Core statements); else None."""
        from majlis.registration import notices, services

        now = datetime.now(UTC)
        with self.app.app_context():  # the notice's language and its memos
            seat = self._write(lambda connection: services.take_seat(
                connection, session_id, digest, now=now, notice=notices.registered_message_if_built))
        if seat is None:
            return None
        return "201 CREATED", {"id": seat.id, "session_id": seat.session_id, "status": seat.status.value,
                               "position": seat.position}

    def _write(self, work):
        """`work(connection)` in a write transaction of its own, committed unless it returns None."""
        from majlis.db import write_gate

        engine = self._database()
        if engine.dialect.name != "sqlite":  # PostgreSQL: the work locks the rows it changes; a pool without pings
            from majlis.db import write_engine

            with write_engine(self.app.config["SQLALCHEMY_DATABASE_URI"]).connect() as connection:
                return _commit_unless_none(connection, work)
        # SQLite: this process's turn, then a pooled connection (no thread waits with one in hand), then the
        # machine-wide gate and BEGIN IMMEDIATE; the checkout stays outside the part other processes wait for.
        # (A database without a gate, in memory say, relies on BEGIN IMMEDIATE alone.)
        gate = write_gate(engine)
        with gate.process_turn() if gate else contextlib.nullcontext(), \
                engine.connect().execution_options(majlis_write=True) as connection, \
                gate.held() if gate else contextlib.nullcontext():
            return _commit_unless_none(connection, work)

    @staticmethod
    def _bearer_digest(environ) -> str | None:
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        return token_digest(token.strip()) if scheme.lower() == "bearer" and token.strip() else None


def _commit_unless_none(connection, work):
    with connection.begin() as transaction:
        result = work(connection)
        if result is None:
            transaction.rollback()
        return result


def _session_action(path: str) -> tuple[int | None, str | None]:
    """(id, action) of /api/v1/sessions/<id>/<action> when the id is a plain number in range, else (None, None)."""
    from majlis.errors import MAX_ID

    if not path.startswith(SESSIONS_PREFIX):
        return None, None
    number, slash, action = path[len(SESSIONS_PREFIX):].partition("/")
    if not slash or not number.isascii() or not number.isdigit() or len(number) > 10 or int(number) > MAX_ID:
        return None, None
    return int(number), action


@functools.cache
def _join_deps():
    """What a join needs from the rest of Majlis, imported on first use (this module loads before them)."""
    from majlis.enums import RegistrationStatus, Role
    from majlis.errors import MajlisError
    from majlis.jitsi import services as jitsi
    from majlis.jitsi.tokens import Participant, issue

    return RegistrationStatus, Role, MajlisError, jitsi, Participant, issue


@dataclass(frozen=True)
class _SessionTimes:
    status: SessionStatus
    starts_at: datetime
    ends_at: datetime


def _instant(value) -> datetime:
    """A UTC instant from a raw column value (SQLite gives text without an offset, PostgreSQL an aware value)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _token_valid(role, is_disabled, revoked_at, expires_at) -> bool:
    """`auth.services.token_accepted` on raw column values (SQLite gives text, PostgreSQL not)."""
    from majlis.auth.services import token_accepted

    return role is not None and expires_at is not None and token_accepted(
        revoked_at=revoked_at, expires_at=_instant(expires_at), user_disabled=bool(is_disabled), now=datetime.now(UTC))


def install(app) -> None:
    app.wsgi_app = FastPath(app, app.wsgi_app)
