"""Moderators' notes, the minutes of a session and their immutable published revisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base
from majlis.enums import MinutesStatus
from majlis.models_base import Timestamps, enum_column, utcnow


class SessionNote(Timestamps, Base):
    """The moderators' running notes for one session (autosaved from the console)."""

    __tablename__ = "session_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Minutes(Timestamps, Base):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Compiled once per session: the unique key makes the compile job idempotent.
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(enum_column(MinutesStatus), default=MinutesStatus.DRAFT)
    body: Mapped[str] = mapped_column(Text, default="")
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Seconds between the session's end and the compiled draft (scheduler lag).
    compile_lag_seconds: Mapped[float | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MinutesRevision(Base):
    """A published text of the minutes; never updated, corrections add a revision."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("minutes_id", "number", name="uq_minutes_revisions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
