"""The registry the OpenAPI document is generated from: each view declares its operation where it is defined.

    @bp.post("/sessions")
    @documented(N_("Create a one-off session"), who=STAFF, tag="schedule", body=SessionInput,
                responses=ok(Session, status=201, location=True), errors={400: ["invalid_input"]},
                forbidden=["forbidden"])
    def create_session(): ...

`body` and the response schemas are pydantic models (or, for fixed formats, JSON Schema written out); `errors`
are the codes the operation itself may answer (the ones every route shares are added by majlis/api/openapi.py);
`rate_limit` is the Flask-Limiter string the route is limited by. Nothing here runs at request time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

JSON = "application/json"

# Who may call an operation, as the docs page shows it (admins pass every role check).
from majlis.schema_types import N_  # noqa: E402

# A local day in a query string; empty means the operation's default (as the services read it).
DAY_OR_EMPTY = {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$",
                "description": N_("YYYY-MM-DD; empty for the default")}

ANYONE = N_("Anyone, without signing in")
ANY_USER = N_("Any signed-in user")
STAFF = N_("Staff")
STAFF_OR_MODERATOR = N_("Staff and moderators")
OFFICE = N_("Moderators and staff (the Governor's office)")
RESIDENT = N_("Residents")
REGISTRANT = N_("Residents registered for the session, invited users")
AUTHOR = N_("The question's author")
ENTITLED = N_("Confirmed registrants, invited officials, moderators and staff; residents in the waiting line and "
              "(with public viewing) any resident as visitors")
VIDEO_SERVICE = N_("The video service: a JaaS webhook signed with JITSI_WEBHOOK_SECRET, or a Prosody event-sync "
                   "post with the JITSI_EVENTS_TOKEN bearer token")
CASE_PARTIES = N_("The resident (own cases), officials (their body's cases), moderators and staff")
CASE_RESIDENT = N_("The case's resident")
MINUTES_READERS = N_("Anyone, without signing in (published minutes); staff (drafts)")
PUBLIC_READ = N_("Anyone, without signing in (invitation-only sessions: staff, officials and invitees)")


@dataclass(frozen=True)
class Response:
    """A success (or redirect, or not-modified) answer: its body's model or JSON Schema, or none."""

    status: int
    body: Any = None  # a pydantic model class, a JSON Schema dict, or None
    description: str = "Success"
    media_type: str = JSON
    location: bool = False
    headers: dict | None = None


@dataclass(frozen=True)
class Operation:
    summary: str
    who: str
    tag: str
    responses: tuple[Response, ...]
    body: Any = None  # a pydantic model class or a JSON Schema dict
    body_required: bool = True
    errors: dict[int, list[str]] = field(default_factory=dict)
    public: bool = False
    forbidden: list[str] | None = None
    rate_limit: str | None = None
    description: str | None = None
    params: tuple[dict, ...] = ()
    operation_id: str | None = None
    security: list | None = None  # None: bearer, unless public
    shared_errors: bool = True  # the API's own errors (401, CSRF, invalid JSON...); not for Open311's formats
    extra_responses: dict | None = None  # responses written out (GeoReport's own error formats)
    # Fields a well-formed request may still be refused for (400, the field named): checked against stored data
    # (an id, a category, a code sent), a secret, or a rule across fields no JSON Schema states (a date range, an
    # RRULE, a phone number's plan). "*": any 400 of a format without a field (GeoReport's).
    refusals: tuple[str, ...] = ()


# endpoint -> Operation (one method per endpoint, as every documented view is written)
REGISTRY: dict[str, Operation] = {}


def ok(body: Any = None, description: str = "Success", *, status: int = 200, location: bool = False,
       media_type: str = JSON, headers: dict | None = None) -> Response:
    """Declare a successful answer: its status, body schema or model, media type and headers."""
    return Response(status, body, description, media_type, location, headers)


NO_CONTENT = Response(204, None, "Done; no body")
# Reads with an ETag: send it back in If-None-Match and an unchanged answer is a bodiless 304.
NOT_MODIFIED = Response(304, None, "Not modified: the If-None-Match header matches the ETag",
                        headers={"ETag": {"schema": {"type": "string"}}})


def query(name: str, schema: dict, description: str) -> dict:
    """Declare an optional query parameter with its schema and description."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def register(endpoint: str, summary: str, *, who: str, tag: str, responses, **options) -> Operation:
    """Declare the operation of a view defined elsewhere (Open311 and open data: the same registry)."""
    found = responses if isinstance(responses, tuple | list) else (responses,)
    operation = Operation(summary, who, tag, tuple(found), **options)
    REGISTRY[endpoint] = operation
    return operation


def documented(summary: str, *, who: str, tag: str, responses, endpoint: str | None = None, limit_key=None,
               limit_deduct=None, **options):
    """Declare a view's operation in the registry the OpenAPI document is generated from.

    With `rate_limit`, the view is also limited by it (Flask-Limiter; `limit_key` and `limit_deduct` are its
    key_func and deduct_when): the limit the document states is the one enforced.
    """

    def wrap(view):
        register(endpoint or f"api.{view.__name__}", summary, who=who, tag=tag, responses=responses, **options)
        if options.get("rate_limit"):
            from majlis.extensions import rate_limit

            extra = {"key_func": limit_key} if limit_key else {}
            if limit_deduct:
                extra["deduct_when"] = limit_deduct
            return rate_limit(options["rate_limit"], **extra)(view)
        return view

    return wrap


def is_model(value) -> bool:
    """Tell whether a value is a pydantic model class."""
    return isinstance(value, type) and issubclass(value, BaseModel)
