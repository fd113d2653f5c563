"""Hostile input on every route that parses it: oversized bodies, deep JSON, lone surrogates, far-off dates.

Each is a 4xx with the error body (the field named where there is one), never a 500, on SQLite and PostgreSQL.
The JSON checks walk every operation of the OpenAPI document, so a new route is covered when it is documented.
"""

import json
import re

import pytest

from majlis.api.openapi import document
from majlis.enums import Role
from tests.api.test_fuzz import app_config, seeded  # noqa: F401 - fixtures: Jitsi configured, objects to aim at
from tests.conftest import csrf_token_from

LIMIT = 2 * 1024 * 1024


def _body_operations():
    for path, methods in document()["paths"].items():
        if path.startswith("/api/v1/jitsi/events"):
            continue  # the video service's signed events: tests/jitsi/test_events.py sends them hostile bodies
        for method, spec in methods.items():
            schema = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                yield method, path, schema


BODY_OPERATIONS = list(_body_operations())
STRING_FIELDS = [(method, path, name) for method, path, schema in BODY_OPERATIONS
                 for name, prop in schema["properties"].items()
                 if "string" in (prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")])]


def _url(path: str, ids: dict) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: str(ids[m.group(1)][0]), path)


@pytest.fixture
def objects(request):
    """The fuzzer's seeded objects: (bearer headers by role, ids to aim at)."""
    return request.getfixturevalue("seeded")


@pytest.fixture
def admin_headers(objects, make_user, api_token):
    return api_token(make_user(role=Role.ADMIN))  # admins pass every role check: each route reaches its body


def test_the_routes_under_test_are_all_of_them():
    assert len(BODY_OPERATIONS) >= 14 and len(STRING_FIELDS) >= 30


def test_a_json_body_over_the_limit_is_413_with_the_error_body(client):
    response = client.post("/api/v1/auth/signup", data=b"{" + b" " * LIMIT + b"}", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_a_form_over_the_limit_is_413_with_the_error_page(client):
    csrf = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": csrf, "email": "a@example.com", "password": "x" * LIMIT})
    assert response.status_code == 413
    assert response.mimetype == "text/html" and '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


@pytest.mark.parametrize("method, path, schema", BODY_OPERATIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_deeply_nested_json_is_400_naming_the_field(client, objects, admin_headers, method, path, schema):
    _, ids = objects
    field = next(iter(schema["properties"]))
    too_deep_to_parse = json.dumps({field: "HOLE"}).replace('"HOLE"', "[" * 100_000 + "]" * 100_000)
    parseable_but_deep = json.dumps({field: json.loads("[" * 40 + "]" * 40)})
    for body in (too_deep_to_parse, parseable_but_deep):
        response = client.open(_url(path, ids), method=method.upper(), data=body, content_type="application/json",
                               headers=admin_headers)
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:200])
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == ("invalid_json", field)


@pytest.mark.parametrize("method, path, field", STRING_FIELDS, ids=lambda v: v)
def test_a_lone_surrogate_in_any_text_field_is_400_naming_it(client, objects, admin_headers, method, path, field):
    _, ids = objects
    for value in ("\ud800", "text\udfffmore"):
        body = json.dumps({field: value})  # ASCII JSON: the surrogate travels as a \ud800 escape
        response = client.open(_url(path, ids), method=method.upper(), data=body, content_type="application/json",
                               headers=admin_headers)
        assert response.status_code == 400, (path, field, response.get_data(as_text=True)[:200])
        assert response.get_json()["error"]["field"] == field


def test_surrogates_in_nested_values_and_keys_are_400(client, objects, admin_headers):
    _, ids = objects
    url = f"/api/v1/sessions/{ids['session_id'][0]}"
    for body in ('{"capacity": {"x": "\\ud800"}}', '{"capacity": ["ok", "\\udc00"]}', '{"\\ud800": 1}'):
        response = client.patch(url, data=body, content_type="application/json", headers=admin_headers)
        assert response.status_code == 400, body


def test_surrogates_cannot_arrive_through_forms_or_query_strings(client, db, login_as, make_user):
    """Only JSON can spell a lone surrogate (an escape): URL-decoding never yields one from the bytes of one, so the
    form and query-string check needs only NUL. What arrives is stored as it decodes, never a 500."""
    from sqlalchemy import select

    from majlis.auth.models import User

    csrf = csrf_token_from(client.get("/signup").get_data(as_text=True))
    body = ("name=Ali%ED%A0%80Hasan&email=ali%40example.com&password=Sanabis-garden-42"
            "&confirm=Sanabis-garden-42&csrf_token=" + csrf)
    response = client.post("/signup", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(User.name)).encode("utf-8")  # no lone surrogate reached the database
    assert client.get("/archive?q=%ED%A0%80").status_code == 200


@pytest.mark.parametrize("body", ['{"email": NaN}', '{"email": Infinity}', '{"email": 1' + "0" * 5000 + "}",
                                  b'{"email": "\xff"}', "[1]", '"text"'])
def test_what_json_does_not_allow_is_invalid_json(client, body):
    response = client.post("/api/v1/auth/signup", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("url, field", [
    ("/accountability?to=9999-12-31", "to"),
    ("/accountability?from=0001-01-01", "from"),
    ("/accountability?from=2026-01-01&to=10000-01-01", "to"),
    ("/accountability?from=2026-13-01", "from"),
    ("/api/v1/sessions?to=9999-12-31", "to"),
    ("/api/v1/sessions?from=0001-01-01", "from"),
    ("/api/v1/export/calendar.ics?to=9999-12-31", "to"),
    ("/api/v1/export/calendar.ics?from=1900-01-01", "from"),
    ("/staff/calendar?month=9999-12", "month"),
    ("/staff/calendar?month=٢٠٢٦-٠١", "month"),
])
def test_a_date_outside_the_supported_years_is_400_naming_the_parameter(client, make_user, api_token, login_as,
                                                                         url, field):
    staff = make_user(role=Role.STAFF)
    login_as(staff)
    response = client.get(url, headers={**api_token(staff), "Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_the_accountability_page_names_the_bad_date_in_html(client):
    response = client.get("/accountability?to=9999-12-31")
    assert response.status_code == 400 and response.mimetype == "text/html"


@pytest.mark.parametrize("due_on", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_a_case_due_date_outside_the_supported_years_is_400(client, objects, admin_headers, make_body, due_on):
    _, ids = objects
    body = make_body()
    response = client.post(f"/api/v1/questions/{ids['question_id'][0]}/case",
                           json={"body_id": body.id, "due_on": due_on}, headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "due_on"


def test_the_calendar_export_command_refuses_far_off_dates(runner):
    result = runner.invoke(args=["export-ics", "--to", "9999-12-31"])
    assert result.exit_code == 1
    assert "invalid_input (to)" in result.output
