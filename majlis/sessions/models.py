"""Series (recurring schedules), their stored occurrences, and invitations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth.models import User
from majlis.db import Base
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import InvitationResponse, SeriesKind, SessionFormat, SessionStatus, Visibility
from majlis.models_base import Timestamps, enum_column, utcnow

# Minutes before each session at which registrants are reminded, unless the series sets its own: a day and an hour.
DEFAULT_REMINDER_MINUTES = (24 * 60, 60)


class Venued:
    """Where it is held: online (the video room), in person (a hall: the place), or hybrid (both, with two seat
    pools). A session has these columns, and a series has them for the occurrences it produces."""

    format: Mapped[SessionFormat] = mapped_column(enum_column(SessionFormat), default=SessionFormat.ONLINE,
                                                  server_default=SessionFormat.ONLINE.value)
    # The place of an in-person or hybrid session (null for online ones).
    place_name_ar: Mapped[str | None] = mapped_column(String(200))
    place_name_en: Mapped[str | None] = mapped_column(String(200))
    place_address: Mapped[str | None] = mapped_column(String(300))
    place_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The hall's seats (0 online); the online seats are `capacity` (0 in person only).
    in_person_capacity: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def has_place(self) -> bool:
        """Held in a hall (in person or hybrid): it has a place and a hall's seats."""
        return self.format != SessionFormat.ONLINE

    @property
    def has_room(self) -> bool:
        """Held in the video room (online or hybrid): it has online seats and a join link."""
        return self.format != SessionFormat.IN_PERSON

    @property
    def map_url(self) -> str | None:
        """The place on OpenStreetMap (a link: no map is loaded by Majlis), or None without coordinates."""
        if self.latitude is None or self.longitude is None:
            return None
        return osm_url(self.latitude, self.longitude)


def _venue_checks() -> tuple[CheckConstraint, ...]:
    """Return the venue's column checks, the same on every table that has them (see `Venued`)."""
    return (
        # The online pool; an in-person-only series or session has none (0).
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint("in_person_capacity >= 0", name="in_person_capacity_nonnegative"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
    )


class Series(Venued, Timestamps, Base):
    __tablename__ = "series"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("registration_opens_days >= 0", name="opens_days_nonnegative"),
        CheckConstraint("registration_closes_minutes >= 0", name="closes_minutes_nonnegative"),
        *_venue_checks(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SeriesKind] = mapped_column(enum_column(SeriesKind))
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # RFC 5545 RRULE, expanded in `timezone` wall time from `first_start_local`.
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    first_start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int]
    capacity: Mapped[int]
    registration_opens_days: Mapped[int] = mapped_column(default=7)
    registration_closes_minutes: Mapped[int] = mapped_column(default=60)
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.PUBLIC)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Occurrences exist as rows up to this instant (the rolling horizon).
    materialized_until: Mapped[datetime | None]
    # An edit "from a date forward" splits the series: the new one points at the old.
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Minutes before each occurrence at which registrants are reminded, e.g. [1440, 60]; None: the default
    # (DEFAULT_REMINDER_MINUTES); [] sends none. Residents may add a lead of their own (notification settings).
    reminder_minutes: Mapped[list[int] | None] = mapped_column(JSON)

    place_area: Mapped[Area | None] = relationship()


class MajlisSession(Venued, Timestamps, Base):
    __tablename__ = "majlis_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("confirmed_count >= 0", name="confirmed_nonnegative"),
        CheckConstraint("waitlist_count >= 0", name="waitlist_nonnegative"),
        CheckConstraint("in_person_confirmed_count >= 0", name="in_person_confirmed_nonnegative"),
        CheckConstraint("in_person_waitlist_count >= 0", name="in_person_waitlist_nonnegative"),
        *_venue_checks(),
        # One stored row per occurrence of a series: materialising twice creates nothing.
        UniqueConstraint("series_id", "original_starts_at", name="uq_majlis_sessions_occurrence"),
        Index("ix_majlis_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    kind: Mapped[SeriesKind] = mapped_column(enum_column(SeriesKind))
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility), default=Visibility.PUBLIC)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The occurrence's start as the rule generated it (iCalendar RECURRENCE-ID); null for one-offs.
    original_starts_at: Mapped[datetime | None]
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int]
    # Seat counter kept in the same transaction as the registrations (atomic conditional update).
    confirmed_count: Mapped[int] = mapped_column(default=0)
    waitlist_count: Mapped[int] = mapped_column(default=0)
    registration_opens_at: Mapped[datetime]
    registration_closes_at: Mapped[datetime]
    room_name: Mapped[str] = mapped_column(String(80), unique=True)
    actual_started_at: Mapped[datetime | None]
    actual_ended_at: Mapped[datetime | None]
    # iCalendar SEQUENCE: rises with every change of time or status.
    sequence: Mapped[int] = mapped_column(default=0)
    # Live-update version: rises with every change a watcher should see.
    live_version: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Overflow viewing: an https live stream (YouTube, PeerTube...) shown on the session page while the room is
    # open, and whether any signed-in resident may follow (as a Jitsi visitor or on the stream), not only the line.
    stream_url: Mapped[str | None] = mapped_column(String(500))
    public_viewing: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where it is held (format, place, `in_person_capacity`): the columns of `Venued`. The hall's seat pool is kept
    # like the online one (`capacity`, `confirmed_count`, `waitlist_count`).
    in_person_confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    in_person_waitlist_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The last change a calendar shows (DTSTAMP, LAST-MODIFIED): set by the flush hook in majlis.cache when a
    # shown column changes, not on every write (seat counters and the live version leave it alone).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[Series | None] = relationship()
    place_area: Mapped[Area | None] = relationship()

    @property
    def is_moved(self) -> bool:
        return self.original_starts_at is not None and self.original_starts_at != self.starts_at

    @property
    def seats_total(self) -> int:
        """Seats in both pools (the hall's and the online ones)."""
        return self.capacity + self.in_person_capacity

    @property
    def seats_taken(self) -> int:
        return self.confirmed_count + self.in_person_confirmed_count

    @property
    def waiting_total(self) -> int:
        return self.waitlist_count + self.in_person_waitlist_count


def osm_url(latitude: float, longitude: float) -> str:
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "(body_id IS NOT NULL AND user_id IS NULL) OR (body_id IS NULL AND user_id IS NOT NULL)",
            name="body_or_user",
        ),
        UniqueConstraint("session_id", "body_id", name="uq_invitations_session_body"),
        UniqueConstraint("session_id", "user_id", name="uq_invitations_session_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), index=True)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("government_bodies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    response: Mapped[InvitationResponse] = mapped_column(
        enum_column(InvitationResponse), default=InvitationResponse.PENDING
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]

    body: Mapped[GovernmentBody | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


def reminder_minutes_of(series: Series | None) -> list[int]:
    """The reminder leads a session of this series (or a one-off session, without one) sends."""
    if series is None or series.reminder_minutes is None:
        return list(DEFAULT_REMINDER_MINUTES)
    return list(series.reminder_minutes)
