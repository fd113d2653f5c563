"""One hierarchy of domain errors, rendered in one place as an HTML page or a JSON error body."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

log = logging.getLogger(__name__)


class MajlisError(Exception):
    """A refusal the user can act on; becomes a 4xx response and is not logged as a bug."""

    status = 400
    code = "bad_request"
    default_message = lazy_gettext("The request could not be processed.")

    # Set on refusals whose bookkeeping must be kept (e.g. counting a wrong code); see db.unit_of_work.
    commit_anyway = False
    # Headers the answer carries (a Retry-After, say): a class's own, and those given to one refusal.
    headers: dict[str, str] = {}

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None, status=None,
                 commit_anyway: bool = False, headers: dict | None = None):
        self.message = message if message is not None else self.default_message
        self.commit_anyway = commit_anyway
        self.headers = {**type(self).headers, **(headers or {})}
        super().__init__(str(self.message))
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field


class InvalidInput(MajlisError):
    status = 400
    code = "invalid_input"
    default_message = lazy_gettext("Some of the information given is not valid.")


class Unauthorized(MajlisError):
    status = 401
    code = "unauthorized"
    default_message = lazy_gettext("Please sign in first.")


class Forbidden(MajlisError):
    status = 403
    code = "forbidden"
    default_message = lazy_gettext("You are not allowed to do this.")


class NotFound(MajlisError):
    status = 404
    code = "not_found"
    default_message = lazy_gettext("We could not find what you were looking for.")


class Conflict(MajlisError):
    status = 409
    code = "conflict"
    default_message = lazy_gettext("This conflicts with the current state.")


class TooManyAttempts(MajlisError):
    """Refused before any password or code is checked; `Retry-After` says when to try again."""

    status = 429
    code = "too_many_attempts"
    default_message = lazy_gettext("Too many failed attempts for this account. Please wait and try again.")

    def __init__(self, retry_after: int, message=None, **kwargs):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))}, **kwargs)
        self.retry_after = max(1, int(retry_after))


class DatabaseUnavailable(MajlisError):
    """The database did not answer (restarted, its connections dropped): nothing was written; try again shortly."""

    status = 503
    code = "database_unavailable"
    default_message = lazy_gettext("The service is briefly unavailable and nothing was saved. Please try again in a "
                                   "few seconds.")
    headers = {"Retry-After": "5"}


MAX_ID = 2**31 - 1  # the smallest integer range of the supported databases (PostgreSQL's integer)


def as_id(value) -> int | None:
    """An id given as a number or a string of ASCII digits, within the databases' range; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdecimal():
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def storable_text(value: str) -> bool:
    """Whether every database can store the text: no NUL character, no lone UTF-16 surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" from a JSON escape: PostgreSQL and hashing refuse it
        return False
    return True


def wants_json() -> bool:
    """Answer JSON for the API and for clients that prefer it over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message, field: str | None = None, headers=None):
    message = str(message)
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "field": field}})
    else:
        # A request for a host Majlis does not serve (TRUSTED_HOSTS) has no URL adapter: a page without links.
        template = "errors/error.html" if request_ctx.url_adapter is not None else "errors/bare.html"
        response = render_template(template, status=status, code=code, message=message, field=field)
    return response, status, headers or {}


_HTTP_CODES = {
    400: ("bad_request", lazy_gettext("The request could not be understood.")),
    401: ("unauthorized", lazy_gettext("Please sign in first.")),
    403: ("forbidden", lazy_gettext("You are not allowed to see this page.")),
    404: ("not_found", lazy_gettext("We could not find that page.")),
    405: ("method_not_allowed", lazy_gettext("This action is not allowed here.")),
    413: ("too_large", lazy_gettext("What you sent is too large.")),
    415: ("unsupported_media_type", lazy_gettext("Send the request as JSON.")),
    429: ("rate_limited", lazy_gettext("Too many attempts. Please wait a little and try again.")),
    500: ("server_error", lazy_gettext("Something went wrong on our side. Please try again.")),
    503: ("unavailable", lazy_gettext("The service is briefly unavailable. Please try again shortly.")),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(MajlisError)
    def _domain_error(exc: MajlisError):
        return error_response(exc.status, exc.code, exc.message, exc.field, headers=exc.headers)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return error_response(
            400, "csrf_failed", gettext("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, SecurityError):  # a Host header outside TRUSTED_HOSTS (production)
            return error_response(400, "untrusted_host", gettext("This server does not answer for that host name."))
        status = exc.code or 500
        code, message = _HTTP_CODES.get(status, ("http_error", exc.description))
        headers = {}
        if status == 429:
            limit_headers = exc.get_response().headers.items()
            headers = {k: v for k, v in limit_headers if k.lower().startswith(("retry-", "x-rate"))}
        if status == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(status, code, message, headers=headers)

    from sqlalchemy.exc import InterfaceError, OperationalError

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc):
        # The database did not answer: nothing was written (the unit of work rolled back); say so plainly. A dropped
        # connection has invalidated the pool (SQLAlchemy's disconnect handling), so the next request reconnects.
        log.error("database unavailable on %s %s: %s (pool invalidated: %s)", request.method, request.path,
                  type(exc).__name__, bool(getattr(exc, "connection_invalidated", False)))
        refusal = DatabaseUnavailable()
        return error_response(refusal.status, refusal.code, refusal.message, headers=refusal.headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        code, message = _HTTP_CODES[500]
        return error_response(500, code, message)
