"""Nobody turned away: visitors' tokens for the line and public viewing, the stream, promotion, the on-air call-in."""

from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role
from majlis.jitsi import services as jitsi
from majlis.questions import services as questions
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests.jitsi.test_join import SECRET, join, make_session, registered
from tests.jitsi.test_tokens import check_rules

STREAM = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.fixture
def visitors_app(app):
    app.config.update(JITSI_DOMAIN="meet.capital.example", JITSI_APP_ID="majlis", JITSI_APP_SECRET=SECRET,
                      JITSI_SUB="meet.jitsi", JITSI_VISITORS=True)
    return app


@pytest.fixture
def stream_app(app):
    app.config.update(JITSI_DOMAIN="meet.capital.example", JITSI_APP_ID="majlis", JITSI_APP_SECRET=SECRET,
                      JITSI_SUB="meet.jitsi", JITSI_VISITORS=False)
    return app


def decoded(response):
    return jose_jwt.decode(response.get_json()["jwt"], OctKey.import_key(SECRET), algorithms=["HS256"])


def test_a_waitlisted_resident_follows_as_a_visitor_without_any_moderator_right(visitors_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    waiting = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    response = join(client, majlis_session.id, api_token(waiting))
    assert response.status_code == 200
    body = response.get_json()
    assert body["role"] == "visitor" and body["moderator"] is False
    token = decoded(response)
    check_rules(token, room=majlis_session.room_name, at=datetime.now(UTC), expect_moderator=False)
    user = token.claims["context"]["user"]
    assert user["visitor"] is True and "lobby_bypass" not in user and user["id"] == str(waiting.id)
    db.expire_all()
    assert db.scalar(select(Registration.attended_at)) is None  # following is not attending


def test_jaas_visitor_tokens_have_no_feature(visitors_app, db, make_user):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    from majlis.jitsi.tokens import JitsiSettings

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public_key = RSAKey.import_key(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    app_id = "vpaas-magic-cookie-0123456789abcdef"
    settings = JitsiSettings(domain="meet.jit.si", jaas_app_id=app_id, jaas_kid=f"{app_id}/4f2a1b", private_key=pem,
                             visitors=True)
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    waiting = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    now = datetime.now(UTC)
    token = jitsi.join(db, majlis_session, waiting, settings=settings, now=now)
    claims = jose_jwt.decode(token.jwt, public_key, algorithms=["RS256"])
    check_rules(claims, room=majlis_session.room_name, at=now, expect_moderator=False)
    assert claims.claims["context"]["user"]["visitor"] is True
    assert set(claims.claims["context"]["features"].values()) == {"false"}
    assert (claims.claims["iss"], claims.claims["sub"]) == ("chat", settings.jaas_app_id)


def test_moderators_pass_the_lobby_and_participants_do_not(visitors_app, client, db, make_user, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5))
    moderator = decoded(join(client, majlis_session.id, api_token(make_user(role=Role.MODERATOR))))
    assert moderator.claims["context"]["user"]["lobby_bypass"] is True
    assert "visitor" not in moderator.claims["context"]["user"]
    seated = decoded(join(client, majlis_session.id, api_token(registered(db, majlis_session))))
    assert "lobby_bypass" not in seated.claims["context"]["user"]
    assert "visitor" not in seated.claims["context"]["user"]


def test_public_viewing_lets_any_resident_follow(visitors_app, client, db, make_user, api_token):
    closed = make_session(db, starts_in=timedelta(minutes=5))
    open_to_all = make_session(db, starts_in=timedelta(minutes=5), public_viewing=True)
    resident = make_user()
    assert join(client, closed.id, api_token(resident)).status_code == 403
    assert join(client, open_to_all.id, api_token(resident)).get_json()["role"] == "visitor"
    official = make_user(role=Role.OFFICIAL)  # public viewing is for residents
    assert join(client, open_to_all.id, api_token(official)).status_code == 403


def test_without_visitors_the_line_is_refused_the_room(stream_app, client, db, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=5), stream_url=STREAM)
    waiting = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    response = join(client, majlis_session.id, api_token(waiting))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_registered"


def test_a_resident_promoted_during_the_session_next_joins_as_a_participant(visitors_app, client, db, make_user,
                                                                             api_token, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-10), capacity=1)
    registered(db, majlis_session)
    waiting = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    with unit_of_work(db):  # the counters as registering would have left them
        row = db.get(MajlisSession, majlis_session.id)
        row.confirmed_count, row.waitlist_count = 1, 1
    headers = api_token(waiting)
    assert join(client, majlis_session.id, headers).get_json()["role"] == "visitor"
    login_as(waiting)
    before = client.get(f"/sessions/{majlis_session.id}/viewer").get_data(as_text=True)
    assert "Follow as a viewer" in client.get(f"/sessions/{majlis_session.id}/viewer?lang=en").get_data(as_text=True)
    version = db.scalar(select(MajlisSession.live_version).where(MajlisSession.id == majlis_session.id))

    staff = api_token(make_user(role=Role.STAFF))
    assert client.patch(f"/api/v1/sessions/{majlis_session.id}", json={"capacity": 2},
                        headers=staff).status_code == 200
    db.expire_all()
    assert db.scalar(select(MajlisSession.live_version).where(MajlisSession.id == majlis_session.id)) > version
    response = join(client, majlis_session.id, headers)
    assert response.get_json()["role"] == "participant" and "visitor" not in decoded(response).claims["context"]["user"]
    after = client.get(f"/sessions/{majlis_session.id}/viewer?lang=en").get_data(as_text=True)
    assert "Enter the video room" in after and "Your seat is confirmed." in after
    state = 'data-offer-state="'
    assert before.split(state)[1].split('"')[0] != after.split(state)[1].split('"')[0]


def _on_air_question(db, majlis_session, author, moderator, now):
    with unit_of_work(db):
        question = questions.ask(db, db.get(MajlisSession, majlis_session.id), author, body="متى تنار الطريق؟",
                                 now=now)
        questions.moderate(db, question, moderator, action="approve", now=now)
        questions.moderate(db, question, moderator, action="on_air", now=now)
    return question.id


@pytest.mark.parametrize("app_fixture", ["visitors_app", "stream_app"])
def test_the_on_air_author_speaks_until_shortly_after_the_answer(request, app_fixture, db, make_user):
    app = request.getfixturevalue(app_fixture)
    settings = jitsi.settings_from_config(app.config)
    majlis_session = make_session(db, starts_in=timedelta(minutes=-20))
    author = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    moderator = make_user(role=Role.MODERATOR)
    now = datetime.now(UTC)
    question_id = _on_air_question(db, majlis_session, author, moderator, now)
    row = db.get(MajlisSession, majlis_session.id)

    on_air = jitsi.join(db, row, author, settings=settings, now=now + timedelta(minutes=1))
    assert on_air.role == "participant" and not on_air.moderator
    claims = jose_jwt.decode(on_air.jwt, OctKey.import_key(SECRET), algorithms=["HS256"]).claims
    assert "visitor" not in claims["context"]["user"] and claims["context"]["user"]["moderator"] == "false"
    assert claims["exp"] <= int((now + timedelta(minutes=1) + jitsi.CALL_IN_TOKEN).timestamp())

    answered_at = now + timedelta(minutes=3)
    with unit_of_work(db):
        questions.moderate(db, questions.lock_question(db, question_id), moderator, action="answered",
                           now=answered_at)
    just_after = jitsi.join(db, row, author, settings=settings, now=answered_at + timedelta(minutes=1))
    assert just_after.role == "participant"
    assert just_after.expires_at <= answered_at + jitsi.CALL_IN_GRACE
    later = answered_at + jitsi.CALL_IN_GRACE + timedelta(seconds=1)
    if settings.visitors:
        assert jitsi.join(db, row, author, settings=settings, now=later).role == "visitor"
    else:
        with pytest.raises(Exception) as refused:
            jitsi.join(db, row, author, settings=settings, now=later)
        assert refused.value.code == "not_registered"


def test_the_author_s_page_offers_to_speak_while_on_air(stream_app, client, db, make_user, login_as):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-20), stream_url=STREAM)
    author = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    login_as(author)
    page = client.get(f"/sessions/{majlis_session.id}?lang=en").get_data(as_text=True)
    assert "Watch the stream" in page and "Join to speak" not in page
    _on_air_question(db, majlis_session, author, make_user(role=Role.MODERATOR), datetime.now(UTC))
    part = client.get(f"/sessions/{majlis_session.id}/viewer?lang=en").get_data(as_text=True)
    assert "You are on air" in part and "Join to speak" in part and "Watch the stream" not in part


def test_the_line_watches_the_stream_on_the_session_page(stream_app, client, db, login_as, make_user):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-5), stream_url=STREAM)
    login_as(registered(db, majlis_session, RegistrationStatus.WAITLISTED))
    page = client.get(f"/sessions/{majlis_session.id}?lang=en")
    html = page.get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html and "Watch the stream" in html
    assert "frame-src https://www.youtube-nocookie.com;" in page.headers["Content-Security-Policy"]
    assert "meet.capital.example" not in page.headers["Content-Security-Policy"].split("frame-src")[1].split(";")[0]


def test_the_stream_is_only_for_followers_and_only_while_the_room_is_open(stream_app, client, db, login_as,
                                                                          make_user):
    later = make_session(db, starts_in=timedelta(hours=3), stream_url=STREAM)
    now_on = make_session(db, starts_in=timedelta(minutes=-5), stream_url=STREAM)
    seated = registered(db, now_on)
    login_as(seated)
    html = client.get(f"/sessions/{now_on.id}?lang=en").get_data(as_text=True)
    assert "youtube-nocookie" not in html and "Enter the video room" in html
    other = stream_app.test_client()
    from tests.conftest import form_post

    waiting = registered(db, later, RegistrationStatus.WAITLISTED)
    form_post(other, "/login", {"email": waiting.email, "password": "Majlis-test-pass-7"})
    html = other.get(f"/sessions/{later.id}?lang=en").get_data(as_text=True)
    assert "number 1 in line" in html and "youtube-nocookie" not in html


def test_anonymous_readers_are_asked_to_sign_in_where_the_public_may_follow(stream_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-5), stream_url=STREAM, public_viewing=True)
    html = client.get(f"/sessions/{majlis_session.id}?lang=en").get_data(as_text=True)
    assert "Sign in to follow the session" in html and "youtube-nocookie.com/embed" not in html


@pytest.mark.parametrize("url, embedded", [
    ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=x", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
    ("https://tube.example.org/w/9c9de5e8-0a1e-484a-b099-e80766180a6d",
     "https://tube.example.org/videos/embed/9c9de5e8-0a1e-484a-b099-e80766180a6d"),
    ("https://player.example.net/live/majlis", "https://player.example.net/live/majlis"),
])
def test_stream_addresses_become_their_players(url, embedded):
    from majlis.sessions.streams import check, embed_url

    assert embed_url(check(url)) == embedded


@pytest.mark.parametrize("value", ["http://www.youtube.com/watch?v=dQw4w9WgXcQ", "javascript:alert(1)",
                                   "https://user:pw@example.com/live", "https://", "ftp://example.com/x",
                                   "https://example.com/a b", 12, "https://example.com/" + "x" * 500])
def test_staff_give_only_https_stream_addresses(app, client, make_user, api_token, value):
    staff = api_token(make_user(role=Role.STAFF))
    response = client.post("/api/v1/sessions", headers=staff, json={
        "title_ar": "جلسة خاصة", "title_en": "Special", "starts_at": "2030-01-05T19:00+03:00",
        "duration_minutes": 60, "capacity": 10, "stream_url": value})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "stream_url"


def test_staff_set_the_stream_and_public_viewing_through_the_api(app, client, make_user, api_token):
    staff = api_token(make_user(role=Role.STAFF))
    created = client.post("/api/v1/sessions", headers=staff, json={
        "title_ar": "جلسة خاصة", "title_en": "Special", "starts_at": "2030-01-05T19:00+03:00",
        "duration_minutes": 60, "capacity": 10, "stream_url": STREAM, "public_viewing": True})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["stream_url"], body["public_viewing"]) == (STREAM, True)
    path = f"/api/v1/sessions/{body['id']}"
    changed = client.patch(path, headers=staff, json={"stream_url": None, "public_viewing": False}).get_json()
    assert (changed["stream_url"], changed["public_viewing"]) == (None, False)
    assert client.patch(path, headers=staff, json={"public_viewing": "yes"}).status_code == 400
    assert client.get(path, headers=staff).get_json()["public_viewing"] is False


def test_staff_set_the_stream_on_the_session_form(app, client, db, make_user, login_as):
    from tests.conftest import form_post

    majlis_session = make_session(db, starts_in=timedelta(days=3))
    login_as(make_user(role=Role.STAFF))
    page = f"/staff/sessions/{majlis_session.id}"
    html = client.get(page).get_data(as_text=True)
    values = {name: html.split(f'name="{name}"')[1].split('value="')[1].split('"')[0]
              for name in ("starts_at", "ends_at", "capacity", "registration_opens_at", "registration_closes_at")}
    response = form_post(client, f"/staff/sessions/{majlis_session.id}/update",
                         {**values, "stream_url": STREAM, "public_viewing": "y"}, page=page)
    assert response.status_code == 302
    db.expire_all()
    row = db.get(MajlisSession, majlis_session.id)
    assert (row.stream_url, row.public_viewing) == (STREAM, True)
    bad = form_post(client, f"/staff/sessions/{majlis_session.id}/update",
                    {**values, "stream_url": "http://insecure.example/live", "public_viewing": "y"}, page=page)
    assert bad.status_code == 400


def test_jitsi_config_prints_the_lobby_settings(runner, visitors_app):
    result = runner.invoke(args=["jitsi-config"])
    assert result.exit_code == 0
    assert "ENABLE_LOBBY=1" in result.output and "token_lobby_bypass" in result.output
    assert "ENABLE_VISITORS=1" in result.output and SECRET not in result.output


def test_anonymous_readers_are_asked_to_sign_in_where_the_public_may_follow_as_visitors(visitors_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-5), public_viewing=True)
    html = client.get(f"/sessions/{majlis_session.id}?lang=en").get_data(as_text=True)
    assert "Sign in to follow the session" in html
    closed = make_session(db, starts_in=timedelta(minutes=-5))
    assert "Sign in to follow the session" not in client.get(f"/sessions/{closed.id}?lang=en").get_data(as_text=True)
