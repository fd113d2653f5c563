"""Each capability exports and erases its own part of a resident's data (issue 20, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from majlis.auth import account_data
from majlis.auth import services as auth_services
from majlis.calendar import services as calendar_services
from majlis.calendar.models import CalendarFeed
from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus
from majlis.notifications import preferences
from majlis.questions.models import Question, Vote
from majlis.registration.models import Registration
from tests import factories
from tests.conftest import form_post


def test_every_capability_registers_its_part_in_the_downloads_order(app):
    assert [part.name for part in account_data.parts()] == [
        "registrations", "questions", "cases", "api_tokens", "notifications", "calendar"]


def test_the_download_holds_each_capabilitys_part_in_the_same_order(client, db, make_user, login_as):
    now = datetime.now(UTC)
    user = make_user()
    with unit_of_work(db):
        row = factories.majlis_session(db, starts_at=now + timedelta(days=3))
        db.add(Registration(session_id=row.id, user_id=user.id, status=RegistrationStatus.CONFIRMED, queued_at=now,
                            created_at=now, updated_at=now))
        question = Question(session_id=row.id, author_id=user.id, body="سؤال عن الطريق", created_at=now,
                            updated_at=now)
        db.add(question)
        db.flush()
        db.add(Vote(question_id=question.id, user_id=user.id, created_at=now))
        preferences.set_own_reminder(db, user, 30, now=now)
    login_as(user)
    with client.application.test_request_context(), unit_of_work(db):
        auth_services.issue_api_token(db, user, label="phone", now=now,
                                      policy=auth_services.AccountPolicy.from_config(client.application.config))
    data = client.get("/account/data.json").get_json()
    assert list(data) == ["account", "registrations", "questions", "votes", "cases", "api_tokens", "notifications"]
    assert data["registrations"][0]["session_id"] == row.id and data["registrations"][0]["status"] == "confirmed"
    assert data["questions"][0]["body"] == "سؤال عن الطريق" and data["votes"] == [question.id]
    assert data["cases"] == [] and data["api_tokens"][0]["label"] == "phone"
    assert data["notifications"]["own_reminder_minutes"] == 30


def test_deleting_the_account_runs_each_capabilitys_eraser(client, db, make_user, login_as):
    now = datetime.now(UTC)
    user = make_user()
    with unit_of_work(db):
        row = factories.majlis_session(db, starts_at=now + timedelta(days=3))
        db.add(Registration(session_id=row.id, user_id=user.id, status=RegistrationStatus.CONFIRMED, queued_at=now,
                            created_at=now, updated_at=now))
        row.confirmed_count = 1
        db.add(Question(session_id=row.id, author_id=user.id, body="سؤال", created_at=now, updated_at=now))
        preferences.set_own_reminder(db, user, 30, now=now)
        calendar_services.issue_feed(db, user, now=now)
    with client.application.test_request_context(), unit_of_work(db):
        auth_services.issue_api_token(db, user, label="phone", now=now,
                                      policy=auth_services.AccountPolicy.from_config(client.application.config))
    login_as(user)
    assert form_post(client, "/account/delete", {"password": factories.PASSWORD}, page="/account").status_code == 302
    db.rollback()
    db.expire_all()
    assert db.scalar(select(Registration.status).where(Registration.user_id == user.id)) == \
        RegistrationStatus.CANCELLED  # registration's part
    assert db.scalar(select(Question.is_anonymous).where(Question.author_id == user.id))  # questions' part
    assert auth_services.active_tokens(db, user, now=now) == []  # auth's own part
    assert db.scalar(select(CalendarFeed.revoked_at).where(CalendarFeed.user_id == user.id)) is not None  # calendar
    assert preferences.own_reminder(db, user) is None  # notifications' part
