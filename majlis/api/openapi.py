"""The OpenAPI 3.1 document of /api/v1, generated from the routes and the operations their views declare.

The generator walks the URL rules of the API, Open311 and open-data blueprints and, for each, the operation its
view registered (majlis/api/spec.py: `@documented`): summary, who may call it, the request and response models
(pydantic, each capability's schemas.py, emitted as JSON Schema 2020-12, OpenAPI 3.1's own dialect), the error codes
it may answer, its security and its rate limit. The errors every route shares (401 for a bad token, CSRF, invalid
JSON, 413, 404 on an id) are added here. Nothing in this document is written twice: a limit is a constant of the
capability's schemas module, which its services check against.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from flask import Flask, jsonify, render_template
from pydantic.json_schema import models_json_schema

from majlis.api import bp
from majlis.api.spec import (
    ANYONE,
    DAY_OR_EMPTY,
    JSON,
    REGISTRY,
    Operation,
    Response,
    documented,
    is_model,
    ok,
    query,
    register,
)
from majlis.followups.schemas import Figures
from majlis.open311.opendata import DICTIONARY
from majlis.schema_types import INT32_MAX, N_

API_PREFIX = "/api/v1"
OPEN311_PREFIX = "/open311/v2"
OPEN_DATA_PREFIX = "/open-data"
# The routes this document describes: the API, and the public machine-readable data beside it.
DOCUMENTED_PREFIXES = (API_PREFIX + "/", OPEN311_PREFIX + "/", OPEN_DATA_PREFIX + "/")
# Catch-alls that only answer GeoReport's error document for an unknown Open311 path: no operation of their own.
UNDOCUMENTED = frozenset({"open311.unknown"})
XML = "text/xml"
BEARER = [{"bearerAuth": []}]
UNSAFE = {"post", "put", "patch", "delete"}
TAGS = ("accounts", "notifications", "directory", "schedule", "registrations", "questions", "cases", "minutes",
        "video", "open data", "meta")
COMPONENTS = "#/components/schemas/"


# --- small JSON Schema pieces for what is written out (fixed formats, parameters) ---------------------------------


def ref(name: str) -> dict:
    """Point at a schema of the document's components."""
    return {"$ref": COMPONENTS + name}


def string(description: str | None = None, **extra) -> dict:
    """Describe a string, with its description and any other keywords."""
    schema = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def integer(minimum: int | None = None, maximum: int | None = None, description: str | None = None) -> dict:
    """Describe an integer within optional bounds."""
    schema: dict = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict) -> dict:
    """Make a schema nullable: the schema, or JSON null (OpenAPI 3.1 has no `nullable`)."""
    schema = dict(schema)
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    schema["type"] = [*kinds, "null"]
    return schema


def enum(values, description: str | None = None) -> dict:
    """Describe a string that takes one of the given values (enum members by their value)."""
    schema = {"type": "string", "enum": [str(getattr(value, "value", value)) for value in values]}
    if description:
        schema["description"] = description
    return schema


def record(properties: dict, *, description: str | None = None) -> dict:
    """Describe a response object: every field the serializer writes is present."""
    schema: dict = {"type": "object", "properties": properties, "required": list(properties)}
    if description:
        schema["description"] = description
    return schema


INSTANT = string(format="date-time")
ID = integer(1, INT32_MAX)
DAY = string(format="date", description=N_("YYYY-MM-DD"))
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}


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
    """Describe an error response: the shared Error body, its `code` limited to the listed values."""
    return {
        "description": description or ERROR_DESCRIPTIONS[status],
        "content": {JSON: {"schema": {"allOf": [
            ref("Error"),
            {"properties": {"error": {"properties": {"code": {"enum": sorted(set(codes))}}}}},
        ]}}},
    }


# --- this document's own routes -----------------------------------------------------------------------------------


@bp.get("/openapi.json")
@documented(N_("Get this OpenAPI document"), who=ANYONE, tag="meta", public=True,
            responses=ok({"type": "object"}, "The OpenAPI 3.1 document"))
def openapi_document():
    return jsonify(_document())


@bp.get("/docs")
@documented(N_("Show this API's reference page (HTML)"), who=ANYONE, tag="meta", public=True,
            responses=ok(string(), "The page", media_type="text/html"))
def docs():
    return render_template("api/docs.html", operations=describe_operations(_document()))


# --- Open311 and open data: their views are the open311 package's; their operations are declared here -------------


def _open311_errors(statuses: tuple[int, ...], media_type: str) -> dict:
    """Show the API reference page, built from the generated document."""
    """Answer the generated OpenAPI 3.1 document of the API."""
    """GeoReport v2's error list (in the document's format), for each status."""
    schema = ref("Open311Errors") if media_type == JSON else string("<errors><error><code/><description/></error>"
                                                                    "</errors>")
    return {str(status): {"description": ERROR_DESCRIPTIONS[status], "content": {media_type: {"schema": schema}}}
            for status in statuses}


def _instant_or_empty(description: str) -> dict:
    """An instant, or empty for the default (GeoReport clients send the parameter empty)."""
    return {"anyOf": [string(format="date-time"), {"type": "string", "maxLength": 0}], "description": description}


def _register_public_data() -> None:
    """Open311 GeoReport v2 (JSON and XML) and the open data files: public, read-only, without personal data."""
    lang = (query("lang", string(examples=["ar", "en"]),
                  N_("The language of names and notes: en for English, anything else Arabic")),
            query("jurisdiction_id", string(), N_("Accepted and ignored: there is one jurisdiction")))
    request_params = (
        query("start_date", _instant_or_empty(N_("ISO 8601 (w3c); default end_date minus 90 days")),
              N_("Requests opened from this instant")),
        query("end_date", _instant_or_empty(N_("ISO 8601 (w3c); default start_date plus 90 days, or now")),
              N_("Requests opened until this instant; at most 90 days after start_date")),
        query("status", string(N_("open, closed, or both separated by a comma")), N_("Only these statuses")),
        query("service_code", string(N_("Codes separated by commas")), N_("Only these services")),
        query("service_request_id", string(N_("Ids separated by commas; overrides the other filters")),
              N_("Only these requests")),
        *lang,
    )
    reads = (
        ("discovery", N_("Discover the Open311 service"), "Open311Discovery", False, (), (), None),
        ("services", N_("List the Open311 services (the categories of requests)"), "Open311Service", True, lang, (),
         None),
        ("requests", N_("List Open311 service requests (published cases)"), "Open311Request", True, request_params,
         (400,), "Start and end at most 90 days apart. At most 1000, newest first. The location is the area unless "
                 "the resident agreed to publish the place; no name, e-mail, phone or free text."),
        ("request", N_("Get one Open311 service request"), "Open311Request", True, lang, (404,), None),
    )
    for fmt in ("json", "xml"):
        media_type = JSON if fmt == "json" else XML
        for name, summary, schema_name, many, params, errors, description in reads:
            if fmt == "xml":
                body = string("GeoReport v2 XML")
            else:
                body = {"type": "array", "items": ref(schema_name)} if many else ref(schema_name)
            op_id = "open311_request" if name == "request" else f"open311_{name}"
            register(f"open311.{name}_{fmt}", summary, who=ANYONE, tag="open data",
                     refusals=("*",) if errors == (400,) else (),
                     responses=ok(body, media_type=media_type), operation_id=f"{op_id}_{fmt}", security=[],
                     shared_errors=False, params=params, description=description,
                     extra_responses=_open311_errors(errors, media_type))
    range_params = (query("from", DAY_OR_EMPTY, N_("Cases opened from this local day")),
                    query("to", DAY_OR_EMPTY, N_("Cases opened until this local day")))
    files = (("csv", "text/csv", string(N_("UTF-8 CSV, a header line then a case per line"))),
             ("json", JSON, record({"fields": {"type": "array", "items": string()},
                                    "cases": {"type": "array", "items": ref("OpenDataCase")}})))
    for fmt, media_type, schema in files:
        register(f"opendata.cases_{fmt}", N_("Download every published case (open data)"), who=ANYONE, tag="open data",
                 responses=ok(schema, media_type=media_type), operation_id=f"open_data_cases_{fmt}", security=[],
                 refusals=("from", "to"),
                 shared_errors=False, params=range_params,
                 description="Anonymised: see the data dictionary at /open-data.",
                 extra_responses={"400": error(400, ["invalid_input"])})


def _fixed_components() -> dict:
    """The shapes written out: the error body, and GeoReport's and the open data's fixed formats."""
    open_data_types = {"integer": integer(), "text": string(), "date": DAY, "number": NUMBER, "boolean": BOOLEAN}
    always = {"case_id", "channel", "status", "category_code", "category_name_ar", "category_name_en", "body_code",
              "body_name_ar", "body_name_en", "opened_on", "due_on", "reopened"}
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "field"], "properties": {
                "code": string("snake_case, stable: clients branch on it", pattern=r"^[a-z][a-z0-9_]*$"),
                "message": string("Human text in the request's language"),
                "field": nullable(string("The request field at fault")),
            }}}},
        "OpenDataCase": record({f.name: open_data_types[f.kind] if f.name in always
                                else nullable(open_data_types[f.kind]) for f in DICTIONARY}),
        "Open311Request": record({
            "service_request_id": string(), "status": enum(["open", "closed"]), "status_notes": string(),
            "service_name": string(), "service_code": string(), "agency_responsible": string(),
            "service_notice": {"type": "null"}, "requested_datetime": INSTANT, "updated_datetime": INSTANT,
            "expected_datetime": INSTANT,
            "address": nullable(string("The area, or the address when the resident agreed to publish the place")),
            "lat": nullable(NUMBER), "long": nullable(NUMBER),
        }, description="GeoReport v2's service request; no personal data"),
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
    }


SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A token from `POST /api/v1/auth/token`, `majlis token EMAIL` or the account page. "
                                  "The browser's session cookie also works (then unsafe methods need the CSRF token "
                                  "in X-CSRFToken)."},
}


# --- from pydantic's JSON Schema to the document's --------------------------------------------------------------


def _tidy(schema):
    """pydantic's JSON Schema, as the document writes it: no generated titles, no `default: null`, and a nullable
    simple type as a type list (`["string", "null"]`) rather than an anyOf."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    found = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key in ("properties", "$defs", "patternProperties"):
            found[key] = {name: _tidy(part) for name, part in value.items()}
        else:
            found[key] = _tidy(value)
    parts = found.get("anyOf")
    if parts and len(parts) == 2 and {"type": "null"} in parts:
        other = dict(next(part for part in parts if part != {"type": "null"}))
        if "$ref" not in other and "type" in other:
            kinds = other["type"] if isinstance(other["type"], list) else [other["type"]]
            other["type"] = [*kinds, "null"]
            if "enum" in other:
                other["enum"] = [*other["enum"], None]
            del found["anyOf"]
            found = {**other, **found}
    return found


def _model_schemas(models) -> tuple[dict, dict]:
    """JSON Schema of each model (a $ref into the components) and the components they need."""
    models = sorted(set(models), key=lambda model: (model.__module__, model.__qualname__))
    names = [model.__name__ for model in models]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"two models share a name in the document: {sorted(duplicates)}"
    refs, definitions = models_json_schema([(model, "validation") for model in models],
                                           ref_template=COMPONENTS + "{model}")
    return ({model: refs[(model, "validation")] for model in models},
            {name: _tidy(schema) for name, schema in definitions.get("$defs", {}).items()})


# --- the document -------------------------------------------------------------------------------------------------

PATH_PARAMS = {
    "session_id": N_("The session's id"),
    "series_id": N_("The series' id"),
    "question_id": N_("The question's id"),
    "case_id": N_("The case's id"),
    "attachment_id": N_("The attachment's id"),
    "event": N_("What event-sync appends to its api_prefix (events/occupant/joined...); the body says the same"),
    "service_request_id": N_("The service request's id (the case's number)"),
}
PATH_SCHEMAS = {"event": string(pattern=r"^[a-z]+$"), "service_request_id": string()}
# A route argument named differently in the document (GeoReport's own name).
PATH_NAMES = {"request_id": "service_request_id"}
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _routes():
    """(path, method, endpoint) of every documented route, in the order the blueprints define them."""
    from majlis.open311.views import bp as open311_bp
    from majlis.open311.views import data_bp

    app = Flask("majlis-openapi")  # the blueprints' URL rules alone: no database, no configuration
    for blueprint in (bp, open311_bp, data_bp):
        app.register_blueprint(blueprint)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED_PREFIXES) or rule.endpoint in UNDOCUMENTED:
            continue
        path = _ARGUMENT.sub(lambda match: "{" + PATH_NAMES.get(match.group(1), match.group(1)) + "}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), rule.endpoint


def _path_parameters(path: str) -> list[dict]:
    names = re.findall(r"\{([^}]+)\}", path)
    return [{"name": name, "in": "path", "required": True, "description": PATH_PARAMS[name],
             "schema": PATH_SCHEMAS.get(name, ID)} for name in names]


def _body_schema(body, refs: dict, components: dict) -> dict:
    """A request body's schema, inline (a model's own definition, its nested models by reference)."""
    if not is_model(body):
        return body
    return copy.deepcopy(components[refs[body]["$ref"].removeprefix(COMPONENTS)])


def _response_schema(body, refs: dict):
    return refs[body] if is_model(body) else body


def _success(response: Response, refs: dict) -> dict:
    found: dict = {"description": response.description}
    if response.body is not None:
        found["content"] = {response.media_type: {"schema": _response_schema(response.body, refs)}}
    headers = dict(response.headers or {})
    if response.location:
        headers["Location"] = {"description": "The URL of the created object", "schema": string(format="uri-reference")}
    if headers:
        found["headers"] = headers
    return found


def _error_codes(method: str, path: str, op: Operation) -> dict[int, list[str]]:
    """The operation's own error codes with those every API route shares.

    - 401 on every route: a bearer header that is malformed or not valid is refused even on public ones.
    - 400 `csrf_failed` on unsafe methods: a browser session without the CSRF token.
    - 400 `invalid_json` when a JSON body is expected (also: nested too deeply), 413 `too_large` beyond the
      body limit; 404 `not_found` when the path has an id; 429 `rate_limited` beyond the route's rate limit.
    """
    codes: dict[int, list[str]] = {status: list(found) for status, found in op.errors.items()}
    if not op.shared_errors:
        return codes
    if method in UNSAFE:
        codes.setdefault(400, []).append("csrf_failed")
    if op.body is not None:
        codes.setdefault(400, []).append("invalid_json")
        codes.setdefault(413, []).append("too_large")
    codes.setdefault(401, []).extend(["invalid_token"] if op.public else ["unauthorized", "invalid_token"])
    if op.forbidden is not None:
        codes.setdefault(403, []).extend(op.forbidden)
    if "{" in path:
        codes.setdefault(404, []).append("not_found")  # also what routing answers for an id that is not a number
    if op.rate_limit:
        codes.setdefault(429, []).append("rate_limited")
    return codes


def _operation(method: str, path: str, endpoint: str, op: Operation, refs: dict, components: dict) -> dict:
    responses = {str(response.status): _success(response, refs) for response in op.responses}
    codes = _error_codes(method, path, op)
    for status in sorted(codes):
        responses[str(status)] = error(status, codes[status])
    responses.update(op.extra_responses or {})
    if op.security is not None:
        security = op.security
    else:
        security = [] if op.public else BEARER
    spec: dict = {
        "operationId": op.operation_id or endpoint.partition(".")[2],
        "summary": op.summary,
        "tags": [op.tag],
        "security": security,
        "x-majlis-who": op.who,
        "responses": dict(sorted(responses.items())),
    }
    if op.rate_limit:
        spec["x-rate-limit"] = op.rate_limit
    if op.refusals:
        spec["x-majlis-refusals"] = list(op.refusals)
    description = op.description
    if op.rate_limit:
        limit = f"Rate limit: {op.rate_limit}."
        description = f"{description} {limit}" if description else limit
    if description:
        spec["description"] = description
    parameters = _path_parameters(path) + list(op.params)
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {"required": op.body_required,
                               "content": {JSON: {"schema": _body_schema(op.body, refs, components)}}}
    return spec


def _models(operations) -> list:
    found = [Figures]
    for op in operations:
        found += [model for model in (op.body, *(response.body for response in op.responses)) if is_model(model)]
    return found


def build_document() -> dict:
    """Generate the document afresh from the routes and the registry (tests regenerate it after a change)."""
    if not any(endpoint.startswith("open311.") for endpoint in REGISTRY):
        _register_public_data()
    routes = list(_routes())
    missing = sorted({endpoint for _, _, endpoint in routes if endpoint not in REGISTRY})
    assert not missing, f"routes without a documented operation (majlis/api/spec.py): {missing}"
    refs, components = _model_schemas(_models(REGISTRY[endpoint] for _, _, endpoint in routes))
    components.update(_fixed_components())
    paths: dict[str, dict] = {}
    for path, method, endpoint in routes:
        paths.setdefault(path, {})[method] = _operation(method, path, endpoint, REGISTRY[endpoint], refs, components)
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
        "tags": [{"name": name} for name in TAGS],
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": dict(sorted(components.items()))},
    }


@lru_cache(maxsize=1)
def _document() -> dict:
    return build_document()


def document() -> dict:
    """Return the OpenAPI 3.1 document as a fresh dict (callers may change their copy)."""
    return copy.deepcopy(_document())


HOW_IT_IS_MADE = """\
## How this API is declared

Each capability declares its JSON in one module, `majlis/<capability>/schemas.py`: the limits of its fields
(constants its services check against), its request models, and its response models, each with the one function
that serializes it. Each view declares its operation beside its route (`@documented` in `majlis/api/spec.py`):
summary, who may call it, request and response models, the error codes it may answer and its rate limit (which
the same declaration applies). The OpenAPI document is generated from the routes and those declarations, so a
limit changed in its schemas module changes the check, its error message and the document together.

The services remain the one place a request is checked (the web forms call the same functions), against those
constants; a view that needs a body's types checked before a service does uses `parsed()` (majlis/api), which
answers a pydantic `ValidationError` with the usual `invalid_input` error naming the field, in Arabic or English.
Fields that well-formed input may still be refused for (an id that must exist, a code sent by SMS, a date range,
an RRULE) are listed per operation in the document as `x-majlis-refusals`.

The models are [pydantic](https://docs.pydantic.dev/) v2, chosen over marshmallow (through APIFlask or
flask-smorest) for three reasons:

- **speed**: pydantic's core is compiled (Rust); marshmallow validates and dumps in pure Python, several times
  slower per object. The API's hot reads (the session list, the questions) still serialize with plain functions
  and cached bytes; the models cost nothing at request time;
- **Flask fit**: pydantic is a library, not a framework: the plain Flask blueprints, error handlers, CSRF and rate
  limits stay as they are. APIFlask replaces the Flask app class and flask-smorest its blueprints and error
  handling;
- **OpenAPI 3.1**: `model_json_schema()` emits JSON Schema 2020-12, the dialect OpenAPI 3.1 uses as is (type
  lists for null, `examples`, `const`); the marshmallow tools generate OpenAPI 3.0 first (through apispec), where
  null and several keywords are spelled differently.
"""


# --- the docs page ------------------------------------------------------------------------------------------------


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def describe_schema(schema: dict) -> str:
    """Summarise a field's schema in one line: type, allowed values and limits (not translated: it is notation)."""
    if "anyOf" in schema:
        return " | ".join(describe_schema(part) for part in schema["anyOf"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
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


def reference_markdown() -> str:
    """Render docs/api.md: how the API is declared, and the document's operations as a Markdown table (regenerate with
    `majlis api-reference`)."""
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
        HOW_IT_IS_MADE,
        "## Operations",
        "",
        "| method | route | who | what |",
        "|---|---|---|---|",
    ]
    for entry in describe_operations(doc):
        lines.append(f"| {entry['method']} | `{entry['path']}` | {entry['who']} | {entry['summary']} |")
    return "\n".join(lines) + "\n"
