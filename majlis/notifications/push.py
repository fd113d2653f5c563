"""Web Push: the subscriptions browsers and the mobile app register, the VAPID keys, and the `push` channel.

Payloads are encrypted for each subscription's keys with `aes128gcm` (RFC 8188/8291) and the request is signed with
the server's VAPID key (RFC 8292), both by pywebpush. A push service that answers 404 or 410 says the subscription is
gone for good: it is deleted. The payload is a small JSON object the service worker (`static/js/sw.js`) shows.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from majlis.auth.models import User
from majlis.errors import InvalidInput, MajlisError
from majlis.notifications.channels import Outcome, Sender, channel
from majlis.notifications.models import PUSH, PushSubscription
from majlis.notifications.rendering import Message

log = logging.getLogger(__name__)

MAX_ENDPOINT = 1000
MAX_SUBSCRIPTIONS = 20  # per user: a new device beyond these replaces the oldest
TTL_SECONDS = 24 * 3600  # a push service keeps an undelivered notice a day (a phone that was off still gets it)
TIMEOUT_SECONDS = 10


class PushNotConfigured(MajlisError):
    status = 503
    code = "push_not_configured"
    default_message = _l("Notifications on this device are not available here yet.")


# --- VAPID keys -----------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_vapid_keys() -> tuple[str, str]:
    """A new P-256 key pair: the public key (the browser's applicationServerKey) and the private key, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64(public), _b64(private)


def is_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("MAJLIS_VAPID_PUBLIC_KEY") and config.get("MAJLIS_VAPID_PRIVATE_KEY"))


# --- subscriptions --------------------------------------------------------------------------------------------------


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _internal_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def check_endpoint(endpoint, *, production: bool) -> str:
    """The endpoint if Majlis may POST to it: https, or http on a loopback address outside production."""
    bad = InvalidInput(_l("A push endpoint must be an https:// address."), field="endpoint")
    if not isinstance(endpoint, str) or not endpoint.isascii() or not 10 <= len(endpoint) <= MAX_ENDPOINT:
        raise bad
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise bad from None
    if not host or parts.username or parts.password or parts.fragment or any(c.isspace() for c in endpoint):
        raise bad
    if parts.scheme == "https" and not (production and (_loopback(host) or _internal_address(host))):
        return endpoint
    if parts.scheme == "http" and not production and _loopback(host):
        return endpoint
    raise bad


def _check_keys(keys) -> tuple[str, str]:
    if not isinstance(keys, Mapping):
        raise InvalidInput(_l("Send the subscription's keys: p256dh and auth."), field="keys")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    try:
        point = _unb64(p256dh) if isinstance(p256dh, str) and len(p256dh) <= 100 else b""
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError
    except (ValueError, TypeError):
        raise InvalidInput(_l("The key p256dh is not a P-256 public key."), field="p256dh") from None
    try:
        secret = _unb64(auth) if isinstance(auth, str) and len(auth) <= 50 else b""
        if len(secret) != 16:
            raise ValueError
    except (ValueError, TypeError):
        raise InvalidInput(_l("The key auth is not a 16-byte secret."), field="auth") from None
    return _b64(point), _b64(secret)


def subscribe(db_session: Session, user: User, data, *, production: bool, configured: bool,
              now: datetime) -> PushSubscription:
    """Keep a Web Push subscription for the user (one per endpoint: the same endpoint again takes the new keys and
    owner); beyond MAX_SUBSCRIPTIONS the oldest goes."""
    if not configured:
        raise PushNotConfigured()
    if not isinstance(data, Mapping):
        raise InvalidInput(field="endpoint")
    endpoint = check_endpoint(data.get("endpoint"), production=production)
    p256dh, auth = _check_keys(data.get("keys"))
    for _attempt in range(2):
        row = db_session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        if row is not None:
            row.user_id, row.p256dh, row.auth = user.id, p256dh, auth
            db_session.flush()
            break
        try:
            with db_session.begin_nested():
                row = PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now)
                db_session.add(row)
                db_session.flush()
            break
        except IntegrityError:
            continue  # the same browser subscribed twice at once: the other request's row is there now
    kept = db_session.scalars(select(PushSubscription.id).where(PushSubscription.user_id == user.id)
                              .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())).all()
    if len(kept) > MAX_SUBSCRIPTIONS:
        db_session.execute(delete(PushSubscription).where(PushSubscription.id.in_(kept[MAX_SUBSCRIPTIONS:])))
    return row


def unsubscribe(db_session: Session, user: User, endpoint) -> bool:
    """Forget the user's subscription with this endpoint; True when there was one."""
    if not isinstance(endpoint, str):
        raise InvalidInput(field="endpoint")
    return bool(db_session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint)).rowcount)


def remove_subscription(db_session: Session, user: User, subscription_id: int) -> bool:
    """Forget one of the user's subscriptions by its id; True when there was one."""
    return bool(db_session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.id == subscription_id)).rowcount)


def subscriptions_of(db_session: Session, user: User) -> list[PushSubscription]:
    return list(db_session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                   .order_by(PushSubscription.created_at, PushSubscription.id)))


# --- the channel ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushTarget:
    id: int
    endpoint: str
    p256dh: str
    auth: str


class PushAddress(tuple):
    """A user's subscriptions at delivery; recorded as their ids (an endpoint is a capability: never written out)."""

    def __str__(self) -> str:
        return "push subscriptions " + ", ".join(f"#{target.id}" for target in self)


def payload(message: Message, lang: str | None) -> dict:
    """What the service worker shows: a title, a few short lines, where a tap leads, and how to stop these."""
    lines = [message.headline] if message.headline and message.headline != message.subject else []
    lines += [fact for fact in message.facts if not fact.startswith(("http://", "https://"))]
    data = {"title": message.subject, "body": "\n".join(lines), "url": message.link, "lang": lang,
            "dir": "rtl" if lang == "ar" else "ltr"}
    if message.stop_url:
        with force_locale(lang or "ar"):
            data.update(stop_url=message.stop_url, stop_label=_("Stop these"))
    return data


class PushSender:
    """Sends a notice to each of the user's subscriptions; forgets those the push service says are gone."""

    def __init__(self, public_key: str | None, private_key: str | None, subject: str):
        self.public_key = public_key
        self.private_key = private_key
        self.subject = subject

    def address(self, user: User) -> PushAddress | None:
        db_session = object_session(user)
        if db_session is None:
            return None
        rows = db_session.execute(select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh,
                                         PushSubscription.auth).where(PushSubscription.user_id == user.id)
                                  .order_by(PushSubscription.id)).all()
        return PushAddress(PushTarget(*row) for row in rows) or None

    def _vapid(self):
        from py_vapid import Vapid

        if not (self.public_key and self.private_key):
            raise RuntimeError("Web Push is not configured (MAJLIS_VAPID_PUBLIC_KEY, MAJLIS_VAPID_PRIVATE_KEY)")
        return Vapid.from_raw(self.private_key.encode("ascii"))

    def send(self, message: Message, to: PushAddress) -> Outcome:
        from pywebpush import WebPushException, webpush
        from requests import RequestException

        vapid = self._vapid()
        data = json.dumps(payload(message, message.lang), ensure_ascii=False).encode("utf-8")
        delivered, gone, errors = 0, [], []
        for target in to:
            try:
                webpush({"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
                        data=data, vapid_private_key=vapid, vapid_claims={"sub": self.subject},
                        content_encoding="aes128gcm", ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS)
                delivered += 1
            except WebPushException as exc:
                if exc.status_code in (404, 410):
                    gone.append(target.id)
                else:
                    errors.append(f"subscription #{target.id}: push service answered {exc.status_code}")
            except RequestException as exc:
                errors.append(f"subscription #{target.id}: {type(exc).__name__}")
        # One device that took it is a delivery: sending again would repeat it there.
        return Outcome(gone=tuple(gone), delivered=bool(delivered) or bool(errors),
                       error="; ".join(errors) if errors and not delivered else None)

    def forget(self, db_session: Session, gone) -> None:
        """Delete the subscriptions the push service no longer knows."""
        db_session.execute(delete(PushSubscription).where(PushSubscription.id.in_(list(gone))))


@channel(PUSH)
def _push(config: Mapping[str, Any]) -> Sender:
    return PushSender(config.get("MAJLIS_VAPID_PUBLIC_KEY"), config.get("MAJLIS_VAPID_PRIVATE_KEY"),
                      config.get("MAJLIS_VAPID_SUBJECT") or f"mailto:{config['MAIL_DEFAULT_SENDER']}")
