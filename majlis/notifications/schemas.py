"""Notification channels' JSON: request models and the one serializer of each shape."""

from typing import Any

from pydantic import ConfigDict, create_model

from majlis.notifications.models import CHANNELS
from majlis.notifications.preferences import CHOICE_KINDS
from majlis.notifications.push import MAX_ENDPOINT
from majlis.schema_types import N_, Id, Instant, Model, described, number, schema, text

P256DH_MAX, AUTH_MAX = 100, 50
PHONE_MAX, CODE_MAX = 32, 64

_CHANNELS = {"type": "array", "items": {"type": "string", "enum": list(CHANNELS)}, "uniqueItems": True}
# In a request a channel named twice counts once.
_CHOSEN = {"type": "array", "items": {"type": "string", "enum": list(CHANNELS)}}

# Each kind of notice with the channels it goes by: every kind in an answer, any of them in a request.
NotificationChoices = create_model(
    "NotificationChoices", __base__=Model,
    **{kind: (schema(_CHANNELS, list), ...) for kind in CHOICE_KINDS})
NotificationChoices.__doc__ = "Each kind of notice with the channels it goes by; [] sends none of that kind"
ChoicesInput = create_model(
    "ChoicesInput", __config__=ConfigDict(frozen=True, extra="forbid"),
    **{kind: (schema(_CHOSEN, list), None) for kind in CHOICE_KINDS})


class PushKeys(Model):
    p256dh: text(N_("The P-256 public key, base64url"), max_length=P256DH_MAX)
    auth: text(N_("The 16-byte authentication secret, base64url"), max_length=AUTH_MAX)


class SubscriptionInput(Model):
    endpoint: text(N_("The push service's URL for this subscription"), fmt="uri", max_length=MAX_ENDPOINT)
    keys: PushKeys
    expirationTime: number(0) | None = None  # noqa: N815 - the Push API's name


class EndpointInput(Model):
    """Removing an endpoint that is not subscribed (however long) changes nothing and answers 204."""

    endpoint: str


class PhoneInput(Model):
    phone: text(N_("E.164, e.g. +97333123456 (spaces and dashes are ignored)"), max_length=PHONE_MAX)


class PhoneCodeInput(Model):
    code: text(N_("The 6-digit code"), max_length=CODE_MAX)


class PushSubscription(Model):
    id: Id
    endpoint: text(fmt="uri")
    created_at: Instant

    @staticmethod
    def dump(subscription) -> dict[str, Any]:
        return {"id": subscription.id, "endpoint": subscription.endpoint,
                "created_at": subscription.created_at.isoformat()}


class PushSubscriptionList(Model):
    subscriptions: list[PushSubscription]


class PhoneCodeSent(Model):
    phone: described(str, "The number as stored (E.164)")
    expires_in: number(1, description="Seconds the code stays valid")
