"""The outbox (every notice is written here first, as a row per channel, then rendered and delivered) and what
decides the channels: the resident's choices, their Web Push subscriptions and their phone verification codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base
from majlis.enums import OutboxStatus
from majlis.models_base import enum_column, utcnow

EMAIL = "email"
PUSH = "push"
SMS = "sms"
CHANNELS = (EMAIL, PUSH, SMS)


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
    # The scheduler sending it now (host:pid), cleared with its outcome. A new leader gives back the claims of one
    # that died mid-send (killed, its host lost), instead of waiting for them to lapse.
    claimed_by: Mapped[str | None] = mapped_column(String(120))


class NotificationSettings(Base):
    """A user's choices: the channels of each kind of notice they set, and a reminder lead time of their own."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # {"reminder": ["email", "sms"], "case_updated": []}: only the kinds the user set; the others take the default.
    choices: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # Minutes before each session registered for, besides the series' own reminders; None: none of their own.
    reminder_minutes: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A browser's (or the mobile app's) Web Push subscription: where to POST, and the keys to encrypt for."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A capability URL of the push service: one subscription per endpoint, whoever subscribed it last.
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # the user agent's P-256 public key, base64url
    auth: Mapped[str] = mapped_column(String(50))  # the 16-byte authentication secret, base64url
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneVerification(Base):
    """A 6-digit code sent by SMS to a number the user wants to receive messages on."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
