"""POST /api/v1/sessions/<id>/join and the join page: who gets a token, when, and attendance."""

from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role, SeriesKind, SessionStatus, Visibility
from majlis.registration.models import Registration
from majlis.sessions.models import Invitation
from tests import factories

SECRET = "jitsi-test-secret-" + "z" * 32


@pytest.fixture
def jitsi_app(app):
    app.config.update(JITSI_DOMAIN="meet.capital.example", JITSI_APP_ID="majlis", JITSI_APP_SECRET=SECRET,
                      JITSI_SUB="meet.jitsi")
    return app


def make_session(db, *, starts_in: timedelta, **overrides):
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + starts_in, registration_opens_at=now - timedelta(days=3),
                                        registration_closes_at=now + starts_in - timedelta(minutes=1)
                                        if starts_in > timedelta(minutes=2) else now - timedelta(days=1),
                                        **overrides)


def registered(db, majlis_session, status=RegistrationStatus.CONFIRMED):
    now = datetime.now(UTC)
    with unit_of_work(db):
        user = factories.user(db)
        db.add(Registration(session_id=majlis_session.id, user_id=user.id, status=status, queued_at=now,
                            created_at=now, updated_at=now))
    return user


def join(client, session_id, headers):
    return client.post(f"/api/v1/sessions/{session_id}/join", headers=headers)


def test_a_confirmed_registrant_gets_a_token_and_is_marked_attended(jitsi_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    user = registered(db, majlis_session)
    response = join(client, majlis_session.id, api_token(user))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"jwt", "domain", "room", "url", "expires_at", "moderator", "role"}
    assert body["moderator"] is False and body["role"] == "participant" and body["room"] == majlis_session.room_name
    assert body["url"] == f"https://meet.capital.example/{majlis_session.room_name}"
    claims = jose_jwt.decode(body["jwt"], OctKey.import_key(SECRET), algorithms=["HS256"]).claims
    assert claims["room"] == majlis_session.room_name and claims["context"]["user"]["id"] == str(user.id)
    assert datetime.fromisoformat(body["expires_at"]) == majlis_session.ends_at.replace(microsecond=0) + \
        timedelta(minutes=30)
    db.expire_all()
    assert db.scalar(select(Registration.attended_at)) is not None


def test_the_join_token_carries_the_email_only_when_configured(jitsi_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    user = registered(db, majlis_session)

    def token_user():
        body = join(client, majlis_session.id, api_token(user)).get_json()
        return jose_jwt.decode(body["jwt"], OctKey.import_key(SECRET), algorithms=["HS256"]).claims["context"]["user"]

    assert "email" not in token_user() and token_user()["name"] == user.name
    jitsi_app.config["JITSI_TOKEN_EMAIL"] = True
    assert token_user()["email"] == user.email


def test_jitsi_token_email_is_read_from_the_environment(tmp_path):
    from majlis.config import from_env

    assert from_env(str(tmp_path), {})["JITSI_TOKEN_EMAIL"] is False
    assert from_env(str(tmp_path), {"JITSI_TOKEN_EMAIL": "1"})["JITSI_TOKEN_EMAIL"] is True


def test_moderators_and_staff_enter_as_moderators(jitsi_app, client, db, make_user, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-20))
    for role in (Role.MODERATOR, Role.STAFF):
        body = join(client, majlis_session.id, api_token(make_user(role=role))).get_json()
        assert body["moderator"] is True


@pytest.mark.parametrize("who", ["stranger", "waitlisted", "official_of_another_body"])
def test_people_without_a_seat_are_refused(jitsi_app, client, db, make_user, api_token, who):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    user = {"stranger": lambda: make_user(),
            "waitlisted": lambda: registered(db, majlis_session, RegistrationStatus.WAITLISTED),
            "official_of_another_body": lambda: make_user(role=Role.OFFICIAL)}[who]()
    response = join(client, majlis_session.id, api_token(user))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_registered"
    db.expire_all()
    assert db.scalar(select(Registration.attended_at).where(Registration.attended_at.is_not(None))) is None


def test_invited_officials_enter_coordinating_sessions(jitsi_app, client, db, make_user, make_body, api_token):
    body = make_body()
    official = make_user(role=Role.OFFICIAL, body=body)
    majlis_session = make_session(db, starts_in=timedelta(minutes=5), kind=SeriesKind.COORDINATING,
                                  visibility=Visibility.INVITED)
    with unit_of_work(db):
        db.add(Invitation(session_id=majlis_session.id, body_id=body.id, created_at=datetime.now(UTC)))
    response = join(client, majlis_session.id, api_token(official))
    assert response.status_code == 200 and response.get_json()["moderator"] is False


@pytest.mark.parametrize("starts_in, duration, status, code", [
    (timedelta(minutes=16), 90, 409, "not_open_yet"),
    (timedelta(hours=-3), 90, 409, "session_ended"),  # ended 90 min ago: past the 30-minute grace
])
def test_outside_the_window_is_refused(jitsi_app, client, db, api_token, starts_in, duration, status, code):
    majlis_session = make_session(db, starts_in=starts_in)
    user = registered(db, majlis_session)
    response = join(client, majlis_session.id, api_token(user))
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_inside_the_grace_after_the_end_still_works(jitsi_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-110))  # ended 20 minutes ago
    assert join(client, majlis_session.id, api_token(registered(db, majlis_session))).status_code == 200


def test_a_cancelled_session_refuses(jitsi_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5), status=SessionStatus.CANCELLED)
    response = join(client, majlis_session.id, api_token(registered(db, majlis_session)))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "session_cancelled"


def test_without_jitsi_settings_the_api_says_so(app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    response = join(client, majlis_session.id, api_token(registered(db, majlis_session)))
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "jitsi_not_configured"


def test_anonymous_and_unknown(jitsi_app, client, db, api_token, make_user):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    assert client.post(f"/api/v1/sessions/{majlis_session.id}/join").status_code == 401
    assert join(client, 999999, api_token(make_user())).status_code == 404


def test_join_page_embeds_the_room(jitsi_app, client, db, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    login_as(registered(db, majlis_session))
    page = client.get(f"/sessions/{majlis_session.id}/join")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-external-api="https://meet.capital.example/external_api.js"' in html  # join.js loads it
    assert f'data-room="{majlis_session.room_name}"' in html and 'data-jwt="ey' in html and 'data-lang="ar"' in html
    assert "org.jitsi.meet://meet.capital.example/" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' https://meet.capital.example" in csp and "frame-src https://meet.capital.example" in csp
    assert f"/sessions/{majlis_session.id}/join" in client.get(f"/sessions/{majlis_session.id}").get_data(
        as_text=True)


def test_join_page_without_configuration_explains(app, client, db, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    login_as(registered(db, majlis_session))
    page = client.get(f"/sessions/{majlis_session.id}/join?lang=en")
    assert page.status_code == 503  # the room is unavailable; the page says why and leads back
    html = page.get_data(as_text=True)
    assert "The video room is not set up on this server yet." in html
    assert f'href="/sessions/{majlis_session.id}"' in html and "Back to the session page" in html
    assert "JITSI_APP_SECRET" not in html  # the settings' names are for the office, not residents


def test_staff_are_told_which_video_settings_are_missing(app, client, db, make_user, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    login_as(make_user(role=Role.STAFF))
    html = client.get(f"/sessions/{majlis_session.id}/join?lang=en").get_data(as_text=True)
    assert '<bdi dir="ltr">JITSI_APP_ID, JITSI_APP_SECRET</bdi>' in html and "Back to the session page" in html


def test_join_page_refusals_and_login(jitsi_app, client, db, make_user, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    assert client.get(f"/sessions/{majlis_session.id}/join").status_code == 302  # sign in first
    login_as(make_user())
    page = client.get(f"/sessions/{majlis_session.id}/join")
    assert page.status_code == 403 and "data-jwt" not in page.get_data(as_text=True)


def test_staff_see_attendance(jitsi_app, client, db, api_token, make_user, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5), capacity=5)
    present, absent = registered(db, majlis_session), registered(db, majlis_session)
    join(client, majlis_session.id, api_token(present))
    login_as(make_user(role=Role.STAFF))
    listing = client.get(f"/api/v1/sessions/{majlis_session.id}/registrations").get_json()["registrations"]
    assert {r["user_id"]: r["attended"] for r in listing} == {present.id: True, absent.id: False}


def test_jitsi_config_command(runner, jitsi_app):
    result = runner.invoke(args=["jitsi-config"])
    assert result.exit_code == 0
    assert "AUTH_TYPE=jwt" in result.output and "JWT_APP_ID=majlis" in result.output
    assert "JWT_ACCEPTED_AUDIENCES=jitsi" in result.output and "ENABLE_AUTO_OWNER=0" in result.output
    assert SECRET not in result.output  # the secret is never printed


def test_jitsi_config_warns_about_mismatches(runner, app):
    app.config.update(JITSI_APP_ID="majlis", JITSI_APP_SECRET="short", JITSI_SUB="meet.capital.example",
                      JITSI_DOMAIN="meet.capital.example")
    result = runner.invoke(args=["jitsi-config"])
    assert "shorter than 32 characters" in result.output and "XMPP domain" in result.output


# --- joining again: refused the moment anything changes -------------------------------------------------------


def _claims(response) -> dict:
    claims = jose_jwt.decode(response.get_json()["jwt"], OctKey.import_key(SECRET), algorithms=["HS256"]).claims
    return {name: value for name, value in claims.items() if name not in ("iat", "nbf")}


def test_a_first_join_records_attendance_once_and_joins_again_get_the_same_token(jitsi_app, client, db, api_token,
                                                                                     make_user):
    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    user = registered(db, majlis_session)
    headers = api_token(user)
    first = join(client, majlis_session.id, headers)
    assert first.status_code == 200
    assert set(first.get_json()) >= {"jwt", "domain", "room", "url", "expires_at", "moderator"}
    assert _claims(first)["context"]["user"]["id"] == str(user.id)

    def attended_at():
        db.expire_all()
        return db.scalar(select(Registration.attended_at).where(Registration.user_id == user.id))

    recorded = attended_at()
    assert recorded is not None
    again = join(client, majlis_session.id, headers)
    assert again.status_code == 200 and _claims(again) == _claims(first)
    assert attended_at() == recorded  # still the first join's time

    moderator_headers = api_token(make_user(role=Role.MODERATOR))
    assert join(client, majlis_session.id, moderator_headers).get_json()["moderator"] is True


@pytest.mark.parametrize("change, status, code", [
    ("session cancelled", 409, "session_cancelled"),
    ("session over", 409, "session_ended"),
    ("registration cancelled", 403, "not_registered"),
    ("token revoked", 401, "invalid_token"),
    ("account disabled", 401, "invalid_token"),
])
def test_joining_again_after_a_change_is_refused_at_once(jitsi_app, client, db, api_token, change, status, code):
    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    user = registered(db, majlis_session)
    headers = api_token(user)
    assert join(client, majlis_session.id, headers).status_code == 200
    assert join(client, majlis_session.id, headers).status_code == 200
    db.expire_all()
    with unit_of_work(db):
        from majlis.auth.models import ApiToken, User
        from majlis.sessions.models import MajlisSession

        row = db.get(MajlisSession, majlis_session.id)
        if change == "session cancelled":
            row.status = SessionStatus.CANCELLED
        elif change == "session over":
            row.starts_at, row.ends_at = row.starts_at - timedelta(hours=5), row.ends_at - timedelta(hours=5)
        elif change == "registration cancelled":
            db.scalar(select(Registration)).status = RegistrationStatus.CANCELLED
        elif change == "token revoked":
            db.scalar(select(ApiToken).where(ApiToken.user_id == user.id)).revoked_at = datetime.now(UTC)
        else:
            db.get(User, user.id).is_disabled = True
    refused = join(client, majlis_session.id, headers)
    assert refused.status_code == status
    assert refused.get_json()["error"]["code"] == code


def test_attendance_is_recorded_only_for_a_confirmed_registrant_not_yet_marked(jitsi_app, db):
    from majlis.registration.services import mark_attended

    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    confirmed = registered(db, majlis_session)
    cancelled = registered(db, majlis_session, RegistrationStatus.CANCELLED)
    waitlisted = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    now = datetime.now(UTC)
    ids = dict(db.execute(select(Registration.user_id, Registration.id)).all())
    with unit_of_work(db):
        assert mark_attended(db, ids[confirmed.id], now=now) is True
        assert mark_attended(db, ids[confirmed.id], now=now + timedelta(minutes=1)) is False
        assert mark_attended(db, ids[cancelled.id], now=now) is False
        assert mark_attended(db, ids[waitlisted.id], now=now) is False
    db.expire_all()
    marked = dict(db.execute(select(Registration.user_id, Registration.attended_at)).all())
    assert marked[confirmed.id].replace(microsecond=0) == now.replace(microsecond=0)
    assert marked[cancelled.id] is None and marked[waitlisted.id] is None


def test_a_registrant_who_became_a_moderator_is_still_marked_attended(jitsi_app, client, db, api_token):
    from majlis.auth.models import User

    majlis_session = make_session(db, starts_in=timedelta(minutes=10))
    user = registered(db, majlis_session)
    with unit_of_work(db):
        db.get(User, user.id).role = Role.MODERATOR
    response = join(client, majlis_session.id, api_token(user))
    assert response.status_code == 200 and response.get_json()["moderator"] is True
    db.expire_all()
    assert db.scalar(select(Registration.attended_at).where(Registration.user_id == user.id)) is not None
