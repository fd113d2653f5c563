"""The video room's JSON: a join token, and the receipt of the video service's events."""

from typing import Annotated, Any

from pydantic import Field

from majlis.schema_types import Instant, Model, described, enum_of, text


class RoomToken(Model):
    jwt: described(str, "The signed Jitsi token")
    domain: str
    room: text(pattern=r"^[a-z0-9-]+$")
    url: text(fmt="uri")
    expires_at: Instant
    moderator: bool
    role: enum_of(["moderator", "participant", "visitor"], "A visitor's token is view-only")

    @staticmethod
    def dump(token) -> dict[str, Any]:
        return {"jwt": token.jwt, "domain": token.domain, "room": token.room, "url": token.url,
                "expires_at": token.expires_at.isoformat(), "moderator": token.moderator, "role": token.role}


class EventReceipt(Model):
    status: enum_of(["recorded", "duplicate", "ignored"], "duplicate: this event was received before and changed "
                    "nothing; ignored: no session has this room")


class JaasEvent(Model):
    idempotencyKey: str = None  # noqa: N815 - JaaS's names
    eventType: str = None  # noqa: N815
    timestamp: Annotated[int, Field(ge=0)] = None
    fqn: str = None
    data: dict = None
    event_name: str = None


class EventSync(Model):
    event_name: str = None
    room_name: str = None
    occupant: dict = None
