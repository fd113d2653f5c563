"""Follow-up cases: a resident's need, from any channel, carried to a government body until it is resolved."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth.models import User
from majlis.db import Base
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import CaseChannel, CaseStatus, FeedbackOutcome
from majlis.models_base import Timestamps, enum_column, utcnow
from majlis.questions.models import Question


class CaseCategory(Timestamps, Base):
    """A kind of need a body answers for (street lighting, a water leak), with its days to resolve."""

    __tablename__ = "case_categories"
    __table_args__ = (CheckConstraint("days_to_resolve > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public identifier: the Open311 service_code and the API's `category`.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("government_bodies.id"), index=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    days_to_resolve: Mapped[int] = mapped_column(default=30)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Cases of a sensitive category (social aid, say) count in the dashboard but are left out of open data.
    is_published: Mapped[bool] = mapped_column(default=True)

    body: Mapped[GovernmentBody] = relationship()


class Case(Timestamps, Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_body_status", "body_id", "status"),
        Index("ix_cases_opened_at", "opened_at"),
        Index("ix_cases_resolved_at", "resolved_at"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[CaseChannel] = mapped_column(enum_column(CaseChannel), default=CaseChannel.MAJLIS)
    # A majlis question becomes at most one case; cases from other channels have none.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), unique=True)
    # The majlis or field visit where it was raised.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("majlis_sessions.id"), index=True)
    # The resident it is followed for; None when only contact details were given (a phone call) or nobody (a
    # field visit's observation).
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Given by phone, social media or e-mail: seen by the office and the body, never published.
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    body_id: Mapped[int] = mapped_column(ForeignKey("government_bodies.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_categories.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    place_address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The resident agreed that the place (not only the area) may be published.
    place_is_public: Mapped[bool] = mapped_column(default=False)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    due_on: Mapped[date] = mapped_column(Date)
    reference_number: Mapped[str | None] = mapped_column(String(64))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it reached a government body: at once when the office opens it, at triage for a resident's request (None
    # while it waits, or when the office declined it there). Only such cases count in the body's figures.
    assigned_at: Mapped[datetime | None]
    # When it was last closed (resolved, confirmed or declined); cleared when it is reopened.
    resolved_at: Mapped[datetime | None]
    declined_reason: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int] = mapped_column(default=0)
    overdue_flagged_at: Mapped[datetime | None]
    # When "was it fixed?" was sent for the current resolution; cleared when it is reopened.
    feedback_requested_at: Mapped[datetime | None]
    # Raised by an anonymous question: the body sees "a resident" (no name, no way to reach them) until the resident
    # agrees that it may contact them (`contact_consent`: None unanswered, False declined); the office relays.
    is_anonymous: Mapped[bool] = mapped_column(default=False)
    contact_consent: Mapped[bool | None]
    contact_consent_at: Mapped[datetime | None]

    body: Mapped[GovernmentBody] = relationship()
    category: Mapped[CaseCategory | None] = relationship()
    area: Mapped[Area | None] = relationship()
    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])
    question: Mapped[Question | None] = relationship()

    @property
    def round(self) -> int:
        """Which resolution this is (0 for the first): each one can be answered "was it fixed?" once."""
        return self.reopened_count


class CaseUpdate(Base):
    __tablename__ = "case_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    old_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus, name="casestatus_old"))
    new_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus, name="casestatus_new"))
    # A hand-over to another body records both ends.
    from_body_id: Mapped[int | None] = mapped_column(ForeignKey("government_bodies.id"))
    to_body_id: Mapped[int | None] = mapped_column(ForeignKey("government_bodies.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


class CaseFeedback(Base):
    """The resident's "was it fixed?" for one resolution of a case."""

    __tablename__ = "case_feedback"
    __table_args__ = (
        UniqueConstraint("case_id", "round"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_case_feedback_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[FeedbackOutcome] = mapped_column(enum_column(FeedbackOutcome))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
