"""A resident's seat (or place in the waiting line) for one session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth.models import User
from majlis.db import Base
from majlis.enums import RegistrationStatus, SeatMode
from majlis.models_base import Timestamps, enum_column


class Registration(Timestamps, Base):
    __tablename__ = "registrations"
    __table_args__ = (
        # One registration per resident and session; re-registering reuses the row.
        UniqueConstraint("session_id", "user_id", name="uq_registrations_session_user"),
        Index("ix_registrations_line", "session_id", "status", "queued_at", "id"),
        # The back of the line (max(queued_at) of a session) in one index step, however long the line.
        Index("ix_registrations_arrival", "session_id", "queued_at"),
        # The code read at the door names one registration of the session.
        UniqueConstraint("session_id", "check_in_code", name="uq_registrations_session_check_in_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus))
    # Arrival time in the line; the waiting list is ordered by (queued_at, id).
    queued_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # The first join token obtained during the join window (kept as the evidence of attendance for sessions
    # whose room sends no events); see registration.services.attendance for what "attended" means.
    attended_at: Mapped[datetime | None]
    # From the video service's events: first join, last leave, and the time spent in the room (joins on two
    # devices at once counted once).
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    seconds_present: Mapped[int] = mapped_column(default=0, server_default="0")
    # The seat pool: the video room's, or the hall's (in-person and hybrid sessions), each with its own line.
    mode: Mapped[SeatMode] = mapped_column(enum_column(SeatMode), default=SeatMode.ONLINE,
                                           server_default=SeatMode.ONLINE.value)
    # In person: the short code shown at the door (and its QR code), and when staff checked the resident in.
    check_in_code: Mapped[str | None] = mapped_column(String(12))
    checked_in_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
