"""What the video service told Majlis: one row per event received (its key makes a replay change nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base


class RoomEvent(Base):
    __tablename__ = "room_events"
    __table_args__ = (
        # A participant's joins and leaves in one session, read back to work out their time in the room.
        Index("ix_room_events_session_participant", "session_id", "participant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # JaaS's idempotencyKey; for Prosody's event-sync posts (which carry none) a digest of the body.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # "jaas" or "prosody"
    kind: Mapped[str] = mapped_column(String(40))  # PARTICIPANT_JOINED, ... (JaaS's names for both sources)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"))
    # The token's context.user.id when it is one of ours; the participant key otherwise counts visitors and guests.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    participant: Mapped[str | None] = mapped_column(String(200))
    is_visitor: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
