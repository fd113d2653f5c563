"""Accounts, API bearer tokens and e-mail verification codes."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth import permissions
from majlis.db import Base
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import Role
from majlis.models_base import Timestamps, enum_column, utcnow


class User(UserMixin, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role <> 'official' OR body_id IS NOT NULL", name="official_has_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every engine.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    # Set when the user proved the number theirs with a code sent to it (majlis/notifications/phone.py): only a
    # verified number receives SMS notices. Cleared whenever the number changes.
    phone_verified_at: Mapped[datetime | None]
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.RESIDENT)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("government_bodies.id"), index=True)
    is_verified: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Rotated on logout and password change, so a copied session cookie stops working
    # (Flask-Login's "alternative tokens": get_id() returns it instead of the id).
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    last_login_at: Mapped[datetime | None]

    area: Mapped[Area | None] = relationship()
    body: Mapped[GovernmentBody | None] = relationship()

    # Read once per request (authentication) and not again inside its write (db.unit_of_work).
    majlis_kept_across_writes = True

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_disabled

    @property
    def is_staff(self) -> bool:
        return permissions.is_staff(self)

    @property
    def is_moderator(self) -> bool:
        """A member of the governor's office (the templates' name for it)."""
        return permissions.is_office(self)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    # Only a SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class EmailVerification(Base):
    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AccountThrottle(Base):
    """Failed sign-ins and verifications of one e-mail address, counted in the database so that every worker and
    host sees the same count (with or without Redis), whatever address the attempts come from."""

    __tablename__ = "account_throttles"

    # A keyed digest of the normalised e-mail: addresses that are no account's are counted too (so a refusal does
    # not tell which exist), and are not stored in clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]
