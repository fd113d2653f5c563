"""POST /api/v1/jitsi/events: signed JaaS webhooks and Prosody event-sync posts move attendance; bad ones nothing.

The fixtures follow 8x8's documented payload (developer.8x8.com/jaas/docs/webhooks-payload): idempotencyKey,
customerId, appId, eventType, sessionId, timestamp in milliseconds, fqn "<AppID>/<room>", and data.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from majlis.db import unit_of_work
from majlis.enums import RegistrationStatus, Role, SessionStatus
from majlis.jitsi.events import presence
from majlis.jitsi.models import RoomEvent
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests.jitsi.test_join import SECRET, join, make_session, registered

WEBHOOK_SECRET = "whsec-test-" + "k" * 32
EVENTS_TOKEN = "esync-" + "t" * 40
APP_ID = "vpaas-magic-cookie-c2824d584eac4489a1e32e4e164d5a3c"


@pytest.fixture
def events_app(app):
    app.config.update(JITSI_DOMAIN="meet.capital.example", JITSI_APP_ID="majlis", JITSI_APP_SECRET=SECRET,
                      JITSI_SUB="meet.jitsi", JITSI_WEBHOOK_SECRET=WEBHOOK_SECRET, JITSI_EVENTS_TOKEN=EVENTS_TOKEN)
    return app


def jaas_event(kind: str, room: str, at: datetime, data: dict | None = None, key: str | None = None) -> dict:
    return {
        "idempotencyKey": key or str(uuid.uuid4()),
        "customerId": "c2824d584eac4489a1e32e4e164d5a3c",
        "appId": APP_ID,
        "eventType": kind,
        "sessionId": "c3348153-1027-4382-afad-5ae91b433c26",
        "timestamp": int(at.timestamp() * 1000),
        "fqn": f"{APP_ID}/{room}",
        "data": data or {},
    }


def participant(user=None, *, visitor: bool = False, participant_id: str | None = None) -> dict:
    data = {"moderator": False, "name": user.name if user else "ضيف", "participantId": participant_id
            or uuid.uuid4().hex[:8], "participantJid": f"{uuid.uuid4().hex}@meet.jitsi/abc"}
    if user is not None:
        data.update(id=str(user.id), email=user.email)
    if visitor:
        data["role"] = "visitor"
    return data


def signature(body: bytes, *, secret: str = WEBHOOK_SECRET, at: datetime | None = None) -> str:
    stamp = str(int((at or datetime.now(UTC)).timestamp()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).digest()
    return f"t={stamp},v1={base64.b64encode(digest).decode()}"


def post(client, payload: dict, **signing):
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post("/api/v1/jitsi/events", data=body, content_type="application/json",
                       headers={"X-Jaas-Signature": signature(body, **signing)})


def registration_of(db, user):
    db.expire_all()
    return db.scalar(select(Registration).where(Registration.user_id == user.id))


def test_signed_joins_and_leaves_move_attendance(events_app, client, db, make_user, api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-30))
    user = registered(db, majlis_session)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=25)
    device = participant(user)
    assert post(client, jaas_event("PARTICIPANT_JOINED", majlis_session.room_name, start, device)).get_json() == \
        {"status": "recorded"}
    assert post(client, jaas_event("PARTICIPANT_LEFT", majlis_session.room_name, start + timedelta(minutes=20),
                                   {**device, "disconnectReason": "left"})).status_code == 200
    row = registration_of(db, user)
    assert row.joined_at == start and row.left_at == start + timedelta(minutes=20) and row.seconds_present == 1200
    listing = client.get(f"/api/v1/sessions/{majlis_session.id}/registrations",
                         headers=api_token(make_user(role=Role.STAFF))).get_json()["registrations"]
    assert listing == [{"user_id": user.id, "name": user.name, "status": "confirmed", "position": None,
                        "attended": True, "joined_at": start.isoformat(),
                        "left_at": (start + timedelta(minutes=20)).isoformat(), "minutes_present": 20, "mode": "online",
                        "checked_in_at": None}]


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "tampered body", "too old", "other scheme only"])
def test_unsigned_wrongly_signed_and_stale_events_change_nothing(events_app, client, db, how):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-30))
    user = registered(db, majlis_session)
    payload = jaas_event("PARTICIPANT_JOINED", majlis_session.room_name, datetime.now(UTC), participant(user))
    body = json.dumps(payload).encode()
    headers = {
        "unsigned": {},
        "wrong secret": {"X-Jaas-Signature": signature(body, secret="not-the-secret")},
        "tampered body": {"X-Jaas-Signature": signature(body.replace(b"PARTICIPANT", b"PARTICIPANT "))},
        "too old": {"X-Jaas-Signature": signature(body, at=datetime.now(UTC) - timedelta(minutes=6))},
        "other scheme only": {"X-Jaas-Signature": signature(body).replace("v1=", "v0=")},
    }[how]
    response = client.post("/api/v1/jitsi/events", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    assert db.scalar(select(func.count()).select_from(RoomEvent)) == 0
    assert registration_of(db, user).joined_at is None


def test_a_replayed_event_changes_nothing(events_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-30))
    user = registered(db, majlis_session)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    device = participant(user)
    key = str(uuid.uuid4())
    post(client, jaas_event("PARTICIPANT_JOINED", majlis_session.room_name, start, device))
    post(client, jaas_event("PARTICIPANT_LEFT", majlis_session.room_name, start + timedelta(minutes=5), device,
                            key=key))
    before = registration_of(db, user)
    # The same delivery again (JaaS retries), even signed anew and with a later time, is recognised by its key.
    again = post(client, jaas_event("PARTICIPANT_LEFT", majlis_session.room_name, start + timedelta(minutes=15),
                                    device, key=key))
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate"}
    after = registration_of(db, user)
    assert (after.left_at, after.seconds_present) == (before.left_at, before.seconds_present) == \
        (start + timedelta(minutes=5), 300)
    assert db.scalar(select(func.count()).select_from(RoomEvent)) == 2


def test_events_out_of_order_and_on_two_devices(events_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-60))
    user = registered(db, majlis_session)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)
    phone, laptop = participant(user), participant(user)
    room = majlis_session.room_name
    for kind, minutes, device in [("PARTICIPANT_LEFT", 30, phone), ("PARTICIPANT_JOINED", 10, laptop),
                                  ("PARTICIPANT_JOINED", 0, phone), ("PARTICIPANT_LEFT", 20, laptop),
                                  ("PARTICIPANT_JOINED", 40, phone)]:
        post(client, jaas_event(kind, room, t0 + timedelta(minutes=minutes), device))
    row = registration_of(db, user)
    assert row.joined_at == t0 and row.left_at is None and row.seconds_present == 30 * 60  # still inside
    post(client, jaas_event("ROOM_DESTROYED", room, t0 + timedelta(minutes=45), {"conference": room}))
    row = registration_of(db, user)
    assert row.left_at == t0 + timedelta(minutes=45) and row.seconds_present == 35 * 60


def test_presence_rules():
    t = datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
    m = timedelta(minutes=1)
    assert presence([]).joined_at is None
    assert presence([(t, "PARTICIPANT_LEFT")]).seconds == 0  # a leave without a join
    found = presence([(t, "PARTICIPANT_JOINED"), (t + 5 * m, "PARTICIPANT_LEFT"), (t + 10 * m, "PARTICIPANT_JOINED"),
                      (t + 12 * m, "PARTICIPANT_LEFT")])
    assert (found.joined_at, found.left_at, found.seconds) == (t, t + 12 * m, 7 * 60)


def test_once_the_room_reports_joins_attendance_means_being_in_the_room(events_app, client, db, make_user,
                                                                        api_token):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-10))
    came, only_token = registered(db, majlis_session), registered(db, majlis_session)
    assert join(client, majlis_session.id, api_token(only_token)).status_code == 200
    staff = api_token(make_user(role=Role.STAFF))
    path = f"/api/v1/sessions/{majlis_session.id}/registrations"
    attended = {r["user_id"]: r["attended"] for r in client.get(path, headers=staff).get_json()["registrations"]}
    assert attended == {came.id: False, only_token.id: True}  # no event yet: the token is the evidence
    post(client, jaas_event("PARTICIPANT_JOINED", majlis_session.room_name, datetime.now(UTC), participant(came)))
    attended = {r["user_id"]: r["attended"] for r in client.get(path, headers=staff).get_json()["registrations"]}
    assert attended == {came.id: True, only_token.id: False}


def test_the_minutes_show_real_attendance(events_app, client, db, make_user):
    from majlis.minutes.services import compile_minutes
    from majlis.timeutil import local_zone

    majlis_session = make_session(db, starts_in=timedelta(minutes=-100))  # ended ten minutes ago
    stayed, left_early, absent = (registered(db, majlis_session) for _ in range(3))
    start, room = majlis_session.starts_at, majlis_session.room_name
    waiting = registered(db, majlis_session, RegistrationStatus.WAITLISTED)
    for user, minutes_in in ((stayed, None), (left_early, 30)):
        device = participant(user)
        post(client, jaas_event("PARTICIPANT_JOINED", room, start + timedelta(minutes=1), device))
        if minutes_in:
            post(client, jaas_event("PARTICIPANT_LEFT", room, start + timedelta(minutes=1 + minutes_in), device))
    post(client, jaas_event("PARTICIPANT_JOINED", room, start + timedelta(minutes=2), participant(visitor=True)))
    post(client, jaas_event("PARTICIPANT_JOINED", room, start + timedelta(minutes=3), participant(waiting)))
    with unit_of_work(db):
        db.get(MajlisSession, majlis_session.id).status = SessionStatus.ENDED
    with events_app.app_context(), unit_of_work(db):
        minutes = compile_minutes(db, majlis_session.id, now=datetime.now(UTC), zone=local_zone())
    assert minutes is not None
    with events_app.test_request_context():
        from flask_babel import force_locale

        from majlis.minutes.services import compose_draft

        with force_locale("en"):
            english = compose_draft(db, db.get(MajlisSession, majlis_session.id), zone=local_zone(), locale="en")
    assert "Registered: 3" in english and "Attended: 2" in english and "No-shows: 1" in english
    assert "2 joined, 1 stayed to the end" in english
    assert "Followed without a seat (visitors): 2" in english  # the anonymous visitor and the resident in line
    assert absent.id  # never seen in the room


def test_uploads_and_lobby_and_unknown_rooms_are_kept_once(events_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-10))
    now = datetime.now(UTC)
    lobby = jaas_event("PARTICIPANT_JOINED_LOBBY", majlis_session.room_name, now, participant())
    assert post(client, lobby).get_json() == {"status": "recorded"}
    unknown = jaas_event("PARTICIPANT_JOINED", "majlis-nosuchroom", now, participant())
    assert post(client, unknown).get_json() == {"status": "ignored"}
    assert post(client, unknown).get_json() == {"status": "duplicate"}
    broken = client.post("/api/v1/jitsi/events", data=b'{"eventType": 1}', content_type="application/json",
                         headers={"X-Jaas-Signature": signature(b'{"eventType": 1}')})
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "bad_event"


def event_sync(kind: str, room: str, user, at: datetime, *, left: datetime | None = None) -> dict:
    occupant = {"occupant_jid": f"{uuid.uuid4().hex}@meet.jitsi/Xy", "joined_at": int(at.timestamp()),
                "name": user.name, "email": user.email, "id": str(user.id)}
    if left is not None:
        occupant["left_at"] = int(left.timestamp())
    return {"event_name": kind, "room_name": room, "room_jid": f"{room}@conference.meet.jitsi", "is_breakout": False,
            "active_occupants_count": 1, "occupant": occupant}


def test_prosody_event_sync_posts_with_the_shared_token(events_app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-30))
    user = registered(db, majlis_session)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    auth = {"Authorization": f"Bearer {EVENTS_TOKEN}"}
    joined = event_sync("muc-occupant-joined", majlis_session.room_name, user, t0)
    assert client.post("/api/v1/jitsi/events/occupant/joined", json=joined, headers=auth).get_json() == \
        {"status": "recorded"}
    assert client.post("/api/v1/jitsi/events/occupant/joined", json=joined, headers=auth).get_json() == \
        {"status": "duplicate"}
    left = event_sync("muc-occupant-left", majlis_session.room_name, user, t0, left=t0 + timedelta(minutes=12))
    assert client.post("/api/v1/jitsi/events", json=left, headers=auth).status_code == 200
    row = registration_of(db, user)
    assert (row.joined_at, row.left_at, row.seconds_present) == (t0, t0 + timedelta(minutes=12), 720)
    for headers in ({"Authorization": "Bearer wrong"}, {}, {"Authorization": f"Basic {EVENTS_TOKEN}"}):
        response = client.post("/api/v1/jitsi/events/occupant/left", json=left, headers=headers)
        assert response.status_code == 401


def test_events_are_refused_when_no_secret_is_configured(app, client, db):
    majlis_session = make_session(db, starts_in=timedelta(minutes=-30))
    body = json.dumps(jaas_event("ROOM_CREATED", majlis_session.room_name, datetime.now(UTC))).encode()
    response = client.post("/api/v1/jitsi/events", data=body, content_type="application/json",
                           headers={"X-Jaas-Signature": signature(body)})
    assert response.status_code == 401
    response = client.post("/api/v1/jitsi/events/room/created", json={"event_name": "muc-room-created"},
                           headers={"Authorization": "Bearer anything"})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [
    b'{"eventType": "PARTICIPANT_JOINED", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # too deep to parse
    b'{"eventType": "PARTICIPANT_JOINED", "data": ' + b"[" * 40 + b"]" * 40 + b"}",  # parsed, still too deep
    b'{"eventType": "PARTICIPANT_JOINED", "fqn": "\\ud800"}',  # a lone surrogate
    b'{"eventType": NaN}',
])
def test_a_signed_event_with_a_hostile_body_is_400_and_changes_nothing(events_app, client, body):
    response = client.post("/api/v1/jitsi/events", data=body, content_type="application/json",
                           headers={"X-Jaas-Signature": signature(body)})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("invalid_json", "invalid_input")
