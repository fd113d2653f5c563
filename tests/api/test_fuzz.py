"""Fuzz every documented /api/v1 operation in-process with Schemathesis, as staff and as a resident.

Checks: no 5xx (`not_a_server_error`), the status code and content type are documented, the body matches
the documented schema (`response_schema_conformance`: exact field names, types, error codes), input the document
calls invalid is refused (`negative_data_rejection`) and input it calls valid is accepted
(`positive_data_acceptance`) unless it is refused for a field the operation declares checked beyond the schema
(`x-majlis-refusals`: an id that must exist, a code sent, a date range), by name. Each operation
gets a small, derandomised run in positive mode (valid per the document) and negative mode (invalid input),
against a database seeded with a series, sessions (live, cancelled, invited-only, held), questions, a case and
minutes. It runs on both engines (PostgreSQL when MAJLIS_TEST_DATABASE_URL is set): about 25 s each on 2 cores.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from majlis.api.openapi import API_PREFIX, document
from majlis.db import get_database, unit_of_work
from majlis.enums import Role
from majlis.followups.models import CaseCategory
from majlis.questions import services as questions
from majlis.registration import services as registration
from majlis.sessions import services as sessions
from majlis.timeutil import local_zone, utcnow
from tests.api.test_openapi import _registered, _template

# Small and derandomised so the run is quick and repeatable; raise it locally to hunt (MAJLIS_FUZZ_EXAMPLES=200).
MAX_EXAMPLES = int(os.environ.get("MAJLIS_FUZZ_EXAMPLES", "15"))


@schemathesis.check
def positive_data_acceptance_but_declared_refusals(ctx, response, case):
    """`positive_data_acceptance`, except a 400 naming a field the operation declares checked beyond its schema."""
    refusals = case.operation.definition.raw.get("x-majlis-refusals", [])
    if response.status_code == 400 and refusals:
        if "*" in refusals:
            return None
        try:
            field = (response.json().get("error") or {}).get("field")
        except (ValueError, AttributeError):
            field = None
        if field in refusals:
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance_but_declared_refusals]
OPERATIONS = [pytest.param(method, path, id=spec["operationId"])
              for path, methods in document()["paths"].items() for method, spec in methods.items()]
ROLES = ("staff", "resident")

# The five server errors this fuzzer first found (ids beyond the databases' integer range, dates outside 2000-2076,
# a non-string moderation action, NUL characters on PostgreSQL, non-ASCII digits in ids) are fixed; nothing is
# excluded any more: every generated input is sent and checked.


def _fuzz_settings():
    return settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])


@pytest.fixture
def app_config(app_config):
    """Jitsi and Web Push configured, so that joining a live session answers a token and subscribing a device is
    checked, not 503."""
    from majlis.notifications.push import new_vapid_keys

    public, private = new_vapid_keys()
    return {**app_config, "JITSI_APP_ID": "majlis", "JITSI_APP_SECRET": "fuzz-secret-0123456789abcdef0123456789",
            "MAJLIS_VAPID_PUBLIC_KEY": public, "MAJLIS_VAPID_PRIVATE_KEY": private}


@pytest.fixture
def seeded(app, db, make_user, make_body, api_token):
    """Users of each role, their bearer headers, and objects whose ids the fuzzer should hit."""
    now = utcnow()
    staff, resident = make_user(role=Role.STAFF), make_user()
    body = make_body()
    with app.test_request_context():
        zone = local_zone()
        local_today = now.astimezone(zone).date().isoformat()
        with unit_of_work(db):
            series = sessions.create_series(db, {
                "kind": "weekly", "title_ar": "المجلس الأسبوعي", "title_en": "Weekly majlis",
                "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": f"{local_today}T19:00", "duration_minutes": 90,
                "capacity": 30}, actor=staff, zone=zone, now=now, horizon=timedelta(weeks=3))
            one_off = {"title_ar": "جلسة خاصة", "title_en": "Special session", "duration_minutes": 90, "capacity": 2}
            live = sessions.create_one_off(db, {
                **one_off, "starts_at": (now - timedelta(minutes=10)).isoformat(),
                "registration_opens_at": (now - timedelta(days=2)).isoformat(),
                "registration_closes_at": (now + timedelta(minutes=30)).isoformat()}, actor=staff, zone=zone, now=now)
            cancelled = sessions.create_one_off(db, {**one_off, "starts_at": (now + timedelta(days=3)).isoformat()},
                                                actor=staff, zone=zone, now=now)
            sessions.cancel_session(db, cancelled, reason="الطقس", actor=staff, now=now)
            invited = sessions.create_one_off(db, {**one_off, "visibility": "invited",
                                                   "starts_at": (now + timedelta(days=4)).isoformat()},
                                              actor=staff, zone=zone, now=now)
            held = sessions.create_one_off(db, {**one_off, "starts_at": (now - timedelta(days=3)).isoformat()},
                                           actor=staff, zone=zone, now=now)
        with unit_of_work(db):
            registration.register(db, live.id, resident, now=now)
            pending = questions.ask(db, live, resident, body="متى يفتح الطريق الجديد؟", now=now)
            approved = questions.ask(db, live, resident, body="When will the park reopen?", anonymous=True, now=now)
            questions.moderate(db, approved, staff, action="approve", now=now)
        session_ids = [sessions.list_sessions(db, sessions.SessionQuery(series_id=series.id), viewer=staff)[0].id,
                       live.id, cancelled.id, invited.id, held.id]
    headers = {"staff": api_token(staff), "resident": api_token(resident)}
    # Cases and minutes through the API (the contract), so seeding does not depend on those services' signatures.
    client, staff_header = app.test_client(), headers["staff"]
    case = client.post(f"/api/v1/questions/{approved.id}/case", json={"body_id": body.id}, headers=staff_header)
    assert case.status_code == 201, case.get_data(as_text=True)
    minutes = f"/api/v1/sessions/{held.id}/minutes"
    for response in (client.put(minutes, json={"body": "# محضر المجلس\n\nنقاط النقاش."}, headers=staff_header),
                     client.post(f"{minutes}/approve", headers=staff_header),
                     client.post(f"{minutes}/publish", headers=staff_header),
                     client.put(f"/api/v1/sessions/{live.id}/minutes", json={"body": "مسودة"}, headers=staff_header)):
        assert response.status_code == 200, response.get_data(as_text=True)
    from majlis.minutes import attachments

    with unit_of_work(db):  # a recording the video service announced, waiting to be fetched
        recording = attachments.queue_download(db, held.id, kind="recording",
                                               link="https://video.example.org/recording.mp4", received_at=now,
                                               now=now)
    # A category, a resident's request waiting for triage, and the case resolved (so "was it fixed?" is open).
    with unit_of_work(db):
        db.add(CaseCategory(code="roads", body_id=body.id, name_ar="الطرق", name_en="Roads", days_to_resolve=14,
                            created_at=now, updated_at=now))
    request = client.post("/api/v1/requests", json={"category": "roads", "description": "حفرة في الطريق"},
                          headers=headers["resident"])
    assert request.status_code == 201, request.get_data(as_text=True)
    resolved = client.post(f"/api/v1/cases/{case.get_json()['id']}/updates", json={"text": "تم", "status": "resolved"},
                           headers=staff_header)
    assert resolved.status_code == 200, resolved.get_data(as_text=True)
    ids = {"session_id": session_ids, "series_id": [series.id], "question_id": [pending.id, approved.id],
           "case_id": [case.get_json()["id"], request.get_json()["id"]],
           "service_request_id": [str(case.get_json()["id"])], "attachment_id": [recording.id]}
    return headers, ids


def _fuzz(operation, mode: GenerationMode, headers: dict, ids: dict, dialect: str) -> None:
    strategy = operation.as_strategy(generation_mode=mode, headers=headers)

    @_fuzz_settings()
    @given(case=strategy, data=st.data())
    def run(case, data):
        # Mostly aim at ids that exist, so the fuzzer gets past 404 into the services' checks.
        for name in list(case.path_parameters or {}):
            if ids.get(name) and data.draw(st.integers(0, 3), label=f"existing {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(ids[name]), label=name)
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def _modes(spec: dict) -> list[GenerationMode]:
    """Positive always; negative when there is something to make invalid (a parameter or a body)."""
    if "parameters" in spec or "requestBody" in spec:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


# One test per operation (one app and one seeded database for it), with a subtest per role and mode: seeding
# per subtest would double the run time, and a fresh database per operation keeps one operation's changes (a
# revoked token, a cancelled session) from blinding the next.
@pytest.mark.parametrize("method, path", OPERATIONS)
def test_fuzz(subtests, app, seeded, method, path):
    if (method, _template(path)) not in _registered(app):
        pytest.skip("documented in CONTRACT.md, route not registered yet")
    spec = document()["paths"][path][method]
    headers, ids = seeded
    dialect = get_database(app).dialect
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    # NUL characters are refused by every route (a 400 naming the field, tests/test_input_limits.py): valid data
    # here is storable text, so that acceptance is checked on what the services decide.
    schema.config.generation.update(allow_x00=False)
    operation = schema[path][method.upper()]
    for role in ROLES:
        for mode in _modes(spec):
            with subtests.test(role=role, mode=mode.value):
                _fuzz(operation, mode, headers[role], ids, dialect)
