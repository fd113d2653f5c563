"""Invitation-only sessions: staff invite bodies and people; invitees see, answer and get the calendar entry."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from majlis.calendar import services as calendar_services
from majlis.db import unit_of_work
from majlis.enums import InvitationResponse, Role
from majlis.sessions import services as session_services
from majlis.sessions.models import Invitation, MajlisSession
from tests import factories
from tests.conftest import form_post

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def coordinating(app, db):
    with app.app_context(), unit_of_work(db):
        series = session_services.create_series(db, {
            "kind": "coordinating", "title_ar": "المجلس التنسيقي", "title_en": "Coordinating majlis",
            "rrule": "FREQ=MONTHLY;BYDAY=1WE", "first_start": (NOW + timedelta(days=1)).strftime("%Y-%m-%dT10:00"),
            "duration_minutes": 120, "capacity": 40, "visibility": "invited"},
            actor=None, zone=ZoneInfo("Asia/Bahrain"), now=NOW, horizon=timedelta(weeks=12))
    db.expire_all()
    return db.scalars(select(MajlisSession).where(MajlisSession.series_id == series.id)
                      .order_by(MajlisSession.starts_at)).all()


def test_staff_invite_a_body_to_the_whole_series(client, db, coordinating, make_user, make_body, login_as):
    body = make_body()
    official = make_user(role=Role.OFFICIAL, body=body)
    resident = make_user()
    login_as(make_user(role=Role.STAFF))
    first = coordinating[0]
    response = form_post(client, f"/staff/sessions/{first.id}/invitations",
                         {"body": str(body.id), "whole_series": "y"})
    assert response.status_code == 302
    db.rollback()
    invited_sessions = set(db.scalars(select(Invitation.session_id).where(Invitation.body_id == body.id)))
    assert invited_sessions == {row.id for row in coordinating}
    # inviting again adds nothing
    form_post(client, f"/staff/sessions/{first.id}/invitations", {"body": str(body.id), "whole_series": "y"})
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Invitation)) == len(coordinating)

    with unit_of_work(db):
        feed = calendar_services.issue_feed(db, official, now=NOW)
        resident_feed = calendar_services.issue_feed(db, resident, now=NOW)
    assert "المجلس التنسيقي" in client.get(f"/calendar/feed/{feed.secret}.ics").get_data(as_text=True)
    assert "المجلس التنسيقي" not in client.get(f"/calendar/feed/{resident_feed.secret}.ics").get_data(as_text=True)


def test_a_named_resident_is_invited_sees_the_session_and_answers(app, client, db, coordinating, make_user,
                                                                  login_as):
    staff, invitee, stranger = make_user(role=Role.STAFF), make_user(), make_user()
    first = coordinating[0]
    outsider = app.test_client()
    form_post(outsider, "/login", {"email": stranger.email, "password": factories.PASSWORD})
    assert outsider.get(f"/sessions/{first.id}").status_code == 404

    staff_client = app.test_client()
    form_post(staff_client, "/login", {"email": staff.email, "password": factories.PASSWORD})
    form_post(staff_client, f"/staff/sessions/{first.id}/invitations", {"email": invitee.email})

    login_as(invitee)
    page = client.get(f"/sessions/{first.id}?lang=en").get_data(as_text=True)
    assert "You are invited. Will you attend?" in page
    form_post(client, f"/sessions/{first.id}/invitation", {"answer": "decline"}, page=f"/sessions/{first.id}")
    db.rollback()
    assert db.scalar(select(Invitation.response).where(Invitation.user_id == invitee.id)) == \
        InvitationResponse.DECLINED
    form_post(client, f"/sessions/{first.id}/invitation", {"answer": "accept"}, page=f"/sessions/{first.id}")
    db.rollback()
    assert db.scalar(select(Invitation.response).where(Invitation.user_id == invitee.id)) == \
        InvitationResponse.ACCEPTED
    assert "Invitations" in staff_client.get(f"/staff/sessions/{first.id}/invitations?lang=en").get_data(
        as_text=True)


def test_a_person_is_found_by_any_spelling_of_their_address(client, db, coordinating, make_user, login_as):
    invitee = make_user(email="fatima.ali@example.com")
    login_as(make_user(role=Role.STAFF))
    form_post(client, f"/staff/sessions/{coordinating[0].id}/invitations",
              {"email": " ＦＡＴＩＭＡ．Ali＠example.com "})
    db.rollback()
    assert db.scalar(select(Invitation.user_id)) == invitee.id


def test_unknown_email_and_public_sessions_refuse_invitations(client, db, coordinating, make_user, login_as):
    login_as(make_user(role=Role.STAFF))
    response = form_post(client, f"/staff/sessions/{coordinating[0].id}/invitations",
                         {"email": "nobody@example.com"})
    assert response.status_code == 200
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0


def test_invitations_page_is_staff_only(client, coordinating, make_user, login_as):
    login_as(make_user(role=Role.OFFICIAL))
    assert client.get(f"/staff/sessions/{coordinating[0].id}/invitations").status_code == 403


def test_new_occurrences_inherit_the_series_invitations(app, db, coordinating, make_body, make_user):
    from majlis.registration import invitations
    from majlis.sessions.models import Series

    body = make_body()
    staff = make_user(role=Role.STAFF)
    with app.app_context(), unit_of_work(db):
        invitations.invite(db, db.get(MajlisSession, coordinating[-1].id), actor=staff, now=NOW, body=body)
        series = db.get(Series, coordinating[0].series_id)
        session_services.materialize_series(db, series, now=NOW + timedelta(weeks=10), horizon=timedelta(weeks=12))
    db.expire_all()
    rows = db.scalars(select(MajlisSession).where(MajlisSession.series_id == coordinating[0].series_id)
                      .order_by(MajlisSession.starts_at)).all()
    assert len(rows) > len(coordinating)
    newest = rows[-1]
    assert db.scalar(select(Invitation.body_id).where(Invitation.session_id == newest.id)) == body.id
