"""/api/v1 questions: ask, vote, moderate."""

from __future__ import annotations

from flask import g, jsonify, request

from majlis.api import api_user, api_viewer, bp, conditional, json_body
from majlis.api.spec import AUTHOR, NO_CONTENT, NOT_MODIFIED, OFFICE, PUBLIC_READ, REGISTRANT, RESIDENT, documented, ok
from majlis.db import get_db, unit_of_work
from majlis.questions import schemas, services
from majlis.schema_types import N_
from majlis.sessions.services import get_visible_session
from majlis.timeutil import utcnow

ASK_LIMIT = "10 per minute; 60 per hour"


def _question(question, viewer) -> dict:
    return schemas.Question.dump(question, viewer, is_moderator=services.is_moderator(viewer))


def _user_key() -> str:
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


@bp.get("/sessions/<int:session_id>/questions")
@documented(N_("List a session's questions"), who=PUBLIC_READ, tag="questions", public=True,
            description="The public sees approved, on-air and answered questions (and their own); moderators see all.",
            responses=(ok(schemas.QuestionList), NOT_MODIFIED))
def list_questions(session_id: int):
    viewer = api_viewer()
    db_session = get_db()
    majlis_session = get_visible_session(db_session, session_id, viewer)
    questions = services.visible_questions(db_session, majlis_session, viewer)
    is_moderator = services.is_moderator(viewer)
    return conditional(jsonify({"version": majlis_session.live_version,
                                "questions": [schemas.Question.dump(q, viewer, is_moderator=is_moderator)
                                              for q in questions]}))


@bp.post("/sessions/<int:session_id>/questions")
@documented(N_("Ask a question"), who=REGISTRANT, tag="questions", rate_limit=ASK_LIMIT, limit_key=_user_key,
            forbidden=["not_registered"], body=schemas.AskInput,
            responses=ok(schemas.Question, "The question, pending moderation", status=201),
            errors={400: ["invalid_input", "invalid_length"], 409: ["session_cancelled", "questions_closed"]},
            refusals=("body",))
def ask(session_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        majlis_session = get_visible_session(db_session, session_id, author)
        question = services.ask(db_session, majlis_session, author, body=data.get("body"),
                                anonymous=data.get("anonymous", False), category=data.get("category"), now=utcnow())
    return jsonify(_question(question, author)), 201


@bp.patch("/questions/<int:question_id>")
@documented(N_("Edit my pending question"), who=AUTHOR, tag="questions", body=schemas.EditInput,
            responses=ok(schemas.Question), errors={400: ["invalid_input", "invalid_length"], 409: ["not_pending"]},
            refusals=("body",))
def edit_question(question_id: int):
    author = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        question = services.edit(db_session, services.get_question(db_session, question_id, author), author,
                                 body=data.get("body"), now=utcnow())
    return jsonify(_question(question, author))


@bp.delete("/questions/<int:question_id>")
@documented(N_("Withdraw my pending question"), who=AUTHOR, tag="questions", responses=NO_CONTENT,
            errors={409: ["not_pending"]})
def withdraw_question(question_id: int):
    author = api_user()
    with unit_of_work() as db_session:
        services.withdraw(db_session, services.get_question(db_session, question_id, author), author, now=utcnow())
    return "", 204


@bp.post("/questions/<int:question_id>/vote")
@documented(N_("Vote for a question (once)"), who=RESIDENT, tag="questions", forbidden=["residents_only"],
            responses=ok(schemas.Votes), errors={409: ["not_votable"]})
def vote(question_id: int):
    voter = api_user()
    with unit_of_work() as db_session:
        votes = services.vote(db_session, services.get_question(db_session, question_id, voter), voter, now=utcnow())
    return jsonify({"votes": votes})


@bp.delete("/questions/<int:question_id>/vote")
@documented(N_("Take my vote back"), who=RESIDENT, tag="questions", forbidden=["residents_only"],
            responses=ok(schemas.Votes))
def unvote(question_id: int):
    voter = api_user()
    with unit_of_work() as db_session:
        votes = services.unvote(db_session, services.get_question(db_session, question_id, voter), voter, now=utcnow())
    return jsonify({"votes": votes})


@bp.post("/questions/<int:question_id>/moderation")
@documented(N_("Moderate a question"), who=OFFICE, tag="questions", forbidden=["forbidden"],
            description="`reject` refuses a pending question or withdraws an approved one from the public list, with "
                        "the reason its author sees. `merge` folds a pending or approved question into any other "
                        "question of the session (`into`), its voters joining that one's.",
            body=schemas.ModerationInput, responses=ok(schemas.Question),
            errors={400: ["invalid_input"], 409: ["illegal_transition", "another_on_air"]},
            refusals=("note", "into"))
def moderate(question_id: int):
    moderator = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        services.get_question(db_session, question_id, moderator)
        question = services.lock_question(db_session, question_id)
        services.moderate(db_session, question, moderator, action=data.get("action"), into=data.get("into"),
                          note=data.get("note"), now=utcnow())
    return jsonify(_question(question, moderator))
