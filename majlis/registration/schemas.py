"""Registrations' JSON: request models and the one serializer of each shape."""

from typing import Any

from pydantic import Field

from majlis.enums import SeatMode
from majlis.schema_types import N_, Closed, Id, Instant, Model, described, enum_of, number, text

CHECK_IN_CODE_MAX = 20


def _iso(instant):
    return instant.isoformat() if instant is not None else None


class RegisterInput(Closed):
    mode: enum_of(SeatMode, N_("The seat pool; default online (in the hall for an in-person session)")) = None


class CheckInInput(Model):
    code: text(N_("The resident's check-in code; case, spaces and dashes do not matter"), min_length=1,
               max_length=CHECK_IN_CODE_MAX)


class Registration(Model):
    id: Id
    session_id: Id
    status: enum_of(["confirmed", "waitlisted"])
    position: number(1, description="Place in the pool's waiting line (1 = next)") | None
    mode: enum_of(SeatMode, "The seat pool: the video room's or the hall's")
    check_in_code: text("In person only: the code (and QR code) shown at the door",
                        pattern="^[A-Z0-9]{6}$") = Field(None, json_schema_extra=lambda s: s.pop("default", None))

    @staticmethod
    def dump(place) -> dict[str, Any]:
        answer = {"id": place.id, "session_id": place.session_id, "status": place.status.value,
                  "position": place.position, "mode": place.mode.value}
        if place.check_in_code is not None:
            answer["check_in_code"] = place.check_in_code
        return answer


class CheckIn(Model):
    user_id: Id
    name: str
    checked_in_at: Instant

    @staticmethod
    def dump(registration) -> dict[str, Any]:
        return {"user_id": registration.user_id, "name": registration.user.name,
                "checked_in_at": _iso(registration.checked_in_at)}


class Registrant(Model):
    user_id: Id
    name: str
    status: enum_of(["confirmed", "waitlisted"])
    position: number(1) | None
    attended: described(bool, "In the video room by the video service's events when the session has any, else a "
                              "join token obtained during the join window")
    joined_at: Instant | None
    left_at: Instant | None
    minutes_present: number(0) | None
    mode: enum_of(SeatMode)
    checked_in_at: Instant | None

    @staticmethod
    def dump(registration, position, *, attended: bool) -> dict[str, Any]:
        return {"user_id": registration.user_id, "name": registration.user.name,
                "status": registration.status.value, "position": position, "attended": attended,
                "joined_at": _iso(registration.joined_at), "left_at": _iso(registration.left_at),
                "minutes_present": registration.seconds_present // 60 if registration.joined_at else None,
                "mode": registration.mode.value, "checked_in_at": _iso(registration.checked_in_at)}


class RegistrantList(Model):
    registrations: list[Registrant]
