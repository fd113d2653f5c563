"""The OpenAPI document: every registered /api/v1 route is in it, it is valid OpenAPI 3.1, and it is served."""

import re

import pytest
from openapi_spec_validator import validate

from majlis.api.openapi import DOCUMENTED_PREFIXES, describe_operations, document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _template(rule: str) -> str:
    """A Werkzeug rule or an OpenAPI path with its parameter names erased: /sessions/<int:id> -> /sessions/{}."""
    return re.sub(r"\{[^}]*\}", "{}", re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", rule))


def _registered(app) -> set[tuple[str, str]]:
    return {(method.lower(), _template(rule.rule)) for rule in app.url_map.iter_rules()
            if rule.rule.startswith(DOCUMENTED_PREFIXES) and rule.endpoint not in UNDOCUMENTED
            for method in rule.methods - IGNORED_METHODS}


# Catch-alls that only answer GeoReport's error document for an unknown Open311 path: no operation of their own.
UNDOCUMENTED = {"open311.unknown"}


def _documented() -> set[tuple[str, str]]:
    return {(method, _template(path)) for path, methods in document()["paths"].items() for method in methods}


def test_every_api_route_is_documented(app):
    missing = sorted(_registered(app) - _documented())
    assert not missing, f"routes missing from majlis/api/openapi.py: {missing}"


# The other direction. While the cases, minutes and archive routes were being written they were documented ahead
# of them and this test was an xfail(strict=False) listing them; every route of CONTRACT.md has landed since, so a
# documented operation without a route is now a stale document (a renamed or removed route) and fails here.
def test_every_documented_route_exists(app):
    stale = sorted(_documented() - _registered(app))
    assert not stale, f"documented in majlis/api/openapi.py but not registered: {stale}"


def test_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # raises OpenAPIValidationError with the path of the first problem


def test_operation_ids_are_unique_and_every_operation_has_summary_and_responses():
    operations = [spec for methods in document()["paths"].values() for spec in methods.values()]
    ids = [spec["operationId"] for spec in operations]
    assert len(ids) == len(set(ids))
    for spec in operations:
        assert spec["summary"] and spec["x-majlis-who"]
        assert any(status.startswith("2") for status in spec["responses"]), spec["operationId"]


def test_every_api_operation_answers_401_for_a_bad_token():
    for path, methods in document()["paths"].items():
        for spec in methods.values():
            assert path.startswith("/open") or "401" in spec["responses"], spec["operationId"]


def test_every_error_response_uses_the_shared_error_schema():
    """Except Open311's, which are GeoReport v2's own error list (tests/open311 checks them)."""
    for path, methods in document()["paths"].items():
        if path.startswith("/open311/"):
            continue
        for spec in methods.values():
            for status, response in spec["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
                    assert schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]


@pytest.mark.parametrize("path", ["/api/v1/auth/signup", "/api/v1/auth/verify", "/api/v1/openapi.json",
                                  "/api/v1/docs"])
def test_public_routes_need_no_token(path):
    for spec in document()["paths"][path].values():
        assert spec["security"] == []


@pytest.mark.parametrize("path", ["/api/v1/series", "/api/v1/series/{series_id}", "/api/v1/sessions",
                                  "/api/v1/sessions/{session_id}", "/api/v1/sessions/{session_id}/questions",
                                  "/api/v1/sessions/{session_id}/minutes", "/api/v1/archive"])
def test_public_reads_are_documented_as_needing_no_token(path):
    assert document()["paths"][path]["get"]["security"] == []


def test_post_auth_token_is_public_and_delete_needs_a_token():
    token = document()["paths"]["/api/v1/auth/token"]
    assert token["post"]["security"] == []
    assert token["delete"]["security"] == [{"bearerAuth": []}]


def test_calendar_export_is_text_calendar():
    responses = document()["paths"]["/api/v1/export/calendar.ics"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["text/calendar"]


def test_the_document_is_served_without_auth(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document()


def test_the_docs_page_lists_every_operation_in_html(client):
    response = client.get("/api/v1/docs?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script" not in html
    for entry in describe_operations(document()):
        assert f"{entry['method']} {entry['path']}" in html
        assert entry["summary"] in html
        for failure in entry["errors"]:
            for code in failure["codes"]:
                assert code in html


def test_the_docs_page_is_arabic_by_default(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "POST /api/v1/auth/token" in html


def test_a_bad_token_is_refused_even_on_the_document(client):
    response = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_docs_api_md_is_the_generated_reference(runner):
    """The repository documents its own API: docs/api.md is regenerated whenever a route changes."""
    from pathlib import Path

    result = runner.invoke(args=["api-reference"])
    assert result.exit_code == 0
    committed = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == result.output, "run `majlis api-reference -o docs/api.md`"
    assert "| GET | `/api/v1/sessions` | Anyone, without signing in" in committed
