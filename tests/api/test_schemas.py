"""One declaration per field limit: changing it in its schemas module changes the check, the message and the
document. And the generated document describes what the serializers write (the fuzzer checks every answer)."""

import json
import subprocess
import sys
from pathlib import Path

from majlis.api.openapi import document
from majlis.sessions import schemas as session_schemas

ROOT = Path(__file__).parents[2]

# Run in a fresh interpreter: the schemas module is loaded from its source with ONE line changed (the title limit),
# before anything imports it; then the app answers and the document is generated as usual.
SCRIPT = r'''
import importlib.util, json, sys, tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

source = Path("majlis/sessions/schemas.py").read_text(encoding="utf-8")
line = "TITLE_MIN, TITLE_MAX = 2, 200"
assert source.count(line) == 1, "the title limit is declared once"
spec = importlib.util.spec_from_file_location("majlis.sessions.schemas", "majlis/sessions/schemas.py")
module = importlib.util.module_from_spec(spec)
sys.modules["majlis.sessions.schemas"] = module
exec(compile(source.replace(line, "TITLE_MIN, TITLE_MAX = 2, 50"), spec.origin, "exec"), module.__dict__)

from majlis import create_app
from majlis.api.openapi import document
from majlis.db import Base, get_database, unit_of_work
from majlis.enums import Role
import majlis.models  # noqa: F401 - every table
from tests import factories

instance = tempfile.mkdtemp()
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/limit.db",
                  "INSTANCE_PATH": instance, "MAJLIS_FAST_PASSWORD_HASH": True, "MAIL_BACKEND": "null"})
Base.metadata.create_all(get_database(app).engine)
db = get_database(app).session_factory()
with unit_of_work(db):
    staff = factories.user(db, role=Role.STAFF)
with app.test_request_context():
    from majlis.auth import services
    from majlis.auth.services import AccountPolicy
    with unit_of_work(db):
        token, _ = services.issue_api_token(db, staff, label="t", policy=AccountPolicy.from_config(app.config),
                                            now=datetime.now(UTC))
client = app.test_client()
starts = (datetime.now(UTC) + timedelta(days=9)).isoformat()
answers = {}
for name, title, lang in (("long_en", "x" * 51, "en"), ("long_ar", "x" * 51, "ar"), ("fits", "x" * 50, "en")):
    response = client.post("/api/v1/sessions", json={"title_ar": title, "title_en": "Title", "starts_at": starts,
                                                      "duration_minutes": 60, "capacity": 10},
                           headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})
    answers[name] = [response.status_code, response.get_json()]
schema = document()["paths"]["/api/v1/sessions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
answers["documented"] = schema["properties"]["title_ar"]["maxLength"]
print(json.dumps(answers))
'''


def test_a_title_limit_changed_in_its_schemas_module_changes_the_check_the_message_and_the_document():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["documented"] == 50
    status, body = answers["long_en"]
    assert status == 400
    assert body["error"] == {"code": "invalid_input", "field": "title_ar",
                             "message": "Enter a title of 2 to 50 characters."}
    status, body = answers["long_ar"]
    assert (status, body["error"]["field"]) == (400, "title_ar") and "50" in body["error"]["message"]
    assert answers["fits"][0] == 201


def test_unchanged_the_document_states_the_limit_the_service_checks(client, make_user, api_token):
    schema = document()["paths"]["/api/v1/sessions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["title_ar"]["maxLength"] == session_schemas.TITLE_MAX == 200
    headers = {**api_token(make_user(role="staff")), "Accept-Language": "en"}
    response = client.post("/api/v1/sessions", headers=headers, json={
        "title_ar": "x" * 201, "title_en": "Title", "starts_at": "2030-01-01T10:00", "duration_minutes": 60,
        "capacity": 10})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Enter a title of 2 to 200 characters."


def test_every_model_field_of_a_response_is_required_so_the_fuzzer_checks_each_one():
    components = document()["components"]["schemas"]
    for name in ("Session", "Series", "Question", "Case", "CaseWithUpdates", "Minutes", "User", "Registrant"):
        schema = components[name]
        assert set(schema["required"]) == set(schema["properties"]), name


def test_a_case_with_its_history_is_serialized_without_a_statement(app, db, make_user, make_body):
    """The service loads what the answer shows (tests/test_query_counts.py keeps the number of loads bounded)."""
    from majlis.db import unit_of_work
    from majlis.followups import services
    from majlis.followups.models import Case, CaseUpdate
    from majlis.followups.schemas import CaseWithUpdates
    from majlis.timeutil import utcnow
    from tests.test_query_counts import counting

    office, resident, body = make_user(role="moderator"), make_user(), make_body()
    now = utcnow()
    with unit_of_work(db):
        case = Case(resident_id=resident.id, body_id=body.id, due_on=now.date(), opened_by_id=office.id,
                    opened_at=now, description="حفرة في الطريق", created_at=now, updated_at=now)
        db.add(case)
        db.flush()
        db.add(CaseUpdate(case_id=case.id, author_id=office.id, text="وصلت", created_at=now))
    db.expire_all()
    with app.test_request_context():
        detail = services.case_detail(db, db.get(Case, case.id), office, now=now)
        with counting(app) as statements:
            data = CaseWithUpdates.dump(detail, office, today=now.date())
    assert statements == []
    assert data["body"]["id"] == body.id and [update["text"] for update in data["updates"]] == ["وصلت"]


def test_a_moderated_question_is_serialized_without_a_statement(app, db, make_user):
    """The moderation answer names the author (to a moderator): the service loaded them with the locked question."""
    from majlis.db import unit_of_work
    from majlis.enums import QuestionStatus
    from majlis.questions import services
    from majlis.questions.models import Question
    from majlis.questions.schemas import Question as QuestionSchema
    from majlis.timeutil import utcnow
    from tests import factories
    from tests.test_query_counts import counting

    office, resident = make_user(role="moderator"), make_user(name="مريم الأنصاري")
    now = utcnow()
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=now)
        question = Question(session_id=majlis_session.id, author_id=resident.id, body="متى تفتح الحديقة العامة؟",
                            is_anonymous=True, status=QuestionStatus.PENDING, created_at=now, updated_at=now)
        db.add(question)
    db.expunge_all()
    with app.test_request_context(), unit_of_work(db):
        question = services.lock_question(db, question.id)
        services.moderate(db, question, db.merge(office), action="approve", now=now)
        with counting(app) as statements:
            data = QuestionSchema.dump(question, office, is_moderator=True)
    assert statements == []
    assert data["status"] == "approved" and data["author"]["name"] == "مريم الأنصاري"


def test_a_body_that_does_not_fit_its_model_is_the_usual_400_naming_the_field(app):
    import pytest
    from flask_babel import force_locale

    from majlis.api import parsed
    from majlis.errors import InvalidInput
    from majlis.minutes.schemas import PublishAttachmentInput
    from majlis.sessions.schemas import SessionPlaceInput

    with app.test_request_context():
        assert parsed(PublishAttachmentInput, {"public": True}).public is True
        for body in ({"public": "yes"}, {"public": 1}, {}, {"public": True, "more": 1}):
            with pytest.raises(InvalidInput) as refused:
                parsed(PublishAttachmentInput, body, field="public")
            assert (refused.value.code, refused.value.field) == ("invalid_input", "public")
        with pytest.raises(InvalidInput) as refused:
            parsed(SessionPlaceInput, {"name_ar": "قاعة", "name_en": "Hall", "lat": "north"})
        assert refused.value.field == "lat"
        with force_locale("en"):
            assert str(refused.value.message) == "Some of the information given is not valid."
        with force_locale("ar"):
            assert str(refused.value.message) != "Some of the information given is not valid."
