"""Who hears about what, and by which channel: the kinds of notice residents choose for, the defaults, a reminder
lead of their own, and the signed one-click links that stop a kind of message without signing in.

A notice's kind (what `outbox.enqueue` writes, e.g. `registration_promoted`) maps onto one of the contract's choice
kinds (`promoted`); kinds nobody chooses for (account codes, officials' work) have fixed channels.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.errors import InvalidInput
from majlis.notifications.models import CHANNELS, EMAIL, PUSH, SMS, NotificationSettings, PushSubscription

# The kinds residents choose channels for (CONTRACT.md). Append only: a stop link carries a kind's index.
CHOICE_KINDS = ("registration_confirmed", "registration_waitlisted", "promoted", "reminder", "session_changed",
                "session_cancelled", "question_on_air", "case_updated", "case_feedback")

# Each notice Majlis writes, by the choice that governs it.
CHOICE_OF = {
    "registration_confirmed": "registration_confirmed",
    "registration_waitlisted": "registration_waitlisted",
    "registration_promoted": "promoted",
    "reminder": "reminder",
    "reminder_24h": "reminder",  # queued before reminder times were set per series
    "reminder_1h": "reminder",
    "session_moved": "session_changed",
    "session_relocated": "session_changed",  # a new place, as a new time
    "session_cancelled": "session_cancelled",
    "question_on_air": "question_on_air",
    "case_opened": "case_updated",
    "case_update": "case_updated",
    "case_contact_consent": "case_updated",
    "case_feedback": "case_feedback",
}
# Notices that are not a matter of choice go by one channel: a code goes where it proves something.
FIXED_CHANNELS = {"email_verification": (EMAIL,), "phone_verification": (SMS,)}

KIND_LABELS = {
    "registration_confirmed": _l("My seat is confirmed"),
    "registration_waitlisted": _l("I am on the waiting list"),
    "promoted": _l("A seat became mine (from the waiting list)"),
    "reminder": _l("Reminders before a session"),
    "session_changed": _l("A session I registered for moves to a new time or place"),
    "session_cancelled": _l("A session I registered for is cancelled"),
    "question_on_air": _l("My question is on air"),
    "case_updated": _l("News about my follow-up cases"),
    "case_feedback": _l("\"Was it fixed?\" when a case is resolved"),
}
CHANNEL_LABELS = {EMAIL: _l("By e-mail"), PUSH: _l("By push"), SMS: _l("By SMS")}

# A resident's own reminder: at least five minutes and at most a week before the start.
OWN_REMINDER_RANGE = (5, 7 * 24 * 60)


@dataclass(frozen=True)
class Reach:
    """The channels set up for a user besides e-mail: a push subscription, a verified mobile number."""

    push: bool
    sms: bool

    def available(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if c == EMAIL or (c == PUSH and self.push) or (c == SMS and self.sms))


@functools.cache
def _settings_and_push():
    """The user's stored choices and whether they have a push subscription, in one statement."""
    user_id = bindparam("b_user")
    return select(
        select(NotificationSettings.choices).where(NotificationSettings.user_id == user_id).scalar_subquery(),
        exists().where(PushSubscription.user_id == user_id),
    )


def _read(db_session: Session, user: User) -> tuple[dict, Reach]:
    choices, has_push = db_session.execute(_settings_and_push(), {"b_user": user.id}).one()
    return dict(choices or {}), Reach(push=bool(has_push), sms=user.phone_verified_at is not None)


def reach(db_session: Session, user: User) -> Reach:
    """The channels set up for the user."""
    return _read(db_session, user)[1]


def _chosen(choices: Mapping, kind: str, user_reach: Reach) -> list[str]:
    """The channels of a choice kind: as the user set them, else every channel they have set up."""
    if kind in choices:
        return [c for c in CHANNELS if c in choices[kind]]
    return list(user_reach.available())


def choices_of(db_session: Session, user: User) -> dict[str, list[str]]:
    """Every choice kind with the channels the user picked (a channel not set up yet included), or the default."""
    choices, user_reach = _read(db_session, user)
    return {kind: _chosen(choices, kind, user_reach) for kind in CHOICE_KINDS}


def channels_for(db_session: Session, user: User, kind: str) -> tuple[str, ...]:
    """The channels a notice of this kind goes to this user by.

    The user's choice for its kind, among the channels set up; the default is every channel set up. A choice whose
    channels are all gone (a dropped push subscription) falls back to e-mail; an empty choice sends nothing.
    """
    choice_kind = CHOICE_OF.get(kind)
    if choice_kind is None:
        return FIXED_CHANNELS.get(kind, (EMAIL,))
    choices, user_reach = _read(db_session, user)
    available = user_reach.available()
    if choice_kind not in choices:
        return available
    wanted = tuple(c for c in CHANNELS if c in choices[choice_kind])
    if not wanted:
        return ()
    return tuple(c for c in wanted if c in available) or (EMAIL,)


def _settings(db_session: Session, user: User, now: datetime) -> NotificationSettings:
    """The user's settings row, made on first use (a concurrent first use finds the other's)."""
    row = db_session.get(NotificationSettings, user.id)
    if row is not None:
        return row
    try:
        with db_session.begin_nested():
            row = NotificationSettings(user_id=user.id, choices={}, updated_at=now)
            db_session.add(row)
            db_session.flush()
    except IntegrityError:
        row = db_session.get(NotificationSettings, user.id, populate_existing=True)
    return row


def set_choices(db_session: Session, user: User, data, *, now: datetime) -> dict[str, list[str]]:
    """Set the channels of the choice kinds given (the others keep theirs); an empty list sends none of that kind.

    A channel not set up yet may be chosen: it carries the notices once it is (a push subscription, a verified
    number). Raises InvalidInput for an unknown kind or channel.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(_l("Send an object of notice kinds and their channels."))
    cleaned = {}
    for kind, channels in data.items():
        if kind not in CHOICE_KINDS:
            raise InvalidInput(_l("There is no kind of notice by this name."), field=str(kind)[:64])
        if not isinstance(channels, list) or any(not isinstance(c, str) or c not in CHANNELS for c in channels):
            raise InvalidInput(_l("Choose channels among: e-mail, push, SMS."), field=kind)
        cleaned[kind] = [c for c in CHANNELS if c in channels]
    row = _settings(db_session, user, now)
    if cleaned:
        row.choices = {**(row.choices or {}), **cleaned}  # a new dict: the JSON column sees the change
        row.updated_at = now
        db_session.flush()
    return choices_of(db_session, user)


def stop_kind(db_session: Session, user: User, kind: str, *, now: datetime) -> None:
    """Send no more notices of this choice kind to the user, by any channel."""
    set_choices(db_session, user, {kind: []}, now=now)


def own_reminder(db_session: Session, user: User) -> int | None:
    """The user's own reminder lead in minutes, if they set one."""
    return db_session.scalar(select(NotificationSettings.reminder_minutes)
                             .where(NotificationSettings.user_id == user.id))


def set_own_reminder(db_session: Session, user: User, minutes, *, now: datetime) -> int | None:
    """Set (or, with None, clear) a reminder of the user's own this many minutes before each session."""
    if minutes in (None, ""):
        value = None
    else:
        try:
            value = int(minutes)
        except (TypeError, ValueError):
            value = -1
        low, high = OWN_REMINDER_RANGE
        if isinstance(minutes, bool) or not low <= value <= high:
            raise InvalidInput(_l("Choose a reminder between 5 minutes and 7 days before."), field="reminder_minutes")
    row = _settings(db_session, user, now)
    row.reminder_minutes = value
    row.updated_at = now
    db_session.flush()
    return value


def forget(db_session: Session, user: User) -> None:
    """Erase how the user was reached: choices, push subscriptions, phone codes, the verified number's mark."""
    from sqlalchemy import delete

    from majlis.notifications.models import PhoneVerification

    for model in (NotificationSettings, PushSubscription, PhoneVerification):
        db_session.execute(delete(model).where(model.user_id == user.id))
    user.phone_verified_at = None


def export(db_session: Session, user: User) -> dict:
    """What Majlis holds about how the user is reached, for their data download."""
    subscriptions = db_session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)
                                       .order_by(PushSubscription.id))
    return {"choices": choices_of(db_session, user), "own_reminder_minutes": own_reminder(db_session, user),
            "phone_verified_at": user.phone_verified_at.isoformat() if user.phone_verified_at else None,
            "push_subscriptions": [{"endpoint": s.endpoint, "created_at": s.created_at.isoformat()}
                                   for s in subscriptions]}


# --- stop links -----------------------------------------------------------------------------------------------------
# Short enough for an SMS: the user id (a varint), the kind's index and an 80-bit HMAC, in base64url (18 characters
# for the first two million users). Anyone holding the link may stop that kind of message for that user: nothing more.

_STOP_CONTEXT = b"majlis-stop:"
_MAC_BYTES = 10


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), _STOP_CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def stop_token(secret: str, user_id: int, kind: str) -> str:
    """The token of a link that stops this choice kind for this user."""
    payload = _varint(user_id) + bytes([CHOICE_KINDS.index(kind)])
    return base64.urlsafe_b64encode(payload + _mac(secret, payload)).rstrip(b"=").decode("ascii")


def read_stop_token(secret: str, token: str) -> tuple[int, str] | None:
    """The user id and choice kind a stop token names; None for anything not made by `stop_token`."""
    if not isinstance(token, str) or not 4 <= len(token) <= 40 or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(payload) < 2 or not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    user_id, shift = 0, 0
    for position, byte in enumerate(payload[:-1]):
        user_id |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if position != len(payload) - 2:
                return None
            break
    kind_index = payload[-1]
    if kind_index >= len(CHOICE_KINDS) or user_id < 1:
        return None
    return user_id, CHOICE_KINDS[kind_index]


def stop_url(config: Mapping, user_id: int, kind: str) -> str:
    """The one-click link that stops this kind of message for this user."""
    return f"{config['MAJLIS_BASE_URL']}/stop/{stop_token(config['SECRET_KEY'], user_id, kind)}"
