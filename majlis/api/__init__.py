"""The JSON API under /api/v1: bearer tokens or the browser session (then with CSRF)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from majlis.auth import permissions
from majlis.auth import services as auth_services
from majlis.db import get_db
from majlis.enums import Role
from majlis.errors import Forbidden, InvalidInput, Unauthorized
from majlis.extensions import csrf
from majlis.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer-token requests carry no ambient credentials, so they need no CSRF token;
# requests authenticated by the session cookie are checked in _authenticate below.
csrf.exempt(bp)

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes whose callers are services that prove themselves (a signature, a shared token), not users.
SELF_AUTHENTICATED = frozenset({"api.jitsi_events", "api.jitsi_event_sync"})


@bp.before_request
def _authenticate():
    g.api_user = None
    g.api_token = None
    if request.endpoint in SELF_AUTHENTICATED:
        return
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(_l("Use the header 'Authorization: Bearer <token>'."), code="invalid_token")
        user, record = auth_services.user_for_token(get_db(), token.strip(), now=utcnow())
        g.api_user, g.api_token = user, record
        return
    if current_user.is_authenticated:
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        g.api_user = current_user._get_current_object()


def api_user():
    """The authenticated caller, or 401."""
    if g.get("api_user") is None:
        raise Unauthorized()
    return g.api_user


def require_role(*roles: Role):
    """The authenticated caller if they hold one of the roles (admins always do); else 401/403."""
    user = api_user()
    if not permissions.has_role(user, *roles):
        raise Forbidden()
    return user


def conditional(response):
    """Give a read an ETag of its body and answer 304 when the client already has it (never stale: it is the body)."""
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def json_bytes(data) -> bytes:
    """A JSON body as `jsonify` writes it, as bytes (for answers built once and kept)."""
    return (current_app.json.dumps(data) + "\n").encode()


def json_body() -> dict:
    """The request's JSON object; 400 for anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(_l("Send a JSON object with Content-Type: application/json."), code="invalid_json")
    _refuse_nul(data)
    return data


def _refuse_nul(value, field: str | None = None) -> None:
    """No text anywhere in the body may hold a NUL character (PostgreSQL cannot store one)."""
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput(field=field)
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(item, key if field is None else field)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, field)


from majlis.api import (  # noqa: E402,F401 - routes register on bp
    auth,
    cases,
    directory,
    events,
    jitsi,
    minutes,
    openapi,
    questions,
    registrations,
    schedule,
)
