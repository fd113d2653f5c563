"""The JSON API under /api/v1: bearer tokens or the browser session (then with CSRF)."""

from __future__ import annotations

import json
import re

from flask import Blueprint, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import ValidationError

from majlis.auth import permissions
from majlis.auth import services as auth_services
from majlis.db import get_db
from majlis.enums import Role
from majlis.errors import Forbidden, InvalidInput, Unauthorized, storable_text
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
    """Return the authenticated caller, or 401."""
    if g.get("api_user") is None:
        raise Unauthorized()
    return g.api_user


def api_viewer():
    """Return the authenticated caller, or None for an anonymous one (public reads: what the website shows anyone)."""
    return g.get("api_user")


def require_role(*roles: Role):
    """Return the authenticated caller if they hold one of the roles (admins always do); else 401/403."""
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
    """Encode a JSON body as `jsonify` writes it, as bytes (for answers built once and kept)."""
    return (current_app.json.dumps(data) + "\n").encode()


# No route takes more than three levels; the limit keeps every walk over a body far from Python's recursion limit.
MAX_JSON_DEPTH = 16
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"\s*:|"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_body() -> dict:
    """Return the request's JSON object; 400 for anything else (malformed, nested too deep, text no database stores)."""
    if not request.is_json:
        raise _not_json()
    return parse_json_object(request.get_data(cache=True))  # beyond MAX_CONTENT_LENGTH: 413 before it is read


def parsed(model, data: dict, *, message=None, field: str | None = None):
    """Parse the body as the request model, checked strictly (no coercion); else 400 `invalid_input` naming the first
    field at fault (or `field`), with `message` or the shared "not valid" text, in the request's language."""
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        location = exc.errors()[0]["loc"]
        at_fault = field or ".".join(str(part) for part in location) or None
        raise InvalidInput(message, field=at_fault) from None


def _not_json() -> InvalidInput:
    return InvalidInput(_l("Send a JSON object with Content-Type: application/json."), code="invalid_json")


def parse_json_object(raw: bytes) -> dict:
    """Parse a JSON object from raw bytes; 400 for anything else (malformed, nested too deep, text no database
    stores)."""
    not_json = _not_json()
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep(_deep_field(raw)) from None
    except ValueError:  # malformed, not UTF-8, NaN or Infinity, an integer of thousands of digits
        raise not_json from None
    if not isinstance(data, dict):
        raise not_json
    _check_values(data)
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _too_deep(field: str | None) -> InvalidInput:
    return InvalidInput(_l("The JSON is nested too deeply."), code="invalid_json", field=field)


def _check_values(data: dict) -> None:
    """Walk the body without recursion: every string and key storable, nothing nested beyond MAX_JSON_DEPTH."""
    pending = [(value, key, 1) for key, value in data.items()]
    for key in data:
        if not storable_text(key):
            raise InvalidInput(field=None)
    while pending:
        value, field, depth = pending.pop()
        if isinstance(value, str):
            if not storable_text(value):
                raise InvalidInput(_l("The text holds characters that cannot be stored."), field=field)
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep(field)
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                if key is not None and not storable_text(key):
                    raise InvalidInput(_l("The text holds characters that cannot be stored."), field=field)
                pending.append((item, field, depth + 1))


def _deep_field(raw: bytes) -> str | None:
    """The top-level field under which a body too deep to parse goes beyond the limit (None if none)."""
    text = raw.decode("utf-8", errors="replace")
    depth, field = 0, None
    for match in _JSON_TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return field
        elif piece in ("]", "}"):
            depth -= 1
        elif depth == 1 and piece.endswith(":"):
            try:
                field = json.loads(piece[:-1].rstrip())
            except ValueError:
                field = None
            field = field if isinstance(field, str) and storable_text(field) else None
    return None


from majlis.api import (  # noqa: E402,F401 - routes register on bp
    auth,
    cases,
    directory,
    events,
    jitsi,
    minutes,
    notifications,
    openapi,
    questions,
    registrations,
    schedule,
)
