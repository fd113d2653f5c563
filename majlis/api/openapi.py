"""The OpenAPI 3.1 document of /api/v1, written by hand, and a server-rendered docs page built from it.

The document is plain data so that tests and the fuzzer can read it without an app. Request limits mirror
the services' checks (sessions/services.py, auth/services.py, questions/services.py, ...); when a service
changes a limit, change it here in the same commit. Field names in responses are those of the serializers.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from flask import jsonify, render_template

from majlis.api import bp
from majlis.enums import (
    AttachmentKind,
    CaseChannel,
    CaseStatus,
    FeedbackOutcome,
    MinutesStatus,
    QuestionStatus,
    Role,
    SeatMode,
    SeriesKind,
    SessionFormat,
    SessionStatus,
    Visibility,
)
from majlis.followups.dashboard import GROUPINGS
from majlis.notifications.models import CHANNELS
from majlis.notifications.preferences import CHOICE_KINDS
from majlis.open311.opendata import DICTIONARY
from majlis.questions.services import CATEGORIES
from majlis.sessions.services import MAX_REMINDERS, REMINDER_RANGE


def N_(text: str) -> str:  # noqa: N802 - the conventional no-op marker that pybabel extracts
    """Mark English text for the catalog; the docs page translates it when it renders."""
    return text


API_PREFIX = "/api/v1"
OPEN311_PREFIX = "/open311/v2"
OPEN_DATA_PREFIX = "/open-data"
# The routes this document describes: the API, and the public machine-readable data beside it.
DOCUMENTED_PREFIXES = (API_PREFIX + "/", OPEN311_PREFIX + "/", OPEN_DATA_PREFIX + "/")
XML = "text/xml"
INT32_MAX = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
JSON = "application/json"
BEARER = [{"bearerAuth": []}]
UNSAFE = {"post", "put", "patch", "delete"}

# Who may call an operation, as the docs page shows it (admins pass every role check).
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


# --- schema helpers -----------------------------------------------------------------------------------------------


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def string(description: str | None = None, *, min_length: int | None = None, max_length: int | None = None,
           **extra) -> dict:
    schema = {"type": "string", **extra}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if description:
        schema["description"] = description
    return schema


def integer(minimum: int | None = None, maximum: int | None = None, description: str | None = None) -> dict:
    schema: dict = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict) -> dict:
    """The schema, or JSON null (OpenAPI 3.1 has no `nullable`)."""
    schema = dict(schema)
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    schema["type"] = [*kinds, "null"]
    return schema


def enum(values, description: str | None = None) -> dict:
    schema = {"type": "string", "enum": [str(getattr(value, "value", value)) for value in values]}
    if description:
        schema["description"] = description
    return schema


def obj(properties: dict, required=(), *, closed: bool = False, description: str | None = None, **extra) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def record(properties: dict, *, description: str | None = None) -> dict:
    """A response object: every field the serializer writes is present."""
    return obj(properties, required=list(properties), description=description)


def list_of(key: str, item: dict, **more: dict) -> dict:
    """The API's list envelope, e.g. {"sessions": [...]}."""
    return record({key: {"type": "array", "items": item}, **more})


INSTANT = string(format="date-time")
ID = integer(1, INT32_MAX)
DAY = string(format="date", description=N_("YYYY-MM-DD"))
LOCAL_MINUTE = string(N_("Local wall time in the governorate's zone, YYYY-MM-DDTHH:MM"),
                      pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
INPUT_INSTANT = string(N_("ISO 8601; without an offset it is the governorate's local wall time"), format="date-time")
TITLE = string(N_("2 to 200 characters after collapsing white space"), min_length=2, max_length=200)
LONG_TEXT = string(N_("At most 4000 characters"), max_length=4000)
MINUTES_BODY = string(N_("Not blank; at most 200,000 characters"), min_length=1, max_length=200_000)
DIGITS_ID = {"type": ["integer", "string"], "minimum": 1, "maximum": INT32_MAX, "pattern": r"^[0-9]+$",
             "description": N_("An id, as a number or a string of digits")}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
COUNT = integer(0)
CATEGORY_CODE = string(N_("A category's code, from GET /api/v1/categories"), max_length=64)
DESCRIPTION = string(N_("3 to 2000 characters; line breaks are kept"), min_length=3, max_length=2000)
PLACE_INPUT = obj({
    "address": nullable(string(N_("At most 300 characters"), max_length=300)),
    "lat": nullable({"type": "number", "minimum": -90, "maximum": 90, "description": N_("WGS 84 latitude")}),
    "lon": nullable({"type": "number", "minimum": -180, "maximum": 180, "description": N_("WGS 84 longitude")}),
    "public": {"type": "boolean", "default": False,
               "description": N_("The resident agreed to publish the place; otherwise only the area is")},
}, description=N_("Where exactly (optional); latitude and longitude together or neither"))


# --- responses ----------------------------------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "The request is not valid; `error.field` names the field when there is one",
    401: "No credentials, or a token that is unknown, expired or revoked",
    403: "The caller's role or relation to the object does not allow this",
    404: "No such object, or one the caller may not see",
    409: "The object's current state does not allow this",
    413: "The request body is larger than the server accepts (MAJLIS_MAX_CONTENT_LENGTH, 2 MiB by default)",
    429: "Too many requests; see the Retry-After header",
    503: "A required service is not configured or not available",
}


def error(status: int, codes: list[str], description: str | None = None) -> dict:
    """An error response: the shared Error body, its `code` limited to the listed values."""
    return {
        "description": description or ERROR_DESCRIPTIONS[status],
        "content": {JSON: {"schema": {"allOf": [
            ref("Error"),
            {"properties": {"error": {"properties": {"code": {"enum": sorted(set(codes))}}}}},
        ]}}},
    }


def ok(schema: dict | None, description: str = "Success", *, status: int = 200, location: bool = False,
       media_type: str = JSON) -> dict:
    response: dict = {"description": description}
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    if location:
        response["headers"] = {"Location": {"description": "The URL of the created object",
                                            "schema": string(format="uri-reference")}}
    return {str(status): response}


NO_CONTENT = {"204": {"description": "Done; no body"}}
# Reads with an ETag: send it back in If-None-Match and an unchanged answer is a bodiless 304.
NOT_MODIFIED = {"304": {"description": "Not modified: the If-None-Match header matches the ETag",
                        "headers": {"ETag": {"schema": string()}}}}


# --- operations ---------------------------------------------------------------------------------------------------

PATH_PARAMS = {
    "session_id": N_("The session's id"),
    "series_id": N_("The series' id"),
    "question_id": N_("The question's id"),
    "case_id": N_("The case's id"),
    "attachment_id": N_("The attachment's id"),
    "event": N_("What event-sync appends to its api_prefix (events/occupant/joined...); the body says the same"),
}
PATH_SCHEMAS = {"event": string(pattern=r"^[a-z]+$")}


def _path_parameters(path: str) -> list[dict]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": name, "in": "path", "required": True, "description": PATH_PARAMS[name],
             "schema": PATH_SCHEMAS.get(name, ID)} for name in names]


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def operation(method: str, path: str, operation_id: str, summary: str, *, who: str, tag: str,
              responses: dict, body: dict | None = None, params=(),
              errors: dict | None = None, public: bool = False, forbidden: list[str] | None = None,
              rate_limited: bool = False, description: str | None = None, body_required: bool = True) -> tuple:
    """One operation with the error responses every route shares added to its own.

    - 401 on every route: a bearer header that is malformed or not valid is refused even on public ones.
    - 400 `csrf_failed` on unsafe methods: a browser session without the CSRF token.
    - 400 `invalid_json` when a JSON body is expected (also: nested too deeply), 413 `too_large` beyond the
      body limit; 404 `not_found` when the path has an id.
    """
    codes: dict[int, list[str]] = {status: list(found) for status, found in (errors or {}).items()}
    if method in UNSAFE:
        codes.setdefault(400, []).append("csrf_failed")
    if body is not None:
        codes.setdefault(400, []).append("invalid_json")
        codes.setdefault(413, []).append("too_large")
    codes.setdefault(401, []).extend(["invalid_token"] if public else ["unauthorized", "invalid_token"])
    if forbidden is not None:
        codes.setdefault(403, []).extend(forbidden)
    if "{" in path:
        codes.setdefault(404, []).append("not_found")  # also what routing answers for an id that is not a number
    if rate_limited:
        codes.setdefault(429, []).append("rate_limited")
    all_responses = dict(responses)
    for status in sorted(codes):
        all_responses[str(status)] = error(status, codes[status])
    spec: dict = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": [] if public else BEARER,
        "x-majlis-who": who,
        "responses": all_responses,
    }
    if description:
        spec["description"] = description
    parameters = _path_parameters(path) + list(params)
    if parameters:
        spec["parameters"] = parameters
    if body is not None:
        spec["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body}}}
    return API_PREFIX + path, method, spec


def _components() -> dict:
    user = record({
        "id": ID, "email": string(format="email"), "name": string(), "role": enum(Role),
        "verified": {"type": "boolean"},
    })
    question = record({
        "id": ID, "session_id": ID, "body": string(), "status": enum(QuestionStatus),
        "votes": integer(0), "author": nullable(record({"id": ID, "name": string()})),
        "anonymous": {"type": "boolean"}, "category": nullable(enum(CATEGORIES)), "created_at": INSTANT,
        "answer_note": nullable(string()), "merged_into": nullable(ID),
        "reject_reason": nullable(string("Shown only to the author and moderators")),
    }, description="`author` is null for an anonymous question, except for moderators and the author")
    body_ref = record({"id": ID, "name_ar": string(), "name_en": string()})
    named = record({"code": string(), "name_ar": string(), "name_en": string()})
    case_fields = {
        "id": ID, "channel": enum(CaseChannel), "question_id": nullable(ID), "session_id": nullable(ID),
        "question": nullable(string("The question's text, for a case raised in a majlis")),
        "description": string(), "body": body_ref, "category": nullable(named),
        "area": nullable(record({"id": ID, "code": string(), "name_ar": string(), "name_en": string()})),
        "place": nullable(record({"address": nullable(string()), "lat": nullable(NUMBER), "lon": nullable(NUMBER),
                                  "public": BOOLEAN})),
        "resident_id": nullable(ID),
        "contact": nullable(record({"name": nullable(string()), "phone": nullable(string()),
                                    "email": nullable(string())},
                                   description="Given by phone or in writing; seen by the office and the body only")),
        "anonymous": {**BOOLEAN, "description": "Raised by an anonymous question: until `contact_consent` is "
                                                "`agreed`, the body gets no `resident_id`, no `contact`, and the "
                                                "resident's updates are signed \"a resident\""},
        "contact_consent": nullable(enum(["pending", "agreed", "declined"],
                                         "Whether the resident of an anonymous case lets the body contact them; "
                                         "null for other cases")),
        "status": enum(CaseStatus), "due_on": DAY, "overdue": BOOLEAN,
        "reference_number": nullable(string()), "opened_at": INSTANT, "resolved_at": nullable(INSTANT),
        "declined_reason": nullable(string()), "reopened": BOOLEAN,
    }
    satisfaction = record({"answers": COUNT, "fixed": COUNT, "partly_fixed": COUNT, "not_fixed": COUNT,
                           "average_rating": nullable(NUMBER)})
    figures = record({
        "key": nullable(string("A body, area or category code, a channel, or a month YYYY-MM; null: not given")),
        "name_ar": string(), "name_en": string(), "opened": COUNT, "open": COUNT, "overdue": COUNT,
        "closed_on_time": COUNT, "closed_late": COUNT, "median_days_to_close": nullable(NUMBER),
        "satisfaction": satisfaction,
    })
    open_data_types = {"integer": integer(), "text": string(), "date": DAY, "number": NUMBER, "boolean": BOOLEAN}
    always = {"case_id", "channel", "status", "category_code", "category_name_ar", "category_name_en", "body_code",
              "body_name_ar", "body_name_en", "opened_on", "due_on", "reopened"}
    open311_request = record({
        "service_request_id": string(), "status": enum(["open", "closed"]), "status_notes": string(),
        "service_name": string(), "service_code": string(), "agency_responsible": string(),
        "service_notice": {"type": "null"}, "requested_datetime": INSTANT, "updated_datetime": INSTANT,
        "expected_datetime": INSTANT,
        "address": nullable(string("The area, or the address when the resident agreed to publish the place")),
        "lat": nullable(NUMBER), "long": nullable(NUMBER),
    }, description="GeoReport v2's service request; no personal data")
    return {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A token from `POST /api/v1/auth/token`, `majlis token EMAIL` or the "
                                          "account page. The browser's session cookie also works (then unsafe "
                                          "methods need the CSRF token in X-CSRFToken)."},
        },
        "schemas": {
            "Error": obj({"error": obj({
                "code": string("snake_case, stable: clients branch on it", pattern=r"^[a-z][a-z0-9_]*$"),
                "message": string("Human text in the request's language"),
                "field": nullable(string("The request field at fault")),
            }, required=["code", "message", "field"])}, required=["error"]),
            "User": user,
            "Body": body_ref,
            "Token": record({"token": string("Shown once; only a hash is stored"), "expires_at": INSTANT}),
            "Series": record({
                "id": ID, "kind": enum(SeriesKind), "title_ar": string(), "title_en": string(),
                "description_ar": string(), "description_en": string(), "rrule": string(),
                "timezone": string("IANA zone the rule runs in"), "first_start": LOCAL_MINUTE,
                "duration_minutes": integer(1), "capacity": integer(1), "registration_opens_days": integer(0),
                "registration_closes_minutes": integer(0), "visibility": enum(Visibility),
                "ends_on": nullable(DAY), "previous_id": nullable(ID),
                "reminder_minutes": {"type": "array", "items": integer(1),
                                     "description": "Minutes before each session at which registrants are reminded"},
            }),
            "Session": record({
                "id": ID, "series_id": nullable(ID), "kind": enum(SeriesKind), "title_ar": string(),
                "title_en": string(), "description_ar": string(), "description_en": string(),
                "visibility": enum(Visibility), "starts_at": INSTANT, "ends_at": INSTANT,
                "original_starts_at": nullable(INSTANT), "status": enum(SessionStatus),
                "cancel_reason": nullable(string()),
                "capacity": integer(0, description="The online pool's seats (0: in person only)"),
                "confirmed_count": integer(0), "waitlist_count": integer(0),
                "registration_opens_at": INSTANT, "registration_closes_at": INSTANT,
                "stream_url": nullable(string("The live stream (https) residents without a seat watch", format="uri")),
                "public_viewing": {"type": "boolean", "description": "Any signed-in resident may follow"},
                "format": enum(SessionFormat, "Online (the video room), in person (a hall), or hybrid (both)"),
                "place": nullable(ref("Place")),
                "in_person_capacity": integer(0, description="The hall's seats (0: online only)"),
                "in_person_confirmed_count": integer(0), "in_person_waitlist_count": integer(0),
            }),
            "Place": record({
                "name_ar": string(), "name_en": string(), "address": nullable(string()), "area_id": nullable(ID),
                "lat": nullable({"type": "number", "minimum": -90, "maximum": 90}),
                "lon": nullable({"type": "number", "minimum": -180, "maximum": 180}),
                "map_url": nullable(string("The place on OpenStreetMap (a link; no map is loaded)", format="uri")),
            }, description="Where an in-person or hybrid session is held"),
            "Registration": obj({
                "id": ID, "session_id": ID, "status": enum(["confirmed", "waitlisted"]),
                "position": nullable(integer(1, description="Place in the pool's waiting line (1 = next)")),
                "mode": enum(SeatMode, "The seat pool: the video room's or the hall's"),
                "check_in_code": string("In person only: the code (and QR code) shown at the door",
                                        pattern="^[A-Z0-9]{6}$"),
            }, required=["id", "session_id", "status", "position", "mode"]),
            "CheckIn": record({"user_id": ID, "name": string(), "checked_in_at": INSTANT}),
            "Registrant": record({
                "user_id": ID, "name": string(), "status": enum(["confirmed", "waitlisted"]),
                "position": nullable(integer(1)),
                "attended": {"type": "boolean", "description": "In the video room by the video service's events "
                                                               "when the session has any, else a join token "
                                                               "obtained during the join window"},
                "joined_at": nullable(INSTANT), "left_at": nullable(INSTANT),
                "minutes_present": nullable(integer(0)),
                "mode": enum(SeatMode), "checked_in_at": nullable(INSTANT),
            }),
            "RoomToken": record({
                "jwt": string("The signed Jitsi token"), "domain": string(),
                "room": string(pattern=r"^[a-z0-9-]+$"), "url": string(format="uri"), "expires_at": INSTANT,
                "moderator": {"type": "boolean"},
                "role": enum(["moderator", "participant", "visitor"], "A visitor's token is view-only"),
            }),
            "Question": question,
            "Votes": record({"votes": integer(0)}),
            "Case": record(case_fields),
            "CaseWithUpdates": record({**case_fields, "updates": {"type": "array", "items": ref("CaseUpdate")},
                                       "feedback": {"type": "array", "items": ref("Feedback")},
                                       "feedback_open": {"type": "boolean", "description": "Whether the caller "
                                                                                          "may answer now"}}),
            "Feedback": record({"round": integer(0, description="Which resolution of the case it answers"),
                                "outcome": enum(FeedbackOutcome), "rating": nullable(integer(1, 5)),
                                "comment": nullable(string()), "created_at": INSTANT}),
            "Category": record({"code": string(), "name_ar": string(), "name_en": string(), "body_id": ID,
                                "days_to_resolve": integer(1)}),
            "Figures": figures,
            "Accountability": record({
                "from": DAY, "to": DAY, "group_by": enum(GROUPINGS), "as_of": INSTANT,
                "groups": {"type": "array", "items": ref("Figures")}, "totals": ref("Figures"),
                "backlog": {"type": "array", "items": record({"month": string(pattern=r"^\d{4}-\d{2}$"),
                                                              "open": COUNT, "overdue": COUNT})},
                "awaiting_triage": COUNT,
            }),
            "OpenDataCase": record({f.name: open_data_types[f.kind] if f.name in always
                                    else nullable(open_data_types[f.kind]) for f in DICTIONARY}),
            "Open311Request": open311_request,
            "Open311Service": record({"service_code": string(), "service_name": string(), "description": string(),
                                      "metadata": BOOLEAN, "type": enum(["realtime"]), "keywords": string(),
                                      "group": string("The government body")}),
            "Open311Discovery": record({
                "changeset": INSTANT, "contact": string(), "key_service": string(),
                "endpoints": {"type": "array", "items": record({
                    "specification": string(format="uri"), "url": string(format="uri"), "changeset": INSTANT,
                    "type": enum(["production"]), "formats": {"type": "array", "items": string()}})},
            }),
            "Open311Errors": {"type": "array", "items": record({"code": integer(400, 599), "description": string()}),
                              "description": "GeoReport v2's error list"},
            "CaseUpdate": record({
                "id": ID, "text": string(), "status": nullable(enum(CaseStatus, "The status it moved to")),
                "author": record({"name": string(), "role": enum(Role)}), "from_body": nullable(ID),
                "to_body": nullable(ID), "created_at": INSTANT,
            }),
            "Minutes": record({
                "status": enum(MinutesStatus), "body": string(), "published_at": nullable(INSTANT),
                "sha256": string("Hex SHA-256 of `body` in UTF-8", pattern=r"^[0-9a-f]{64}$"),
                "revision": nullable(integer(1)),
                "reason": nullable(string("Why this revision corrected the one before")),
                "attachments": {"type": "array", "items": ref("Attachment")},
            }),
            "NotificationChoices": record({
                kind: {"type": "array", "items": enum(CHANNELS), "uniqueItems": True} for kind in CHOICE_KINDS
            }, description="Each kind of notice with the channels it goes by; [] sends none of that kind"),
            "PushSubscription": record({"id": ID, "endpoint": string(format="uri"), "created_at": INSTANT}),
            "Attachment": record({
                "id": ID, "kind": enum(AttachmentKind), "sha256": string(pattern=r"^[0-9a-f]{64}$"),
                "size": integer(0), "url": string("Where to download the file", format="uri"),
                "content_type": nullable(string()),
                "public": {"type": "boolean", "description": "Published with the minutes"},
            }, description="A recording, transcript or chat log of the session, kept by Majlis"),
            "EventReceipt": record({"status": enum(["recorded", "duplicate", "ignored"],
                                                   "duplicate: this event was received before and changed nothing; "
                                                   "ignored: no session has this room")}),
            "ArchiveResult": record({"session_id": ID, "title": string("The Arabic title"),
                                     "title_en": string(), "starts_at": INSTANT,
                                     "snippet": string("A passage around the first match, as plain text"),
                                     "highlights": {"type": "array", "items": string(),
                                                    "description": "The snippet's words that matched, as written"}}),
        },
    }


def _operations() -> list[tuple]:
    series_input = obj({
        "kind": enum(SeriesKind),
        "title_ar": TITLE, "title_en": TITLE,
        "description_ar": LONG_TEXT, "description_en": LONG_TEXT,
        "rrule": string(N_("An RFC 5545 RRULE with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY, e.g. FREQ=WEEKLY;BYDAY=TU"),
                        min_length=1, max_length=500),
        "first_start": LOCAL_MINUTE,
        "duration_minutes": integer(1, 24 * 60),
        "capacity": integer(1, 100_000),
        "registration_opens_days": integer(0, 365, N_("Days before each start; default 7")),
        "registration_closes_minutes": integer(0, 7 * 24 * 60, N_("Minutes before each start; default 60")),
        "visibility": enum(Visibility, N_("Default public")),
        "reminder_minutes": {"type": "array", "items": integer(*REMINDER_RANGE), "maxItems": MAX_REMINDERS,
                             "uniqueItems": True,
                             "description": N_("Minutes before each session at which registrants are reminded; "
                                               "default [1440, 60] (a day and an hour); [] for none")},
    }, required=["kind", "title_ar", "title_en", "rrule", "first_start", "duration_minutes", "capacity"])
    stream_url = nullable(string(N_("An https address of the live stream (YouTube, PeerTube or another player); "
                                    "null for none"), max_length=500, format="uri", pattern=r"^https://"))
    place_input = obj({
        "name_ar": TITLE, "name_en": TITLE,
        "address": nullable(string(max_length=300)),
        "area_id": nullable(ID),
        "lat": nullable({"type": "number", "minimum": -90, "maximum": 90}),
        "lon": nullable({"type": "number", "minimum": -180, "maximum": 180,
                         "description": N_("Latitude and longitude come together, or neither")}),
    }, required=["name_ar", "name_en"], closed=True,
        description=N_("Required for in-person and hybrid sessions; none for online ones"))
    venue = {
        "format": enum(SessionFormat, N_("Default online")),
        "place": nullable(place_input),
        "in_person_capacity": integer(1, 100_000, N_("The hall's seats: required for in-person and hybrid "
                                                     "sessions")),
    }
    session_input = obj({
        "title_ar": TITLE, "title_en": TITLE,
        "description_ar": LONG_TEXT, "description_en": LONG_TEXT,
        "kind": enum(SeriesKind, N_("Default special")),
        "starts_at": INPUT_INSTANT,
        "duration_minutes": integer(1, 24 * 60),
        "capacity": integer(1, 100_000, N_("The online seats: required unless the session is in person only")),
        **venue,
        "visibility": enum(Visibility, N_("Default public")),
        "registration_opens_at": nullable({**INPUT_INSTANT, "description": N_("Default: 7 days before the start")}),
        "registration_closes_at": nullable({**INPUT_INSTANT, "description": N_("Default: 1 hour before the start")}),
        "stream_url": stream_url,
        "public_viewing": {"type": "boolean", "default": False,
                           "description": N_("Any signed-in resident may follow, not only the waiting line")},
    }, required=["title_ar", "title_en", "starts_at", "duration_minutes"])
    session_patch = obj({
        "kind": enum(SeriesKind), **venue,
        "starts_at": {**INPUT_INSTANT, "description": N_("Moving keeps the length and the registration window's "
                                                         "offsets unless those are given too")},
        "ends_at": INPUT_INSTANT, "capacity": integer(1, 100_000),
        "registration_opens_at": INPUT_INSTANT, "registration_closes_at": INPUT_INSTANT,
        "stream_url": stream_url, "public_viewing": {"type": "boolean"},
    }, closed=True, minProperties=1)
    question_body = string(N_("3 to 1000 characters; line breaks are kept"), min_length=3, max_length=1000)
    session_list_params = [
        query("from", DAY, N_("First local day (inclusive)")),
        query("to", DAY, N_("Last local day (inclusive)")),
        query("series", ID, N_("Only this series' sessions")),
    ]
    minutes_ok = ok(ref("Minutes"), "The minutes")
    sessions = list_of("sessions", ref("Session"))

    return [
        # --- accounts
        operation("post", "/auth/signup", "signup", N_("Create a resident account"), who=ANYONE, tag="accounts",
                  public=True, rate_limited=True,
                  body=obj({
                      "email": string(format="email", max_length=254),
                      "name": string(N_("2 to 120 characters after collapsing white space"), min_length=2,
                                     max_length=120),
                      "password": string(N_("8 to 128 characters, not a common password, not your e-mail name"),
                                         min_length=8, max_length=128),
                      "phone": nullable(string(N_("Digits, optionally starting with +; spaces, dashes and "
                                                  "brackets are ignored"), max_length=32)),
                      "area": {"type": ["integer", "string", "null"], "minimum": 1, "maximum": INT32_MAX,
                               "description": N_("An area of the governorate, by id or code")},
                  }, required=["email", "name", "password"]),
                  responses=ok(ref("User"), "The new account (verified unless e-mail verification is required)",
                               status=201, location=True),
                  description="An address held by an account that was never confirmed is not taken: the new "
                              "sign-up replaces that account and a fresh code goes to the address.",
                  errors={400: ["invalid_input", "weak_password", "invalid_name", "name_reserved"],
                          409: ["email_taken"]}),
        operation("post", "/auth/verify", "verify", N_("Confirm an e-mail address with the mailed code"),
                  who=ANYONE, tag="accounts", public=True, rate_limited=True,
                  description="Needed only when MAJLIS_EMAIL_VERIFICATION=required. An unknown address, an "
                              "account already confirmed and a wrong code get the same answer; every failure "
                              "counts toward the account's throttle, shared with sign-in.",
                  body=obj({"email": string(format="email"), "code": string(N_("The 6-digit code"), max_length=64)},
                           required=["email", "code"]),
                  responses=ok(ref("User"), "The account, now verified"),
                  errors={400: ["invalid_input", "bad_code"], 429: ["too_many_attempts"]}),
        operation("post", "/auth/verify/resend", "resend_code", N_("Send a new verification code"),
                  who=ANYONE, tag="accounts", public=True, rate_limited=True,
                  description="Accepted whatever the address: a code goes out only to an account waiting for "
                              "confirmation, at most once a minute and five times a day.",
                  body=obj({"email": string(format="email", max_length=254)}, required=["email"]),
                  responses=ok(None, "Accepted; a code is sent if an account is waiting for one", status=202),
                  errors={400: ["invalid_input"]}),
        operation("post", "/auth/token", "create_token", N_("Sign in and get a bearer token"), who=ANYONE,
                  tag="accounts", public=True, rate_limited=True,
                  body=obj({"email": string(), "password": string(),
                            "label": string(N_("At most 100 characters; to recognise the token later"),
                                            max_length=100)},
                           required=["email", "password"]),
                  description="After repeated failures the account is locked for a growing delay (429 "
                              "`too_many_attempts` with Retry-After), whatever the client's address.",
                  responses=ok(ref("Token"), "The token", status=201),
                  errors={400: ["invalid_input"], 401: ["bad_credentials"],
                          403: ["account_disabled", "email_unverified"], 429: ["too_many_attempts"]}),
        operation("delete", "/auth/token", "revoke_token", N_("Revoke the bearer token used for this request"),
                  who=ANY_USER, tag="accounts", responses=NO_CONTENT, errors={400: ["no_bearer_token"]}),
        operation("get", "/me", "me", N_("The signed-in account"), who=ANY_USER, tag="accounts",
                  responses=ok(ref("User"))),
        operation("post", "/me/password", "change_password", N_("Change the password"), who=ANY_USER,
                  tag="accounts", rate_limited=True,
                  description="Every other session and API token of the account ends; the token (or browser "
                              "session) making the change stays valid.",
                  body=obj({"current_password": string(),
                            "new_password": string(N_("8 to 128 characters, not a common password, not your "
                                                      "e-mail name"), min_length=8, max_length=128)},
                           required=["current_password", "new_password"]),
                  responses=NO_CONTENT,
                  errors={400: ["invalid_input", "weak_password", "wrong_password"], 429: ["too_many_attempts"]}),

        # --- notifications
        operation("get", "/me/notifications", "get_notification_choices",
                  N_("My notification choices: each kind of notice and its channels"), who=ANY_USER,
                  tag="notifications", responses=ok(ref("NotificationChoices")),
                  description="A kind the user never set shows the default: e-mail, plus push and SMS once set up."),
        operation("put", "/me/notifications", "put_notification_choices",
                  N_("Choose the channels of kinds of notice"), who=ANY_USER, tag="notifications",
                  description="The kinds given are set, the others keep theirs. A channel not set up yet (no push "
                              "subscription, no verified number) may be chosen: it carries the notices once it is.",
                  body=obj({kind: {"type": "array", "items": enum(CHANNELS), "uniqueItems": True}
                            for kind in CHOICE_KINDS}, closed=True),
                  responses=ok(ref("NotificationChoices"), "Every kind with its channels"),
                  errors={400: ["invalid_input"]}),
        operation("get", "/me/push-subscriptions", "list_push_subscriptions", N_("My Web Push subscriptions"),
                  who=ANY_USER, tag="notifications",
                  responses=ok(list_of("subscriptions", ref("PushSubscription")))),
        operation("post", "/me/push-subscriptions", "add_push_subscription",
                  N_("Register a Web Push subscription (a browser's or the app's)"), who=ANY_USER,
                  tag="notifications",
                  description="The subscription as the Push API gives it (`PushSubscription.toJSON()`), for the "
                              "server's key (MAJLIS_VAPID_PUBLIC_KEY). The endpoint must be https:// (http only on "
                              "a loopback address, outside production). The same endpoint again replaces its keys.",
                  body=obj({
                      "endpoint": string(N_("The push service's URL for this subscription"), format="uri",
                                         max_length=1000),
                      "keys": obj({"p256dh": string(N_("The P-256 public key, base64url"), max_length=100),
                                   "auth": string(N_("The 16-byte authentication secret, base64url"),
                                                  max_length=50)}, required=["p256dh", "auth"]),
                      "expirationTime": nullable(integer(0)),
                  }, required=["endpoint", "keys"]),
                  responses=ok(ref("PushSubscription"), "The subscription", status=201),
                  errors={400: ["invalid_input"], 503: ["push_not_configured"]}),
        operation("delete", "/me/push-subscriptions", "remove_push_subscription",
                  N_("Remove a Web Push subscription"), who=ANY_USER, tag="notifications",
                  body=obj({"endpoint": string(max_length=1000)}, required=["endpoint"]),
                  responses=NO_CONTENT, errors={400: ["invalid_input"]}),
        operation("post", "/me/phone", "request_phone_code", N_("Send a code by SMS to a mobile number"),
                  who=ANY_USER, tag="notifications", rate_limited=True,
                  description="A 6-digit code, valid 10 minutes; at most five codes an hour.",
                  body=obj({"phone": string(N_("E.164, e.g. +97333123456 (spaces and dashes are ignored)"),
                                            max_length=32)}, required=["phone"]),
                  responses=ok(record({"phone": string("The number as stored (E.164)"),
                                       "expires_in": integer(1, description="Seconds the code stays valid")}),
                               "The code is on its way", status=202),
                  errors={400: ["invalid_input"], 429: ["too_many_codes"]}),
        operation("post", "/me/phone/verify", "verify_phone", N_("Verify my mobile number with the code sent"),
                  who=ANY_USER, tag="notifications", rate_limited=True,
                  body=obj({"code": string(N_("The 6-digit code"), max_length=64)}, required=["code"]),
                  responses=NO_CONTENT, errors={400: ["invalid_input", "bad_code"]}),
        operation("get", "/bodies", "bodies", N_("List the government bodies"), who=ANY_USER, tag="directory",
                  responses=ok(list_of("bodies", ref("Body")))),

        # --- schedule
        operation("get", "/series", "list_series", N_("List the series"), who=PUBLIC_READ, tag="schedule", public=True,
                  description="Invited-only series are listed for moderators, staff and officials.",
                  responses=ok(list_of("series", ref("Series")))),
        operation("post", "/series", "create_series", N_("Create a series and its occurrences"), who=STAFF,
                  tag="schedule", body=series_input, forbidden=["forbidden"],
                  responses=ok(ref("Series"), "The series", status=201, location=True),
                  errors={400: ["invalid_input"]}),
        operation("get", "/series/{series_id}", "get_series", N_("One series"), who=PUBLIC_READ, tag="schedule",
                  public=True,
                  responses=ok(ref("Series"))),
        operation("get", "/sessions", "list_sessions", N_("List sessions"), who=PUBLIC_READ, tag="schedule",
                  public=True,
                  params=session_list_params, responses={**ok(sessions), **NOT_MODIFIED},
                  errors={400: ["invalid_input"]}),
        operation("post", "/sessions", "create_session", N_("Create a one-off session"), who=STAFF,
                  tag="schedule", body=session_input, forbidden=["forbidden"],
                  responses=ok(ref("Session"), "The session", status=201, location=True),
                  errors={400: ["invalid_input"]}),
        operation("get", "/sessions/{session_id}", "get_session", N_("One session"), who=PUBLIC_READ,
                  tag="schedule", public=True, responses=ok(ref("Session"))),
        operation("patch", "/sessions/{session_id}", "update_session",
                  N_("Move a session or change its seats or registration window"), who=STAFF, tag="schedule",
                  body=session_patch, forbidden=["forbidden"], responses=ok(ref("Session"), "The session"),
                  errors={400: ["invalid_input"], 409: ["session_cancelled", "seats_taken"]}),
        operation("post", "/sessions/{session_id}/cancel", "cancel_session", N_("Cancel a session"), who=STAFF,
                  tag="schedule", forbidden=["forbidden"],
                  body=obj({"reason": string(N_("3 to 500 characters residents will see"), min_length=3,
                                             max_length=500)}, required=["reason"]),
                  responses=ok(ref("Session"), "The session, status cancelled"),
                  errors={400: ["invalid_input"], 409: ["session_cancelled", "session_ended"]}),
        operation("get", "/export/calendar.ics", "export_calendar", N_("Export the calendar (iCalendar)"),
                  who=STAFF, tag="schedule", params=session_list_params, forbidden=["forbidden"],
                  responses={**ok(string("RFC 5545 text"), "The feed, with an ETag", media_type="text/calendar"),
                             **NOT_MODIFIED},
                  errors={400: ["invalid_input"]}),

        # --- registrations and the video room
        operation("post", "/sessions/{session_id}/registrations", "register", N_("Register for a session"),
                  who=RESIDENT, tag="registrations", forbidden=["residents_only"],
                  body=obj({"mode": enum(SeatMode, N_("The seat pool; default online (in the hall for an "
                                                      "in-person session)"))}, closed=True),
                  body_required=False,
                  responses=ok(ref("Registration"), "A seat, or a place in the pool's waiting line", status=201),
                  errors={400: ["invalid_input"],
                          409: ["already_registered", "registration_closed", "session_cancelled"]}),
        operation("post", "/sessions/{session_id}/check-in", "check_in", N_("Check a resident in at the door"),
                  who=STAFF_OR_MODERATOR, tag="registrations", forbidden=["forbidden"],
                  body=obj({"code": string(N_("The resident's check-in code; case, spaces and dashes do not "
                                              "matter"), min_length=1, max_length=20)}, required=["code"]),
                  responses=ok(ref("CheckIn"), "The resident, checked in"),
                  errors={400: ["invalid_input"], 404: ["unknown_code"],
                          409: ["already_checked_in", "not_confirmed", "session_cancelled"]}),
        operation("get", "/sessions/{session_id}/registrations/me", "my_registration",
                  N_("My registration for a session"), who=ANY_USER, tag="registrations",
                  responses=ok(ref("Registration")), errors={404: ["not_registered"]}),
        operation("delete", "/sessions/{session_id}/registrations/me", "cancel_registration",
                  N_("Give up my seat or place in line"), who=ANY_USER, tag="registrations",
                  responses=NO_CONTENT, errors={404: ["not_registered"], 409: ["session_started"]}),
        operation("get", "/sessions/{session_id}/registrations", "list_registrations",
                  N_("List a session's registrants"), who=STAFF_OR_MODERATOR, tag="registrations",
                  forbidden=["forbidden"], responses=ok(list_of("registrations", ref("Registrant")))),
        operation("post", "/sessions/{session_id}/join", "join", N_("Get a token for the session's video room"),
                  who=ENTITLED, tag="registrations", forbidden=["not_registered"],
                  description="The token's role: moderator (the Governor's office), participant (a seat, an "
                              "invitation, or a question on air until shortly after its answer), or visitor "
                              "(view-only, with JITSI_VISITORS) for the waiting line and public viewing.",
                  responses=ok(ref("RoomToken")),
                  errors={409: ["session_cancelled", "not_open_yet", "session_ended", "no_room"],
                          503: ["jitsi_not_configured"]}),

        # --- questions
        operation("get", "/sessions/{session_id}/questions", "list_questions", N_("List a session's questions"),
                  who=PUBLIC_READ, tag="questions", public=True,
                  description="The public sees approved, on-air and answered questions (and their own); "
                              "moderators see all.",
                  responses={**ok(list_of("questions", ref("Question"),
                                          version=integer(0, description="Rises with every change; for polling"))),
                             **NOT_MODIFIED}),
        operation("post", "/sessions/{session_id}/questions", "ask", N_("Ask a question"), who=REGISTRANT,
                  tag="questions", rate_limited=True, forbidden=["not_registered"],
                  body=obj({"body": question_body, "anonymous": {"type": "boolean", "default": False},
                            "category": nullable(enum(CATEGORIES))}, required=["body"]),
                  responses=ok(ref("Question"), "The question, pending moderation", status=201),
                  errors={400: ["invalid_input", "invalid_length"],
                          409: ["session_cancelled", "questions_closed"]}),
        operation("patch", "/questions/{question_id}", "edit_question", N_("Edit my pending question"),
                  who=AUTHOR, tag="questions", body=obj({"body": question_body}, required=["body"]),
                  responses=ok(ref("Question")),
                  errors={400: ["invalid_input", "invalid_length"], 409: ["not_pending"]}),
        operation("delete", "/questions/{question_id}", "withdraw_question", N_("Withdraw my pending question"),
                  who=AUTHOR, tag="questions", responses=NO_CONTENT, errors={409: ["not_pending"]}),
        operation("post", "/questions/{question_id}/vote", "vote", N_("Vote for a question (once)"),
                  who=RESIDENT, tag="questions", forbidden=["residents_only"], responses=ok(ref("Votes")),
                  errors={409: ["not_votable"]}),
        operation("delete", "/questions/{question_id}/vote", "unvote", N_("Take my vote back"), who=RESIDENT,
                  tag="questions", forbidden=["residents_only"], responses=ok(ref("Votes"))),
        operation("post", "/questions/{question_id}/moderation", "moderate", N_("Moderate a question"),
                  who=OFFICE, tag="questions", forbidden=["forbidden"],
                  description="`reject` refuses a pending question or withdraws an approved one from the public "
                              "list, with the reason its author sees. `merge` folds a pending or approved question "
                              "into any other question of the session (`into`), its voters joining that one's.",
                  body=obj({
                      "action": enum(["approve", "reject", "on_air", "answered", "merge"]),
                      "into": {**DIGITS_ID, "description": N_("For merge: a question of the same session")},
                      "note": nullable(string(N_("For reject (required, the reason the author sees) and "
                                                 "answered; at most 1000 characters"), max_length=1000)),
                  }, required=["action"]),
                  responses=ok(ref("Question")),
                  errors={400: ["invalid_input"], 409: ["illegal_transition", "another_on_air"]}),

        # --- follow-up cases
        operation("post", "/questions/{question_id}/case", "open_case", N_("Turn a question into a follow-up case"),
                  who=OFFICE, tag="cases", forbidden=["forbidden"],
                  body=obj({
                      "body_id": {**DIGITS_ID, "description": N_("The government body that answers")},
                      "due_on": nullable({**DAY, "description": N_("Default: today plus the body's SLA days")}),
                      "reference": nullable(string(N_("The body's reference number"), max_length=64)),
                      "category": nullable({**CATEGORY_CODE, "description": N_("Optional; one of the body's")}),
                  }, required=["body_id"]),
                  responses=ok(ref("CaseWithUpdates"), "The case", status=201, location=True),
                  errors={400: ["invalid_input"], 409: ["illegal_transition", "case_exists"]}),
        operation("get", "/cases", "list_cases", N_("List the cases I may see"), who=CASE_PARTIES, tag="cases",
                  params=[query("status", enum(["open", "closed"]), N_("Only open or only closed cases"))],
                  responses=ok(list_of("cases", ref("Case")))),
        operation("get", "/cases/{case_id}", "get_case", N_("One case and its history"), who=CASE_PARTIES,
                  tag="cases", responses=ok(ref("CaseWithUpdates"))),
        operation("post", "/cases/{case_id}/updates", "add_update", N_("Add a dated update to a case"),
                  who=CASE_PARTIES, tag="cases",
                  description="Officials and the office report progress, resolve, decline or hand over "
                              "(`to_body`); the resident confirms a resolution or reopens once within 14 days.",
                  body=obj({
                      "text": string(N_("At most 2000 characters; required except for the resident"), max_length=2000),
                      "status": nullable(enum([*CaseStatus, "reopened"])),
                      "to_body": {**DIGITS_ID, "description": N_("Hand the case over to this body")},
                  }),
                  responses=ok(ref("CaseWithUpdates"), "The case"),
                  errors={400: ["invalid_input"], 409: ["illegal_transition", "reopen_used", "reopen_expired"]}),
        operation("get", "/categories", "list_categories", N_("List the categories of requests"), who=ANY_USER,
                  tag="cases", responses=ok(list_of("categories", ref("Category")))),
        operation("post", "/cases", "create_case", N_("Open a case received by any channel"), who=OFFICE,
                  tag="cases", forbidden=["forbidden"],
                  description="A need received by phone, social media, e-mail or seen on a field visit goes "
                              "straight to its body, due by its category's days unless `due_on` is given. It "
                              "follows a resident's account (`resident_id`) or the contact details given "
                              "(`contact`, never published), or neither.",
                  body=obj({
                      "channel": enum(CaseChannel),
                      "body_id": {**DIGITS_ID, "description": N_("The government body; the category's own")},
                      "category": CATEGORY_CODE,
                      "description": DESCRIPTION,
                      "area_id": nullable({**DIGITS_ID, "description": N_("An area of the governorate")}),
                      "resident_id": nullable({**DIGITS_ID, "description": N_("The resident's account")}),
                      "contact": nullable(obj({
                          "name": nullable(string(max_length=120)),
                          "phone": nullable(string(N_("Digits with an optional leading +"), max_length=32)),
                          "email": nullable(string(max_length=254)),
                      })),
                      "place": nullable(PLACE_INPUT),
                      "session_id": nullable({**DIGITS_ID, "description": N_("The majlis or field visit it "
                                                                              "was raised in")}),
                      "due_on": nullable({**DAY, "description": N_("Default: today plus the category's days")}),
                      "reference": nullable(string(N_("The body's reference number"), max_length=64)),
                  }, required=["channel", "body_id", "category", "description"]),
                  responses=ok(ref("CaseWithUpdates"), "The case", status=201, location=True),
                  errors={400: ["invalid_input"]}),
        operation("post", "/requests", "submit_request", N_("Send a request (from the app)"), who=RESIDENT,
                  tag="cases", forbidden=["residents_only"], rate_limited=True,
                  description="The request waits (status `submitted`) until the Governor's office sends it to "
                              "the government body of its category.",
                  body=obj({"category": CATEGORY_CODE, "description": DESCRIPTION,
                            "area_id": nullable({**DIGITS_ID, "description": N_("Default: the resident's area")}),
                            "place": nullable(PLACE_INPUT)}, required=["category", "description"]),
                  responses=ok(ref("CaseWithUpdates"), "The case, waiting for triage", status=201, location=True),
                  errors={400: ["invalid_input"]}),
        operation("post", "/cases/{case_id}/triage", "triage_case", N_("Send a waiting request to a body"),
                  who=OFFICE, tag="cases", forbidden=["forbidden"],
                  body=obj({"category": {**CATEGORY_CODE, "description": N_("The category, which decides the body")},
                            "due_on": nullable({**DAY, "description": N_("Default: the request's date plus the "
                                                                         "category's days")})},
                           required=["category"]),
                  responses=ok(ref("CaseWithUpdates"), "The case, open with its body"),
                  errors={400: ["invalid_input"], 409: ["already_triaged"]}),
        operation("post", "/cases/{case_id}/feedback", "give_feedback", N_("Answer \"was it fixed?\""),
                  who=CASE_RESIDENT, tag="cases", forbidden=["not_your_case"],
                  description="Once per resolution, within 30 days of it. `fixed` confirms the case; `not_fixed` "
                              "reopens it to its body.",
                  body=obj({"outcome": enum(FeedbackOutcome), "rating": nullable(integer(1, 5)),
                            "comment": nullable(string(N_("At most 1000 characters"), max_length=1000))},
                           required=["outcome"]),
                  responses=ok(ref("CaseWithUpdates"), "The case"),
                  errors={400: ["invalid_input"], 409: ["feedback_closed", "feedback_given"]}),
        operation("post", "/cases/{case_id}/contact-consent", "contact_consent",
                  N_("Say whether the body may contact me"), who=CASE_RESIDENT, tag="cases",
                  forbidden=["not_your_case"],
                  description="For a case raised by an anonymous question: `true` shows the resident's name to the "
                              "body (it may contact them), `false` keeps it hidden (the office relays). The answer "
                              "can be changed.",
                  body=obj({"agree": BOOLEAN}, required=["agree"]),
                  responses=ok(ref("CaseWithUpdates"), "The case"),
                  errors={400: ["invalid_input"], 409: ["consent_not_asked"]}),
        operation("get", "/accountability", "accountability", N_("The accountability figures"), who=ANYONE,
                  tag="cases", public=True,
                  description="Per body, area, channel, category or month: opened, open and overdue at the end of "
                              "the range, closed on time and late, median days to close, and the residents' "
                              "answers. No personal data.",
                  params=[query("from", DAY, N_("First local day; default the first day of the month 11 months "
                                                "ago")),
                          query("to", DAY, N_("Last local day; default today")),
                          query("group_by", enum(GROUPINGS), N_("Default body"))],
                  responses=ok(ref("Accountability")), errors={400: ["invalid_input"]}),

        # --- minutes and the archive
        operation("get", "/sessions/{session_id}/minutes", "get_minutes", N_("Read a session's minutes"),
                  who=MINUTES_READERS, tag="minutes", public=True,
                  description="Without `revision`: the latest published revision, or for staff the draft or "
                              "approved text (then `published_at` and `revision` are null).",
                  params=[query("revision", integer(1), N_("A published revision; default the latest"))],
                  responses=minutes_ok, errors={400: ["invalid_input"], 404: ["no_minutes", "no_revision"]}),
        operation("put", "/sessions/{session_id}/minutes", "put_minutes", N_("Write the draft minutes"),
                  who=STAFF, tag="minutes", forbidden=["forbidden"],
                  body=obj({"body": MINUTES_BODY}, required=["body"]), responses=minutes_ok,
                  errors={400: ["invalid_input"], 409: ["minutes_locked"]}),
        operation("post", "/sessions/{session_id}/minutes/approve", "approve_minutes", N_("Approve the minutes"),
                  who=STAFF, tag="minutes", forbidden=["forbidden"], responses=minutes_ok,
                  errors={404: ["no_minutes"], 409: ["illegal_transition"]}),
        operation("post", "/sessions/{session_id}/minutes/publish", "publish_minutes", N_("Publish the minutes"),
                  who=STAFF, tag="minutes", forbidden=["forbidden"], responses=minutes_ok,
                  errors={404: ["no_minutes"], 409: ["illegal_transition"]}),
        operation("post", "/sessions/{session_id}/minutes/revisions", "revise_minutes",
                  N_("Publish a corrected revision of the minutes"), who=STAFF, tag="minutes",
                  forbidden=["forbidden"],
                  body=obj({"body": MINUTES_BODY,
                            "reason": string(N_("3 to 1000 characters after collapsing white space"),
                                             min_length=3, max_length=1000)},
                           required=["body", "reason"]),
                  responses=ok(ref("Minutes"), "The minutes with the new published revision", status=201),
                  errors={400: ["invalid_input"], 404: ["no_minutes"], 409: ["illegal_transition"]}),
        operation("get", "/archive", "archive", N_("Search the published minutes"), who=PUBLIC_READ, tag="minutes",
                  public=True,
                  description="Minutes and transcripts, on the database's full-text index; Arabic spelling "
                              "variants (hamza, taa marbuta, alef maqsura, diacritics, tatweel) match; ranked.",
                  params=[query("q", string(), N_("Words to look for, in Arabic or English; spelling variants "
                                                  "match"))],
                  responses=ok(list_of("results", ref("ArchiveResult")))),
        operation("get", "/sessions/{session_id}/attachments/{attachment_id}", "get_attachment",
                  N_("Download a recording, transcript or chat log"), who=MINUTES_READERS, tag="minutes",
                  public=True,
                  description="Staff always; others once it is published with published minutes. From an S3 "
                              "store the answer is a redirect to a short-lived link.",
                  responses={**ok({"type": "string", "contentMediaType": "application/octet-stream"}, "The file",
                                  media_type="application/octet-stream"),
                             "302": {"description": "A short-lived link to the file in the S3-compatible store"}},
                  errors={404: ["no_attachment"]}),
        operation("patch", "/sessions/{session_id}/attachments/{attachment_id}", "publish_attachment",
                  N_("Publish an attachment with the minutes, or keep it for staff"), who=STAFF, tag="minutes",
                  forbidden=["forbidden"], body=obj({"public": {"type": "boolean"}}, required=["public"],
                                                    closed=True),
                  responses=ok(ref("Attachment")),
                  errors={400: ["invalid_input"], 404: ["no_attachment"], 409: ["transcript_in_minutes"]}),

        # --- the video service's events
        operation("post", "/jitsi/events", "jitsi_events", N_("Receive an event of the video service"),
                  who=VIDEO_SERVICE, tag="video", public=True,
                  description="JaaS webhooks (PARTICIPANT_JOINED, PARTICIPANT_LEFT, PARTICIPANT_JOINED_LOBBY, "
                              "ROOM_CREATED, ROOM_DESTROYED, RECORDING_UPLOADED, TRANSCRIPTION_UPLOADED, "
                              "CHAT_UPLOADED...) with `X-Jaas-Signature: t=<unix>,v1=<base64 HMAC-SHA256 of "
                              "\"<t>.<body>\">` (older than 5 minutes: 401), or Prosody event-sync posts with "
                              "`Authorization: Bearer <JITSI_EVENTS_TOKEN>`. A repeated idempotencyKey (or body) "
                              "changes nothing. Joins and leaves become attendance; uploads are fetched.",
                  body=obj({"idempotencyKey": string(), "eventType": string(), "timestamp": integer(0),
                            "fqn": string(), "data": {"type": "object"}, "event_name": string()}),
                  params=[{"name": "X-Jaas-Signature", "in": "header", "required": False,
                           "description": N_("The JaaS signature"), "schema": string()}],
                  responses=ok(ref("EventReceipt")),
                  errors={400: ["invalid_input", "bad_event"], 401: ["bad_signature"], 413: ["too_large"]}),
        operation("post", "/jitsi/events/{event}", "jitsi_event_sync", N_("Receive a Prosody event-sync post"),
                  who=VIDEO_SERVICE, tag="video", public=True,
                  body=obj({"event_name": string(), "room_name": string(), "occupant": {"type": "object"}}),
                  responses=ok(ref("EventReceipt")),
                  errors={400: ["invalid_input", "bad_event"], 401: ["bad_signature"], 413: ["too_large"]}),

        # --- open data and Open311
        *public_data(),

        # --- this document
        operation("get", "/openapi.json", "openapi_document", N_("This OpenAPI document"), who=ANYONE,
                  tag="meta", public=True, responses=ok({"type": "object"}, "The OpenAPI 3.1 document")),
        operation("get", "/docs", "docs", N_("This API's reference page (HTML)"), who=ANYONE, tag="meta",
                  public=True, responses=ok(string(), "The page", media_type="text/html")),
    ]


def open311_errors(statuses: tuple[int, ...], media_type: str) -> dict:
    """GeoReport v2's error list (in the document's format), for each status."""
    schema = ref("Open311Errors") if media_type == JSON else string("<errors><error><code/><description/></error>"
                                                                    "</errors>")
    return {str(status): {"description": ERROR_DESCRIPTIONS[status], "content": {media_type: {"schema": schema}}}
            for status in statuses}


def _open311_operation(fmt: str, path: str, op_id: str, summary: str, schema_name: str, *, many: bool = True,
                       params=(), errors=(), description: str | None = None) -> tuple:
    """One GeoReport v2 read in one format: `.json` (the schema) or `.xml` (text)."""
    media_type = JSON if fmt == "json" else XML
    if fmt == "xml":
        schema = string("GeoReport v2 XML")
    else:
        schema = {"type": "array", "items": ref(schema_name)} if many else ref(schema_name)
    spec: dict = {"operationId": f"{op_id}_{fmt}", "summary": summary, "tags": ["open data"], "security": [],
                  "x-majlis-who": ANYONE,
                  "responses": {"200": {"description": "Success", "content": {media_type: {"schema": schema}}},
                                **open311_errors(errors, media_type)}}
    if description:
        spec["description"] = description
    parameters = [{"name": "service_request_id", "in": "path", "required": True,
                   "description": N_("The service request's id (the case's number)"), "schema": string()}
                  ] if "{" in path else []
    parameters += list(params)
    if parameters:
        spec["parameters"] = parameters
    return f"{OPEN311_PREFIX}{path}.{fmt}", "get", spec


def public_data() -> list[tuple]:
    """Open311 GeoReport v2 (JSON and XML) and the open data files: public, read-only, without personal data."""
    lang = [query("lang", enum(["ar", "en"]), N_("The language of names and notes (default Arabic)")),
            query("jurisdiction_id", string(), N_("Accepted and ignored: there is one jurisdiction"))]
    request_params = [
        query("start_date", string(N_("ISO 8601 (w3c); default end_date minus 90 days"), format="date-time"),
              N_("Requests opened from this instant")),
        query("end_date", string(N_("ISO 8601 (w3c); default start_date plus 90 days, or now"), format="date-time"),
              N_("Requests opened until this instant; at most 90 days after start_date")),
        query("status", string(N_("open, closed, or both separated by a comma")), N_("Only these statuses")),
        query("service_code", string(N_("Codes separated by commas")), N_("Only these services")),
        query("service_request_id", string(N_("Ids separated by commas; overrides the other filters")),
              N_("Only these requests")),
        *lang,
    ]
    found = []
    for fmt in ("json", "xml"):
        found += [
            _open311_operation(fmt, "/discovery", "open311_discovery", N_("Open311 service discovery"),
                               "Open311Discovery", many=False),
            _open311_operation(fmt, "/services", "open311_services",
                               N_("Open311 services (the categories of requests)"), "Open311Service", params=lang),
            _open311_operation(fmt, "/requests", "open311_requests", N_("Open311 service requests (published cases)"),
                               "Open311Request", params=request_params, errors=(400,),
                               description="At most 1000, newest first. The location is the area unless the "
                                           "resident agreed to publish the place; no name, e-mail, phone or free "
                                           "text."),
            _open311_operation(fmt, "/requests/{service_request_id}", "open311_request",
                               N_("One Open311 service request"), "Open311Request", params=lang, errors=(404,)),
        ]
    range_params = [query("from", DAY, N_("Cases opened from this local day")),
                    query("to", DAY, N_("Cases opened until this local day"))]
    files = (("csv", "text/csv", string(N_("UTF-8 CSV, a header line then a case per line"))),
             ("json", JSON, record({"fields": {"type": "array", "items": string()},
                                    "cases": {"type": "array", "items": ref("OpenDataCase")}})))
    for fmt, media_type, schema in files:
        found.append((f"{OPEN_DATA_PREFIX}/cases.{fmt}", "get", {
            "operationId": f"open_data_cases_{fmt}", "summary": N_("Open data: every published case"),
            "tags": ["open data"], "security": [], "x-majlis-who": ANYONE,
            "description": "Anonymised: see the data dictionary at /open-data.",
            "parameters": range_params,
            "responses": {"200": {"description": "Success", "content": {media_type: {"schema": schema}}},
                          "400": error(400, ["invalid_input"])},
        }))
    return found


@lru_cache(maxsize=1)
def _document() -> dict:
    paths: dict[str, dict] = {}
    for path, method, spec in _operations():
        paths.setdefault(path, {})[method] = spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Majlis API",
            "version": "1",
            "summary": "The Capital Governorate's virtual majlis: sessions, registration, questions, cases",
            "description": (
                "JSON over HTTPS under /api/v1. Authenticate with `Authorization: Bearer <token>`, or from "
                "the browser with the session cookie (then unsafe methods need the CSRF token). The public reads "
                "(sessions, series, questions of public sessions, published minutes, the archive) need no token; "
                "elsewhere no token gives 401, and a bad token gives 401 everywhere; the wrong role 403. "
                "Every error is the status code plus "
                '`{"error": {"code", "message", "field"}}`; `code` is stable, `message` is in the language of '
                "Accept-Language (Arabic by default). Timestamps are ISO 8601 with an offset; ids are integers."
            ),
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": name} for name in
                 ("accounts", "notifications", "directory", "schedule", "registrations", "questions", "cases",
                  "minutes", "video", "open data", "meta")],
        "paths": paths,
        "components": _components(),
    }


def document() -> dict:
    """The OpenAPI 3.1 document as a fresh dict (callers may change their copy)."""
    return copy.deepcopy(_document())


def reference_markdown() -> str:
    """docs/api.md: the document's operations as a Markdown table (regenerate with `majlis api-reference`)."""
    doc = _document()
    lines = [
        "# The Majlis HTTP API",
        "",
        "<!-- Generated by `majlis api-reference -o docs/api.md` from the OpenAPI document; do not edit by hand. -->",
        "",
        doc["info"]["description"],
        "",
        "The full reference, with every request field, limit and error code, is served by the application itself:",
        "",
        "- `GET /api/v1/openapi.json`: the OpenAPI 3.1 document (for code generators and API clients);",
        "- `GET /api/v1/docs`: the same as a page, in Arabic or English.",
        "",
        "| method | route | who | what |",
        "|---|---|---|---|",
    ]
    for entry in describe_operations(doc):
        lines.append(f"| {entry['method']} | `{entry['path']}` | {entry['who']} | {entry['summary']} |")
    return "\n".join(lines) + "\n"


# --- the docs page ------------------------------------------------------------------------------------------------


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def describe_schema(schema: dict) -> str:
    """A one-line summary of a field's schema: type, allowed values and limits (not translated: it is notation)."""
    if "anyOf" in schema:
        return " | ".join(describe_schema(part) for part in schema["anyOf"])
    kinds = schema.get("type", "any")
    text = " | ".join(kinds) if isinstance(kinds, list) else kinds
    if "enum" in schema:
        text = " | ".join("null" if value is None else f'"{value}"' for value in schema["enum"])
    notes = []
    if "format" in schema:
        notes.append(schema["format"])
    if "minLength" in schema or "maxLength" in schema:
        notes.append(f"{schema.get('minLength', 0)}–{schema.get('maxLength', '…')} chars")
    if "minimum" in schema or "maximum" in schema:
        notes.append(f"{schema.get('minimum', '…')}–{schema.get('maximum', '…')}")
    if "pattern" in schema and "format" not in schema:
        notes.append(schema["pattern"])
    return f"{text} ({', '.join(notes)})" if notes else text


def describe_operations(doc: dict) -> list[dict]:
    """Flatten the document into what the docs page shows, one entry per operation, in document order."""
    components = doc["components"]
    entries = []
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            fields = []
            for parameter in spec.get("parameters", []):
                fields.append({"name": parameter["name"], "where": parameter["in"],
                               "required": parameter["required"], "type": describe_schema(parameter["schema"]),
                               "description": parameter["schema"].get("description", "")})
            body = spec.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema")
            if body is not None:
                body = _resolve(body, components)
                required = set(body.get("required", ()))
                for name, schema in body.get("properties", {}).items():
                    fields.append({"name": name, "where": "body", "required": name in required,
                                   "type": describe_schema(schema), "description": schema.get("description", "")})
            successes, errors = [], []
            for status, response in spec["responses"].items():
                if status[0] in "23":  # successes, redirects and not-modified
                    successes.append({"status": status, "media_type": next(iter(response.get("content", {})), "")})
                    continue
                schema = next(iter(response["content"].values()))["schema"]
                codes = (schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
                         if "allOf" in schema else [])  # GeoReport's own errors carry the status alone
                errors.append({"status": status, "codes": codes})
            entries.append({
                "id": spec["operationId"], "method": method.upper(), "path": path, "summary": spec["summary"],
                "who": spec["x-majlis-who"], "public": not spec["security"], "tag": spec["tags"][0],
                "fields": fields, "successes": successes, "errors": errors,
            })
    return entries


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document())


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", operations=describe_operations(_document()))
