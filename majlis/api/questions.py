"""/api/v1 questions: ask, vote, moderate."""

from __future__ import annotations

from flask import jsonify, request

from majlis.api import api_user, api_viewer, bp, conditional, json_body
from majlis.db import get_db, unit_of_work
from majlis.extensions import rate_limit
from majlis.questions import services
from majlis.questions.models import Question
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow

ASK_LIMIT = "10 per minute; 60 per hour"


def question_to_dict(question: Question, viewer) -> dict:
    """A question as a viewer may see it: anonymous authors hidden from all but moderators and themselves."""
    reveal = not question.is_anonymous or services.is_moderator(viewer) or \
        (viewer is not None and viewer.id == question.author_id)
    own_or_moderator = services.is_moderator(viewer) or (viewer is not None and viewer.id == question.author_id)
    return {
        "id": question.id,
        "session_id": question.session_id,
        "body": question.body,
        "status": question.status.value,
        "votes": question.votes_count,
        "author": {"id": question.author_id, "name": question.author.name} if reveal else None,
        "anonymous": question.is_anonymous,
        "category": question.category,
        "created_at": question.created_at.isoformat(),
        "answer_note": question.answer_note,
        "merged_into": question.merged_into_id,
        "reject_reason": question.reject_reason if own_or_moderator else None,
    }


def _user_key() -> str:
    from flask import g

    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


@bp.get("/sessions/<int:session_id>/questions")
def list_questions(session_id: int):
    viewer = api_viewer()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    questions = services.visible_questions(db_session, majlis_session, viewer)
    return conditional(jsonify({"version": majlis_session.live_version,
                                "questions": [question_to_dict(q, viewer) for q in questions]}))


@bp.post("/sessions/<int:session_id>/questions")
@rate_limit(ASK_LIMIT, key_func=_user_key)
def ask(session_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, author)
        question = services.ask(db_session, majlis_session, author, body=data.get("body"),
                                anonymous=data.get("anonymous", False), category=data.get("category"), now=utcnow())
    return jsonify(question_to_dict(question, author)), 201


@bp.patch("/questions/<int:question_id>")
def edit_question(question_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        question = services.edit(db_session, services.get_question(db_session, question_id, author), author,
                                 body=data.get("body"), now=utcnow())
    return jsonify(question_to_dict(question, author))


@bp.delete("/questions/<int:question_id>")
def withdraw_question(question_id: int):
    author = api_user()
    with unit_of_work() as db_session:
        services.withdraw(db_session, services.get_question(db_session, question_id, author), author, now=utcnow())
    return "", 204


@bp.post("/questions/<int:question_id>/vote")
def vote(question_id: int):
    voter = api_user()
    with unit_of_work() as db_session:
        votes = services.vote(db_session, services.get_question(db_session, question_id, voter), voter, now=utcnow())
    return jsonify({"votes": votes})


@bp.delete("/questions/<int:question_id>/vote")
def unvote(question_id: int):
    voter = api_user()
    with unit_of_work() as db_session:
        votes = services.unvote(db_session, services.get_question(db_session, question_id, voter), voter, now=utcnow())
    return jsonify({"votes": votes})


@bp.post("/questions/<int:question_id>/moderation")
def moderate(question_id: int):
    moderator = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        services.get_question(db_session, question_id, moderator)
        question = services.lock_question(db_session, question_id)
        services.moderate(db_session, question, moderator, action=data.get("action"), into=data.get("into"),
                          note=data.get("note"), now=utcnow())
    return jsonify(question_to_dict(question, moderator))
