"""Follow-up cases: a resident's request carried to a government body until resolved."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth.models import User
from majlis.core.models import GovernmentBody
from majlis.db import Base
from majlis.enums import CaseStatus
from majlis.models_base import Timestamps, enum_column, utcnow
from majlis.questions.models import Question


class Case(Timestamps, Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_body_status", "body_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A question becomes at most one case.
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("government_bodies.id"))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    due_on: Mapped[date] = mapped_column(Date)
    reference_number: Mapped[str | None] = mapped_column(String(64))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    declined_reason: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int] = mapped_column(default=0)
    overdue_flagged_at: Mapped[datetime | None]

    body: Mapped[GovernmentBody] = relationship()
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    question: Mapped[Question] = relationship()


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
