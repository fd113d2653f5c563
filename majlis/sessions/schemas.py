"""The schedule's JSON: series and sessions, their limits, request models and the one serializer of each.

The limits are the services' (sessions/services.py imports them): change one here and the validation, its error
message and the OpenAPI document change together.
"""


from typing import Any

from pydantic import ConfigDict

from majlis.enums import SeatMode, SeriesKind, SessionFormat, SessionStatus, Visibility
from majlis.schema_types import (
    N_,
    Closed,
    Count,
    Day,
    Id,
    InputInstant,
    Instant,
    Latitude,
    LocalMinute,
    Longitude,
    Model,
    array_of,
    described,
    enum_of,
    number,
    text,
)
from majlis.sessions.models import reminder_minutes_of

# --- limits -------------------------------------------------------------------------------------------------------
TITLE_MIN, TITLE_MAX = 2, 200  # after collapsing white space
TEXT_MAX = 4000  # descriptions
RRULE_MAX = 500
DURATION_MAX = 24 * 60  # minutes
CAPACITY_MAX = 100_000
OPENS_DAYS_MAX = 365
CLOSES_MINUTES_MAX = 7 * 24 * 60
STREAM_URL_MAX = 500
ADDRESS_MAX = 300
REASON_MIN, REASON_MAX = 3, 500  # a cancellation's reason
# Reminders a series may set: up to five, from 5 minutes to 7 days before each session.
MAX_REMINDERS = 5
REMINDER_RANGE = (5, 7 * 24 * 60)

Title = text(N_("2 to 200 characters after collapsing white space"), min_length=TITLE_MIN, max_length=TITLE_MAX)
LongText = text(N_("At most 4000 characters"), max_length=TEXT_MAX)
Capacity = number(1, CAPACITY_MAX)
Duration = number(1, DURATION_MAX)
StreamUrl = text(N_("An https address of the live stream (YouTube, PeerTube or another player); null for none"),
                 max_length=STREAM_URL_MAX, fmt="uri", pattern=r"^https://")


# --- requests -----------------------------------------------------------------------------------------------------


class SessionPlaceInput(Closed):
    """Required for in-person and hybrid sessions; none for online ones."""

    model_config = ConfigDict(frozen=True, extra="forbid",
                              json_schema_extra={"description": N_("Required for in-person and hybrid sessions; "
                                                                   "none for online ones")})
    name_ar: Title
    name_en: Title
    address: text(max_length=ADDRESS_MAX) | None = None
    area_id: Id | None = None
    lat: Latitude | None = None
    lon: described(Longitude, N_("Latitude and longitude come together, or neither")) | None = None


class _Venue(Model):
    """Where a session (or each session of a series) is held: the same fields and rule for both."""

    format: enum_of(SessionFormat, N_("Default online")) = None
    place: SessionPlaceInput | None = None
    in_person_capacity: number(1, CAPACITY_MAX, N_("The hall's seats: required for in-person and hybrid "
                                                   "sessions")) = None


class SeriesInput(_Venue):
    kind: enum_of(SeriesKind)
    title_ar: Title
    title_en: Title
    description_ar: LongText = None
    description_en: LongText = None
    rrule: text(N_("An RFC 5545 RRULE with FREQ=DAILY, WEEKLY, MONTHLY or YEARLY, e.g. FREQ=WEEKLY;BYDAY=TU"),
                min_length=1, max_length=RRULE_MAX)
    first_start: LocalMinute
    duration_minutes: Duration
    capacity: number(1, CAPACITY_MAX, N_("The online seats: required unless the series is in person only")) = None
    registration_opens_days: number(0, OPENS_DAYS_MAX, N_("Days before each start; default 7")) = None
    registration_closes_minutes: number(0, CLOSES_MINUTES_MAX, N_("Minutes before each start; default 60")) = None
    visibility: enum_of(Visibility, N_("Default public")) = None
    reminder_minutes: array_of({"type": "integer", "minimum": REMINDER_RANGE[0], "maximum": REMINDER_RANGE[1]},
                               N_("Minutes before each session at which registrants are reminded; default [1440, "
                                  "60] (a day and an hour); [] for none"),
                               maxItems=MAX_REMINDERS, uniqueItems=True) = None


class SessionInput(_Venue):
    title_ar: Title
    title_en: Title
    description_ar: LongText = None
    description_en: LongText = None
    kind: enum_of(SeriesKind, N_("Default special")) = None
    starts_at: InputInstant
    duration_minutes: Duration
    capacity: number(1, CAPACITY_MAX, N_("The online seats: required unless the session is in person only")) = None
    visibility: enum_of(Visibility, N_("Default public")) = None
    registration_opens_at: described(InputInstant, N_("Default: 7 days before the start")) | None = None
    registration_closes_at: described(InputInstant, N_("Default: 1 hour before the start")) | None = None
    stream_url: StreamUrl | None = None
    public_viewing: described(bool, N_("Any signed-in resident may follow, not only the waiting line")) = False


class SessionPatch(_Venue):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"minProperties": 1})
    kind: enum_of(SeriesKind) = None
    starts_at: described(InputInstant, N_("Moving keeps the length and the registration window's offsets unless "
                                          "those are given too")) = None
    ends_at: InputInstant = None
    capacity: Capacity = None
    registration_opens_at: InputInstant = None
    registration_closes_at: InputInstant = None
    stream_url: StreamUrl | None = None
    public_viewing: bool = None


class CancelInput(Model):
    reason: text(N_("3 to 500 characters residents will see"), min_length=REASON_MIN, max_length=REASON_MAX)


# --- responses, each with its one serializer ----------------------------------------------------------------------


def _iso(instant):
    return instant.isoformat() if instant is not None else None


class Place(Model):
    """Where an in-person or hybrid session (or series) is held."""

    name_ar: str
    name_en: str
    address: str | None
    area_id: Id | None
    lat: Latitude | None
    lon: Longitude | None
    map_url: text("The place on OpenStreetMap (a link; no map is loaded)", fmt="uri") | None

    @staticmethod
    def dump(row) -> dict[str, Any] | None:
        """A session's or series' place, with its OpenStreetMap link; None for an online one."""
        if row.place_name_ar is None:
            return None
        return {"name_ar": row.place_name_ar, "name_en": row.place_name_en, "address": row.place_address,
                "area_id": row.place_area_id, "lat": row.latitude, "lon": row.longitude, "map_url": row.map_url}


class Series(Model):
    id: Id
    kind: enum_of(SeriesKind)
    title_ar: str
    title_en: str
    description_ar: str
    description_en: str
    rrule: str
    timezone: described(str, "IANA zone the rule runs in")
    first_start: LocalMinute
    duration_minutes: number(1)
    capacity: number(0, description="The online seats of each session (0: in person only)")
    registration_opens_days: Count
    registration_closes_minutes: Count
    visibility: enum_of(Visibility)
    ends_on: Day | None
    previous_id: Id | None
    reminder_minutes: array_of({"type": "integer", "minimum": 1},
                               "Minutes before each session at which registrants are reminded")
    format: enum_of(SessionFormat, "Where each session is held: online (the video room), in person (a hall), or "
                                   "hybrid (both)")
    place: Place | None
    in_person_capacity: number(0, description="The hall's seats of each session (0: online only)")

    @staticmethod
    def dump(series) -> dict[str, Any]:
        return {
            "id": series.id,
            "kind": series.kind.value,
            "title_ar": series.title_ar,
            "title_en": series.title_en,
            "description_ar": series.description_ar,
            "description_en": series.description_en,
            "rrule": series.rrule,
            "timezone": series.timezone,
            "first_start": series.first_start_local.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": series.duration_minutes,
            "capacity": series.capacity,
            "registration_opens_days": series.registration_opens_days,
            "registration_closes_minutes": series.registration_closes_minutes,
            "visibility": series.visibility.value,
            "ends_on": series.ends_on.isoformat() if series.ends_on else None,
            "previous_id": series.previous_id,
            "reminder_minutes": reminder_minutes_of(series),
            "format": series.format.value,
            "place": Place.dump(series),
            "in_person_capacity": series.in_person_capacity,
        }


class Session(Model):
    id: Id
    series_id: Id | None
    kind: enum_of(SeriesKind)
    title_ar: str
    title_en: str
    description_ar: str
    description_en: str
    visibility: enum_of(Visibility)
    starts_at: Instant
    ends_at: Instant
    original_starts_at: Instant | None
    status: enum_of(SessionStatus)
    cancel_reason: str | None
    capacity: number(0, description="The online pool's seats (0: in person only)")
    confirmed_count: Count
    waitlist_count: Count
    registration_opens_at: Instant
    registration_closes_at: Instant
    stream_url: text("The live stream (https) residents without a seat watch", fmt="uri") | None
    public_viewing: described(bool, "Any signed-in resident may follow")
    format: enum_of(SessionFormat, "Online (the video room), in person (a hall), or hybrid (both)")
    place: Place | None
    in_person_capacity: number(0, description="The hall's seats (0: online only)")
    in_person_confirmed_count: Count
    in_person_waitlist_count: Count

    @staticmethod
    def dump(row) -> dict[str, Any]:
        return {
            "id": row.id,
            "series_id": row.series_id,
            "kind": row.kind.value,
            "title_ar": row.title_ar,
            "title_en": row.title_en,
            "description_ar": row.description_ar,
            "description_en": row.description_en,
            "visibility": row.visibility.value,
            "starts_at": _iso(row.starts_at),
            "ends_at": _iso(row.ends_at),
            "original_starts_at": _iso(row.original_starts_at),
            "status": row.status.value,
            "cancel_reason": row.cancel_reason,
            "capacity": row.capacity,
            "confirmed_count": row.confirmed_count,
            "waitlist_count": row.waitlist_count,
            "registration_opens_at": _iso(row.registration_opens_at),
            "registration_closes_at": _iso(row.registration_closes_at),
            "stream_url": row.stream_url,
            "public_viewing": row.public_viewing,
            "format": row.format.value,
            "place": Place.dump(row),
            "in_person_capacity": row.in_person_capacity,
            "in_person_confirmed_count": row.in_person_confirmed_count,
            "in_person_waitlist_count": row.in_person_waitlist_count,
        }


class SeriesList(Model):
    series: list[Series]


class SessionList(Model):
    sessions: list[Session]


__all__ = ["SeatMode"]  # re-exported for registration's models
