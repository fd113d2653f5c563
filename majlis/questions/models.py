"""Residents' questions to a session and their votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from majlis.auth.models import User
from majlis.db import Base
from majlis.enums import QuestionStatus
from majlis.models_base import Timestamps, enum_column, utcnow


class Question(Timestamps, Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("votes_count >= 0", name="votes_nonnegative"),
        Index("ix_questions_session_status", "session_id", "status"),
        # Only one question on air per session, enforced by the database itself.
        Index(
            "uq_questions_one_on_air",
            "session_id",
            unique=True,
            sqlite_where=text("status = 'on_air'"),
            postgresql_where=text("status = 'on_air'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # Normalised Arabic/English text for duplicate hints and search.
    normalized_body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(64))
    is_anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[QuestionStatus] = mapped_column(enum_column(QuestionStatus), default=QuestionStatus.PENDING)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    answer_note: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    votes_count: Mapped[int] = mapped_column(default=0)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    on_air_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("question_id", "user_id", name="uq_votes_question_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
