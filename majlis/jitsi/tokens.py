"""Jitsi room tokens: claims and signing for self-hosted Prosody (HS256) and 8x8 JaaS (RS256).

Pure: no Flask, no database. The rules follow what Jitsi's Prosody token plugin and JaaS enforce:
`typ` exactly "JWT", `aud` a string, integer times with `nbf` backdated against clock skew (Prosody
allows no leeway), the `context.user` fields strings, moderator only for the governor's office. Two flags are
booleans because the modules that read them compare with `true`: `lobby_bypass` (jitsi-contrib's
token_lobby_bypass) on moderators' tokens, and `visitor` (Jitsi's visitors) on view-only tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt

AUDIENCE = "jitsi"
CLOCK_SKEW = timedelta(seconds=30)
JAAS_DOMAIN = "8x8.vc"
JAAS_FEATURES = ("livestreaming", "recording", "transcription", "outbound-call")
MODERATOR, PARTICIPANT, VISITOR = "moderator", "participant", "visitor"


class JitsiNotConfigured(RuntimeError):
    """Neither the self-hosted nor the JaaS settings are complete."""


@dataclass(frozen=True)
class JitsiSettings:
    domain: str
    app_id: str | None = None
    app_secret: str | None = None
    sub: str | None = None
    jaas_app_id: str | None = None
    jaas_kid: str | None = None
    private_key: str | None = None  # PEM
    early_join: timedelta = timedelta(minutes=15)
    grace: timedelta = timedelta(minutes=30)
    # The token's `context.user` is shown to every participant and sent to 8x8: no e-mail unless asked for.
    token_email: bool = False
    visitors: bool = False  # the deployment lets view-only visitors in (overflow audiences)

    @property
    def profile(self) -> str | None:
        if self.jaas_app_id and self.jaas_kid and self.private_key:
            return "jaas"
        if self.app_id and self.app_secret:
            return "self_hosted"
        return None

    @property
    def meeting_domain(self) -> str:
        return JAAS_DOMAIN if self.profile == "jaas" else self.domain

    def room_path(self, room: str) -> str:
        """The room as the IFrame API's roomName: `<app id>/<room>` on JaaS."""
        return f"{self.jaas_app_id}/{room}" if self.profile == "jaas" else room

    def room_url(self, room: str) -> str:
        return f"https://{self.meeting_domain}/{quote(self.room_path(room))}"


@dataclass(frozen=True)
class Participant:
    id: int
    name: str
    email: str
    moderator: bool
    avatar: str | None = None
    visitor: bool = False  # view-only: never together with moderator

    @property
    def role(self) -> str:
        return MODERATOR if self.moderator else VISITOR if self.visitor else PARTICIPANT


@dataclass(frozen=True)
class RoomToken:
    jwt: str
    domain: str
    room: str
    url: str
    expires_at: datetime
    moderator: bool
    role: str = PARTICIPANT


def window(starts_at: datetime, ends_at: datetime, settings: JitsiSettings) -> tuple[datetime, datetime]:
    """When a session's tokens are valid: from the early-join lead (less the skew allowance) to end + grace."""
    return starts_at - settings.early_join - CLOCK_SKEW, ends_at + settings.grace


def claims(settings: JitsiSettings, participant: Participant, *, room: str, starts_at: datetime,
           ends_at: datetime, now: datetime, not_after: datetime | None = None) -> dict:
    """The payload for one participant and one session's room (ending at `not_after` if that comes first)."""
    profile = settings.profile
    if profile is None:
        raise JitsiNotConfigured("set JITSI_APP_ID and JITSI_APP_SECRET, or the JITSI_JAAS_* settings")
    if participant.moderator and participant.visitor:
        raise ValueError("a visitor is never a moderator")
    not_before, expires = window(starts_at, ends_at, settings)
    if not_after is not None:
        expires = min(expires, not_after)
    user = {
        "id": str(participant.id),
        "name": str(participant.name),
        "moderator": "true" if participant.moderator else "false",
    }
    if settings.token_email and participant.email:
        user["email"] = str(participant.email)
    if participant.avatar:
        user["avatar"] = str(participant.avatar)
    if participant.moderator:
        user["lobby_bypass"] = True
    if participant.visitor:
        user["visitor"] = True
    payload = {
        "aud": AUDIENCE,
        "iss": "chat" if profile == "jaas" else settings.app_id,
        "sub": settings.jaas_app_id if profile == "jaas" else (settings.sub or settings.domain),
        "room": room,
        "iat": int(now.timestamp()),
        "nbf": int(not_before.timestamp()),
        "exp": int(expires.timestamp()),
        "context": {"user": user},
    }
    if profile == "jaas":
        payload["context"]["features"] = {name: "true" if participant.moderator else "false"
                                          for name in JAAS_FEATURES}
    return payload


def sign(settings: JitsiSettings, payload: dict) -> str:
    if settings.profile == "jaas":
        return jwt.encode(payload, settings.private_key, algorithm="RS256",
                          headers={"typ": "JWT", "kid": settings.jaas_kid})
    if settings.profile == "self_hosted":
        return jwt.encode(payload, settings.app_secret, algorithm="HS256", headers={"typ": "JWT"})
    raise JitsiNotConfigured("no Jitsi token settings")


def issue(settings: JitsiSettings, participant: Participant, *, room: str, starts_at: datetime, ends_at: datetime,
          now: datetime, not_after: datetime | None = None) -> RoomToken:
    """Sign a token for one participant and one room."""
    payload = claims(settings, participant, room=room, starts_at=starts_at, ends_at=ends_at, now=now,
                     not_after=not_after)
    return RoomToken(
        jwt=sign(settings, payload),
        domain=settings.meeting_domain,
        room=settings.room_path(room),
        url=settings.room_url(room),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        moderator=participant.moderator,
        role=participant.role,
    )
