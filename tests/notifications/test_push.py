"""Web Push: a subscription whose keys the test owns receives a notice that the test decrypts (RFC 8291) and whose
VAPID signature it checks (RFC 8292); a push service answering 404 or 410 removes the subscription."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import OutboxStatus
from majlis.errors import InvalidInput
from majlis.notifications import push
from majlis.notifications.models import OutboxMessage, PushSubscription
from majlis.notifications.preferences import stop_token
from tests import factories
from tests.mailbox import deliver
from tests.notifications.fakes import fake_server


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """The user agent's side of a subscription: its own P-256 key pair and authentication secret."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
                "expirationTime": None}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def app_config(app_config):
    public, private = push.new_vapid_keys()
    return {**app_config, "MAJLIS_VAPID_PUBLIC_KEY": public, "MAJLIS_VAPID_PRIVATE_KEY": private,
            "MAJLIS_VAPID_SUBJECT": "mailto:majlis@capital.example"}


@pytest.fixture
def open_session(db):
    now = datetime.now(UTC)
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=now + timedelta(days=2), capacity=5,
                                        registration_opens_at=now - timedelta(days=1))


def subscribe(client, headers, device: Device):
    response = client.post("/api/v1/me/push-subscriptions", json=device.subscription(), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def register(client, session_id: int, headers):
    response = client.post(f"/api/v1/sessions/{session_id}/registrations", headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)


def rows(db):
    db.rollback()
    return db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def vapid_claims(authorization: str, audience: str) -> tuple[dict, str]:
    """Verify the request's VAPID token (RFC 8292: `vapid t=<JWT>, k=<public key>`) and return its claims and key."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(part.strip().split("=", 1) for part in rest.split(","))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
    claims = jwt.decode(parts["t"], key=public, algorithms=["ES256"], audience=audience)
    return claims, parts["k"]


def test_a_notice_reaches_a_subscription_encrypted_for_its_keys_and_signed_with_vapid(app, client, db, make_user,
                                                                                     api_token, open_session):
    resident = make_user(locale="en")
    headers = api_token(resident)
    with fake_server() as push_service:
        device = Device(push_service.base + "/send/device-1")
        created = subscribe(client, headers, device)
        assert created["endpoint"] == device.endpoint
        chosen = client.put("/api/v1/me/notifications", json={"registration_confirmed": ["push"]}, headers=headers)
        assert chosen.status_code == 200 and chosen.get_json()["registration_confirmed"] == ["push"]
        register(client, open_session.id, headers)
        assert [(row.kind, row.channel) for row in rows(db)] == [("registration_confirmed", "push")]
        assert deliver(app, db, now=datetime.now(UTC)) == 1

    [request] = push_service.to("/send/device-1")
    assert request.headers["content-encoding"] == "aes128gcm" and int(request.headers["ttl"]) == 24 * 3600
    claims, key = vapid_claims(request.headers["authorization"], audience=push_service.base)
    assert key == app.config["MAJLIS_VAPID_PUBLIC_KEY"] and claims["sub"] == "mailto:majlis@capital.example"
    assert claims["exp"] > datetime.now(UTC).timestamp()
    payload = device.decrypt(request.body)
    page = f"http://127.0.0.1:5000/sessions/{open_session.id}"
    stop = f"http://127.0.0.1:5000/stop/{stop_token(app.config['SECRET_KEY'], resident.id, 'registration_confirmed')}"
    assert payload["title"] == "Your seat is confirmed — Weekly majlis"
    headline, title, day, hijri, hours = payload["body"].split("\n")
    assert (headline, title) == ("Your seat is confirmed", "Weekly majlis")
    assert day.endswith(str(open_session.starts_at.year)) and hijri.endswith(" AH") and " – " in hours
    assert (payload["url"], payload["stop_url"], payload["stop_label"]) == (page, stop, "Stop these")
    assert (payload["lang"], payload["dir"]) == ("en", "ltr")
    [row] = rows(db)
    assert row.status == OutboxStatus.SENT and row.to_address == f"push subscriptions #{created['id']}"


@pytest.mark.parametrize("gone", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(app, client, db, make_user, api_token, open_session,
                                                                gone):
    resident = make_user()
    headers = api_token(resident)
    with fake_server() as push_service:
        kept, dropped = Device(push_service.base + "/send/phone"), Device(push_service.base + "/send/old-laptop")
        push_service.statuses["/send/old-laptop"] = gone
        subscribe(client, headers, kept)
        dropped_id = subscribe(client, headers, dropped)["id"]
        client.put("/api/v1/me/notifications", json={"registration_confirmed": ["push"]}, headers=headers)
        register(client, open_session.id, headers)
        assert deliver(app, db, now=datetime.now(UTC)) == 1
    assert len(push_service.to("/send/phone")) == 1 and len(push_service.to("/send/old-laptop")) == 1
    listed = client.get("/api/v1/me/push-subscriptions", headers=headers).get_json()["subscriptions"]
    assert [s["endpoint"] for s in listed] == [kept.endpoint]
    assert db.get(PushSubscription, dropped_id) is None
    assert kept.decrypt(push_service.to("/send/phone")[0].body)["title"] == "تم تأكيد مقعدك — المجلس الأسبوعي"


def test_when_every_subscription_is_gone_the_notice_is_skipped(app, client, db, make_user, api_token, open_session):
    resident = make_user()
    headers = api_token(resident)
    with fake_server(status=410) as push_service:
        subscribe(client, headers, Device(push_service.base + "/send/only"))
        client.put("/api/v1/me/notifications", json={"registration_confirmed": ["push"]}, headers=headers)
        register(client, open_session.id, headers)
        assert deliver(app, db, now=datetime.now(UTC)) == 0
    [row] = rows(db)
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "the recipient's push addresses are gone")
    assert db.scalar(select(PushSubscription)) is None


def test_a_push_service_that_fails_is_retried_and_the_subscription_kept(app, client, db, make_user, api_token,
                                                                        open_session):
    resident = make_user()
    headers = api_token(resident)
    with fake_server(status=503) as push_service:
        device = Device(push_service.base + "/send/phone")
        subscription_id = subscribe(client, headers, device)["id"]
        client.put("/api/v1/me/notifications", json={"registration_confirmed": ["push"]}, headers=headers)
        register(client, open_session.id, headers)
        now = datetime.now(UTC)
        assert deliver(app, db, now=now) == 0
        [row] = rows(db)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert row.last_error == f"subscription #{subscription_id}: push service answered 503"
        push_service.status = 201
        assert deliver(app, db, now=now + timedelta(minutes=1)) == 1
    assert len(push_service.received) == 2 and db.scalar(select(PushSubscription.endpoint)) == device.endpoint
    assert device.decrypt(push_service.received[-1].body)["url"].endswith(f"/sessions/{open_session.id}")


@pytest.mark.parametrize("endpoint, production, accepted", [
    ("https://fcm.googleapis.com/fcm/send/abc:def", False, True),
    ("https://fcm.googleapis.com/fcm/send/abc:def", True, True),
    ("http://127.0.0.1:8080/send/1", False, True),
    ("http://localhost:8080/send/1", False, True),
    ("http://[::1]:8080/send/1", False, True),
    ("http://127.0.0.1:8080/send/1", True, False),  # loopback only outside production
    ("https://127.0.0.1/send/1", True, False),  # and no internal address in production
    ("https://10.0.0.5/send/1", True, False),
    ("http://push.example.com/send/1", False, False),  # plain http elsewhere: never
    ("ftp://push.example.com/send/1", False, False),
    ("https://user:pw@push.example.com/send/1", False, False),
    ("https:///send/1", False, False),
    ("https://push.example.com/" + "x" * 1000, False, False),
])
def test_push_endpoints_must_be_https_except_loopback_outside_production(endpoint, production, accepted):
    if accepted:
        assert push.check_endpoint(endpoint, production=production) == endpoint
    else:
        with pytest.raises(InvalidInput) as refused:
            push.check_endpoint(endpoint, production=production)
        assert refused.value.field == "endpoint"


@pytest.mark.parametrize("keys, field", [
    ({"p256dh": b64(b"\x04" + b"\x01" * 64), "auth": b64(b"a" * 16)}, "p256dh"),  # not a point on the curve
    ({"p256dh": "not base64!", "auth": b64(b"a" * 16)}, "p256dh"),
    ({"auth": b64(b"a" * 16)}, "p256dh"),
    ({"p256dh": None, "auth": None}, "p256dh"),
    ("keys", "keys"),
    ({"p256dh": "valid", "auth": b64(b"a" * 8)}, "auth"),  # the secret is 16 bytes
])
def test_a_subscription_with_bad_keys_is_refused(client, make_user, api_token, keys, field):
    if isinstance(keys, dict) and keys.get("p256dh") == "valid":
        keys = {**keys, "p256dh": Device("x").subscription()["keys"]["p256dh"]}
    response = client.post("/api/v1/me/push-subscriptions", headers=api_token(make_user()),
                           json={"endpoint": "https://push.example.com/send/1", "keys": keys})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_subscribing_without_vapid_keys_is_503(app, client, make_user, api_token):
    app.config.update(MAJLIS_VAPID_PUBLIC_KEY=None, MAJLIS_VAPID_PRIVATE_KEY=None)
    response = client.post("/api/v1/me/push-subscriptions", headers=api_token(make_user()),
                           json=Device("https://push.example.com/send/1").subscription())
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "push_not_configured"


def test_subscriptions_are_listed_and_removed_by_their_owner_only(client, make_user, api_token):
    owner, other = api_token(make_user()), api_token(make_user())
    device = Device("https://push.example.com/send/phone")
    subscribe(client, owner, device)
    assert client.get("/api/v1/me/push-subscriptions", headers=other).get_json() == {"subscriptions": []}
    assert client.delete("/api/v1/me/push-subscriptions", json={"endpoint": device.endpoint},
                         headers=other).status_code == 204  # nothing of theirs: nothing removed
    assert len(client.get("/api/v1/me/push-subscriptions", headers=owner).get_json()["subscriptions"]) == 1
    assert client.delete("/api/v1/me/push-subscriptions", json={"endpoint": device.endpoint},
                         headers=owner).status_code == 204
    assert client.get("/api/v1/me/push-subscriptions", headers=owner).get_json() == {"subscriptions": []}


def test_the_same_browser_subscribing_again_keeps_one_subscription_for_its_latest_owner(client, db, make_user,
                                                                                       api_token):
    first, second = make_user(), make_user()
    device = Device("https://push.example.com/send/shared-tablet")
    subscribe(client, api_token(first), device)
    subscribe(client, api_token(first), device)  # a page reload subscribes again
    again = Device("https://push.example.com/send/shared-tablet")  # the next person signs in, new keys
    subscribe(client, api_token(second), again)
    [row] = db.scalars(select(PushSubscription)).all()
    assert (row.user_id, row.p256dh) == (second.id, again.subscription()["keys"]["p256dh"])


def test_vapid_keys_command_prints_a_working_pair(runner):
    result = runner.invoke(args=["vapid-keys"])
    assert result.exit_code == 0
    public_line, private_line = result.output.splitlines()
    public = public_line.removeprefix("MAJLIS_VAPID_PUBLIC_KEY=")
    private = private_line.removeprefix("MAJLIS_VAPID_PRIVATE_KEY=")
    assert public != public_line and private != private_line
    key = ec.derive_private_key(int.from_bytes(unb64(private), "big"), ec.SECP256R1())
    derived = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert unb64(public) == derived and len(derived) == 65


def test_the_service_worker_and_the_manifests_are_served(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache" and b"showNotification" in worker.data
    for lang, name in (("ar", "المجلس — محافظة العاصمة"), ("en", "The Majlis — Capital Governorate")):
        manifest = client.get(f"/manifest-{lang}.webmanifest")
        assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
        assert (manifest.get_json()["name"], manifest.get_json()["lang"]) == (name, lang)
    assert client.get("/manifest-fr.webmanifest").status_code == 404
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest-en.webmanifest">' in page
