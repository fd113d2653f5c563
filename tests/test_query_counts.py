"""No N+1 queries: the statements a page or API list runs must not grow with the number of rows."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from majlis.db import get_database, unit_of_work
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome, QuestionStatus, RegistrationStatus, Role
from majlis.followups.models import Case, CaseCategory, CaseFeedback
from majlis.questions.models import Question
from majlis.registration.models import Registration
from tests import factories

NOW = datetime.now(UTC)


@contextmanager
def counting(app):
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")):
            statements.append(statement)

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def grow(db, make_body):
    """Add n more residents, each registered, asking an approved question that became a case."""
    body = make_body()
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=NOW + timedelta(minutes=30), capacity=500,
                                                  registration_opens_at=NOW - timedelta(days=1))
        office = factories.user(db, role=Role.MODERATOR)
        category = CaseCategory(code="roads", body_id=body.id, name_ar="الطرق", name_en="Roads", days_to_resolve=9,
                                created_at=NOW, updated_at=NOW)
        db.add(category)

    def add(n):
        with unit_of_work(db):
            for _ in range(n):
                resident = factories.user(db)
                db.add(Registration(session_id=majlis_session.id, user_id=resident.id,
                                    status=RegistrationStatus.CONFIRMED, queued_at=NOW, created_at=NOW,
                                    updated_at=NOW))
                question = Question(session_id=majlis_session.id, author_id=resident.id, body="سؤال عن الخدمات",
                                    status=QuestionStatus.APPROVED, created_at=NOW, updated_at=NOW)
                db.add(question)
                db.flush()
                db.add(Case(question_id=question.id, session_id=majlis_session.id, resident_id=resident.id,
                            body_id=body.id, due_on=NOW.date(), opened_by_id=office.id, opened_at=NOW,
                            description=question.body, created_at=NOW, updated_at=NOW))
                # A request from the app waiting for triage, and one resolved and answered, in an area.
                area = factories.area(db)
                db.add(Case(channel=CaseChannel.APP, status=CaseStatus.SUBMITTED, resident_id=resident.id,
                            body_id=body.id, category_id=category.id, area_id=area.id, description="إنارة",
                            due_on=NOW.date(), opened_by_id=resident.id, opened_at=NOW, created_at=NOW,
                            updated_at=NOW))
                resolved = Case(channel=CaseChannel.PHONE, status=CaseStatus.RESOLVED, body_id=body.id,
                                category_id=category.id, area_id=area.id, description="حفرة", due_on=NOW.date(),
                                opened_by_id=office.id, opened_at=NOW - timedelta(days=3), resolved_at=NOW,
                                created_at=NOW, updated_at=NOW, resident_id=resident.id)
                db.add(resolved)
                db.flush()
                db.add(CaseFeedback(case_id=resolved.id, round=0, outcome=FeedbackOutcome.FIXED, rating=4,
                                    created_at=NOW))
                factories.majlis_session(db, starts_at=NOW + timedelta(days=1))

    return majlis_session, office, add


PAGES = [
    ("page", "/"),
    ("page", "/sessions/{sid}"),
    ("page", "/sessions/{sid}/questions"),
    ("page", "/sessions/{sid}/moderate"),
    ("page", "/staff/sessions/{sid}/registrants"),
    ("page", "/staff/calendar"),
    ("page", "/staff/calendar/week"),
    ("page", "/staff/calendar/export.ics"),
    ("page", "/?kind=weekly"),
    ("page", "/cases?status=closed&category=roads"),
    ("page", "/accountability?category=roads"),
    ("page", "/cases"),
    ("page", "/accountability"),
    ("page", "/accountability?group_by=month"),
    ("page", "/accountability?group_by=area"),
    ("page", "/accountability?group_by=category"),
    ("page", "/staff/requests"),
    ("page", "/open-data"),
    ("api", "/api/v1/sessions"),
    ("api", "/api/v1/sessions/{sid}/questions"),
    ("api", "/api/v1/sessions/{sid}/registrations"),
    ("api", "/api/v1/cases"),
    ("api", "/api/v1/accountability?group_by=channel"),
    ("api", "/api/v1/categories"),
    ("feed", "/open311/v2/requests.json"),
    ("feed", "/open311/v2/requests.xml"),
    ("feed", "/open311/v2/services.json"),
    ("feed", "/open-data/cases.json"),
    ("feed", "/open-data/cases.csv"),
    ("feed", "/calendar/majlis.ics"),
]


@pytest.mark.parametrize("kind, path", PAGES)
def test_statements_do_not_grow_with_rows(app, client, grow, make_user, api_token, login_as, kind, path):
    majlis_session, office, add = grow
    staff = make_user(role=Role.ADMIN)
    headers = api_token(staff) if kind == "api" else {}
    if kind == "page":
        login_as(staff)
    url = path.format(sid=majlis_session.id)

    def measure():
        with counting(app) as statements:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return len(statements)

    add(3)
    few = measure()
    add(12)
    many = measure()
    assert many == few, f"{url}: {few} statements with 3 rows, {many} with 15"
