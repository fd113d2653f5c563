"""The outbox: every notice is written here first, as a row per channel, then rendered and delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base
from majlis.enums import OutboxStatus
from majlis.models_base import enum_column, utcnow

EMAIL = "email"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_send_after", "status", "send_after"),
        # A notice that must exist once (a reminder per registration) has a key, once per channel.
        UniqueConstraint("dedupe_key", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Ids and small values only (`{"session_id": 12, "position": 3}`): the message is rendered from them when it
    # is delivered. None on rows written before migration 0004, which hold their rendered text instead.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Rows written before channels existed were e-mails.
    channel: Mapped[str] = mapped_column(String(16), default=EMAIL)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # What was sent, filled at delivery (and, on rows written before migration 0004, what is to be sent).
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)  # only on rows written before migration 0004
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
