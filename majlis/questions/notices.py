"""The notice a question's author gets when a moderator puts it on air: written in the moderation's transaction,
rendered at delivery (and skipped if the question has left the air by then)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from majlis.enums import QuestionStatus
from majlis.notifications import services as outbox
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.questions.models import Question
from majlis.registration.notices import session_message, session_of


def on_air(db_session: Session, question: Question, *, now: datetime) -> None:
    """Queue the notice that the author's question is on air."""
    author = question.author
    if author is None or author.is_disabled:
        return
    outbox.enqueue(db_session, kind="question_on_air", user=author, now=now,
                   params={"question_id": question.id, "session_id": question.session_id})


@renders("question_on_air")
def _on_air(ctx: RenderContext, params: dict) -> Message:
    question = ctx.db_session.get(Question, params["question_id"])
    if question is None or question.status != QuestionStatus.ON_AIR:
        raise Skip("the question is no longer on air")
    return session_message(ctx, session_of(ctx, params), subject=_("Your question is on air"), join=True,
                           body=_("The Governor is taking your question now. Follow the majlis live."),
                           detail=question.body)
