"""The video service's events as Majlis reads them: JaaS webhooks (signed) and Prosody event-sync posts (pure).

JaaS (developer.8x8.com/jaas/docs/webhooks-payload, -signatures): `{idempotencyKey, customerId, appId, eventType,
sessionId, timestamp (ms), fqn: "<AppID>/<room>", data}`, signed in `X-Jaas-Signature: t=<unix s>,v1=<base64
HMAC-SHA256 of "<t>.<raw body>">` with the endpoint's secret. Participant events carry the token's
`context.user` (`id`, `name`, ...), `participantId`/`participantJid` and, for visitors, `role: "visitor"`; uploads
carry `data.preAuthenticatedLink`, a download link valid 24 hours.

Prosody (jitsi-contrib `event_sync`): `{event_name: "muc-occupant-joined" | "muc-occupant-left" | "muc-room-created"
| "muc-room-destroyed", room_name, room_jid, occupant: {occupant_jid, joined_at, left_at, id, name, email}, created_at,
destroyed_at}` with times in seconds; no key of its own, so a digest of the body makes a replay recognisable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

JOINED, LEFT = "PARTICIPANT_JOINED", "PARTICIPANT_LEFT"
JOINED_LOBBY = "PARTICIPANT_JOINED_LOBBY"
ROOM_CREATED, ROOM_DESTROYED = "ROOM_CREATED", "ROOM_DESTROYED"
RECORDING, TRANSCRIPTION, CHAT = "RECORDING_UPLOADED", "TRANSCRIPTION_UPLOADED", "CHAT_UPLOADED"
UPLOADS = {RECORDING: "recording", TRANSCRIPTION: "transcript", CHAT: "chat"}
SIGNATURE_TOLERANCE = timedelta(minutes=5)
_EVENT_SYNC_KINDS = {"muc-occupant-joined": JOINED, "muc-occupant-left": LEFT, "muc-room-created": ROOM_CREATED,
                     "muc-room-destroyed": ROOM_DESTROYED}


class SignatureError(ValueError):
    """The JaaS signature is missing, malformed, wrong or too old (its text says which, never the secret)."""


class BadEvent(ValueError):
    """A body that is not an event of the expected shape."""


@dataclass(frozen=True)
class VideoEvent:
    key: str  # what makes a replay recognisable
    source: str  # "jaas" or "prosody"
    kind: str  # JaaS's event names, for both sources
    room: str | None  # the bare room name (the token's `room`)
    occurred_at: datetime
    user_id: int | None = None  # the token's context.user.id, when it is one of Majlis's user ids
    participant: str | None = None  # the participant's id in the room (counts those without a user id)
    is_visitor: bool = False
    link: str | None = None  # an upload's pre-authenticated download link


def verify_jaas_signature(header: str | None, body: bytes, secret: str | None, *, now: datetime) -> None:
    """Raise SignatureError unless `header` signs `body` with `secret` within five minutes of `now`."""
    if not secret:
        raise SignatureError("no JITSI_WEBHOOK_SECRET is configured")
    if not header:
        raise SignatureError("no X-Jaas-Signature header")
    timestamp, signatures = None, []
    for element in header.split(","):
        prefix, _, value = element.strip().partition("=")
        if prefix == "t":
            timestamp = value
        elif prefix == "v1":  # other schemes are ignored (no downgrade)
            signatures.append(value)
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() or not signatures:
        raise SignatureError("malformed X-Jaas-Signature header")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC) if len(timestamp) < 12 else None
    if signed_at is None or abs(now - signed_at) > SIGNATURE_TOLERANCE:
        raise SignatureError("the signature's timestamp is more than five minutes away")
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                         hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures):
        raise SignatureError("the signature does not match")


def _text(value, limit: int = 200) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:limit]
    return None


def _user_id(value) -> int | None:
    text = _text(value)
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= 2**31 - 1 else None


def _is_visitor(data: dict) -> bool:
    flag = data.get("visitor")
    return data.get("role") == "visitor" or flag is True or flag == "true"


def parse_jaas(payload) -> VideoEvent:
    """Read a JaaS webhook body."""
    if not isinstance(payload, dict):
        raise BadEvent("not a JSON object")
    key, kind = _text(payload.get("idempotencyKey"), 128), _text(payload.get("eventType"), 40)
    timestamp = payload.get("timestamp")
    if key is None or kind is None or isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise BadEvent("idempotencyKey, eventType and timestamp are required")
    try:
        occurred_at = datetime.fromtimestamp(timestamp / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadEvent("timestamp out of range") from None
    fqn = _text(payload.get("fqn"), 300)
    room = fqn.rsplit("/", 1)[-1].lower() if fqn else None
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    link = _text(data.get("preAuthenticatedLink"), 4000) if kind in UPLOADS else None
    return VideoEvent(key=key, source="jaas", kind=kind, room=room, occurred_at=occurred_at,
                      user_id=_user_id(data.get("id")),
                      participant=_text(data.get("participantId")) or _text(data.get("participantJid"))
                      or _text(data.get("id")),
                      is_visitor=_is_visitor(data), link=link)


def parse_event_sync(payload, body: bytes) -> VideoEvent:
    """Read a Prosody event-sync body."""
    if not isinstance(payload, dict):
        raise BadEvent("not a JSON object")
    kind = _EVENT_SYNC_KINDS.get(payload.get("event_name"))
    if kind is None:
        raise BadEvent("unknown event_name")
    occupant = payload.get("occupant") if isinstance(payload.get("occupant"), dict) else {}
    seconds = {JOINED: occupant.get("joined_at"), LEFT: occupant.get("left_at"),
               ROOM_CREATED: payload.get("created_at"), ROOM_DESTROYED: payload.get("destroyed_at")}[kind]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise BadEvent("the event's time is missing")
    try:
        occurred_at = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadEvent("time out of range") from None
    room = _text(payload.get("room_name"), 300)
    user_info = occupant.get("user_info") if isinstance(occupant.get("user_info"), dict) else {}
    return VideoEvent(key="prosody:" + hashlib.sha256(body).hexdigest(), source="prosody", kind=kind,
                      room=room.lower() if room else None, occurred_at=occurred_at,
                      user_id=_user_id(occupant.get("id")), participant=_text(occupant.get("occupant_jid")),
                      is_visitor=_is_visitor(occupant) or _is_visitor(user_info))
