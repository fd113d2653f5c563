"""Questions to a session: asking, voting and moderation. Every transition is audited and goes live."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from majlis.arabic import normalize, similarity
from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.enums import InvitationResponse, QuestionStatus, RegistrationStatus, Role, SessionStatus
from majlis.errors import Conflict, Forbidden, InvalidInput, MajlisError, NotFound, as_id
from majlis.questions.models import Question, Vote
from majlis.questions.schemas import BODY_MAX as MAX_LENGTH
from majlis.questions.schemas import BODY_MIN as MIN_LENGTH
from majlis.questions.schemas import CATEGORIES, NOTE_MAX
from majlis.registration.models import Registration
from majlis.sessions import live
from majlis.sessions.models import MajlisSession

PUBLIC_STATES = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR, QuestionStatus.ANSWERED)
VOTABLE_STATES = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR)
S = QuestionStatus

# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "approve": ((S.PENDING,), S.APPROVED),
    "reject": ((S.PENDING, S.APPROVED), S.REJECTED),
    "on_air": ((S.APPROVED,), S.ON_AIR),
    "answered": ((S.ON_AIR, S.APPROVED), S.ANSWERED),
    "merge": ((S.PENDING, S.APPROVED), S.MERGED),
}


is_moderator = permissions.is_office


def _clean_body(body) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_l("Write your question."), field="body")
    # Spaces inside a line are collapsed, line breaks kept: a resident may write a short list.
    text = "\n".join(" ".join(line.split()) for line in body.strip().splitlines()).strip()
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        raise InvalidInput(_l("A question has %(minimum)s to %(maximum)s characters.", minimum=MIN_LENGTH,
                                 maximum=MAX_LENGTH), field="body", code="invalid_length")
    return text


def may_ask(db_session: Session, majlis_session: MajlisSession, user: User) -> bool:
    """Tell whether the user may ask in the session (registered, or invited, or staff)."""
    from majlis.registration.invitations import invitation_state

    registered = db_session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == majlis_session.id, Registration.user_id == user.id,
        Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED])))
    if registered:
        return True
    state = invitation_state(db_session, majlis_session, user)
    return state is not None and state != InvitationResponse.DECLINED


def ask_refusal(db_session: Session, majlis_session: MajlisSession, author: User, *,
                now: datetime) -> MajlisError | None:
    """Tell why the user may not send a question to the session now, or None (the rule of `ask` and the session
    page)."""
    if majlis_session.status == SessionStatus.CANCELLED:
        return Conflict(_l("This session is cancelled."), code="session_cancelled")
    if not majlis_session.registration_opens_at <= now < majlis_session.ends_at:
        return Conflict(_l("Questions are taken from the opening of registration until the session ends."),
                        code="questions_closed")
    if not may_ask(db_session, majlis_session, author):
        return Forbidden(_l("Register for the session to send a question."), code="not_registered")
    return None


def ask(db_session: Session, majlis_session: MajlisSession, author: User, *, body, anonymous: bool = False,
        category: str | None = None, now: datetime) -> Question:
    """Record a registrant's question, pending moderation; accepted from registration opening until the end."""
    text = _clean_body(body)
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(_l("Choose a category from the list."), field="category")
    if not isinstance(anonymous, bool):
        raise InvalidInput(_l("Say yes or no."), field="anonymous")
    refusal = ask_refusal(db_session, majlis_session, author, now=now)
    if refusal is not None:
        raise refusal
    question = Question(session_id=majlis_session.id, author_id=author.id, body=text, normalized_body=normalize(text),
                        is_anonymous=anonymous, category=category, status=S.PENDING, created_at=now, updated_at=now)
    db_session.add(question)
    db_session.flush()
    live.bump(db_session, majlis_session.id)
    return question


def _own_pending(question: Question, author: User) -> None:
    if question.author_id != author.id:
        raise NotFound()
    if question.status != S.PENDING:
        raise Conflict(_l("Only a question still waiting for moderation can be changed."), code="not_pending")


def edit(db_session: Session, question: Question, author: User, *, body, now: datetime) -> Question:
    """Change the text of the author's own pending question."""
    _own_pending(question, author)
    question.body = _clean_body(body)
    question.normalized_body = normalize(question.body)
    question.updated_at = now
    live.bump(db_session, question.session_id)
    return question


def withdraw(db_session: Session, question: Question, author: User, *, now: datetime) -> Question:
    """Withdraw the author's own pending question."""
    _own_pending(question, author)
    _move(db_session, question, S.WITHDRAWN, actor=author, now=now)
    return question


def _move(db_session: Session, question: Question, to_state: QuestionStatus, *, actor: User, now: datetime,
          data: dict | None = None) -> None:
    from_state = question.status
    question.status = to_state
    question.updated_at = now
    audit.record(db_session, actor_id=actor.id, action=f"question.{to_state.value}", object_type="question",
                 object_id=question.id, from_state=from_state.value, to_state=to_state.value, now=now, data=data)
    live.bump(db_session, question.session_id)


def get_question(db_session: Session, question_id: int, viewer: User | None) -> Question:
    """Return the question if its session is one the viewer may see; 404 otherwise (one statement for both)."""
    from majlis.sessions.services import check_visible

    found = db_session.execute(_question_with_session(), {"b_id": question_id}).first()
    if found is None:
        raise NotFound()
    question, majlis_session = found
    check_visible(db_session, majlis_session, viewer)
    return question


@functools.cache
def _question_with_session():
    return select(Question, MajlisSession).join(MajlisSession, MajlisSession.id == Question.session_id).where(
        Question.id == bindparam("b_id"))


def lock_question(db_session: Session, question_id: int) -> Question:
    """Load a question, with its author for the answer, locked for a change; 404 when there is none."""
    question = db_session.scalar(select(Question).where(Question.id == question_id).with_for_update()
                                 .options(selectinload(Question.author)).execution_options(populate_existing=True))
    if question is None:
        raise NotFound()
    return question


def moderate(db_session: Session, question: Question, moderator: User, *, action: str, now: datetime,
             into: int | None = None, note: str | None = None) -> Question:
    """Move a question through the moderation states; an illegal transition is a 409."""
    if not is_moderator(moderator):
        raise Forbidden(_l("Only the Governor's office moderates questions."))
    if not isinstance(action, str) or action not in TRANSITIONS:
        raise InvalidInput(_l("Choose one of: %(allowed)s.", allowed=", ".join(TRANSITIONS)), field="action")
    sources, target_state = TRANSITIONS[action]
    note = " ".join(str(note).split()) if note not in (None, "") else None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput(_l("The note is too long (at most %(n)s characters).", n=NOTE_MAX), field="note")
    if question.status not in sources:
        raise Conflict(_l("This question cannot go from %(from)s to %(to)s.", **{"from": question.status.value,
                                                                                "to": target_state.value}),
                       code="illegal_transition")
    if action == "reject":
        if not note:
            raise InvalidInput(_l("Give the reason the author will see."), field="note")
        question.reject_reason = note
    elif action == "on_air":
        live_one = db_session.scalar(select(Question.id).where(Question.session_id == question.session_id,
                                                               Question.status == S.ON_AIR))
        if live_one is not None:
            raise Conflict(_l("Another question is on air: mark it answered first."), code="another_on_air")
        question.on_air_at = now
    elif action == "answered":
        question.answer_note = note
        question.answered_at = now
    elif action == "approve":
        question.approved_at = now
    elif action == "merge":
        _merge(db_session, question, into, now=now)
    question.moderated_by_id = moderator.id
    _move(db_session, question, target_state, actor=moderator, now=now,
          data={"into": question.merged_into_id} if action == "merge" else None)
    db_session.flush()
    if action == "on_air":
        from majlis.questions import notices

        notices.on_air(db_session, question, now=now)
    return question


def _merge(db_session: Session, question: Question, into, *, now: datetime) -> None:
    """Fold a duplicate into another question: its voters join the target's, nobody counted twice."""
    if as_id(into) is None:
        raise InvalidInput(_l("Choose the question to merge into."), field="into")
    target = db_session.get(Question, as_id(into))
    if target is None or target.session_id != question.session_id or target.id == question.id:
        raise InvalidInput(_l("Choose another question of the same session."), field="into")
    if target.status not in (S.PENDING, S.APPROVED, S.ON_AIR, S.ANSWERED):
        raise Conflict(_l("That question cannot take a merge."), code="illegal_transition")
    already = select(Vote.user_id).where(Vote.question_id == target.id)
    db_session.execute(insert(Vote).from_select(
        ["question_id", "user_id", "created_at"],
        select(target.id, Vote.user_id, Vote.created_at).where(Vote.question_id == question.id,
                                                               Vote.user_id.not_in(already))))
    db_session.execute(delete(Vote).where(Vote.question_id == question.id))
    for row in (question, target):
        row.votes_count = db_session.scalar(select(func.count()).select_from(Vote).where(Vote.question_id == row.id))
    question.merged_into_id = target.id


def vote(db_session: Session, question: Question, voter: User, *, now: datetime) -> int:
    """Record a resident's vote, one per resident: a second click changes nothing; return the question's votes.

    The live session's hottest write: statements built once, on the unit of work's connection; the vote, the
    count and the live version, and the count read back by the statement that raises it.
    """
    _check_voter(voter)
    if question.status not in VOTABLE_STATES:
        raise Conflict(_l("Votes are taken on approved questions only."), code="not_votable")
    connection = db_session.connection()
    statements = _vote_statements(connection.dialect.name)
    values = {"b_question": question.id, "b_user": voter.id, "b_now": now}
    if connection.execute(statements.insert, values).first() is None:  # voted before: nothing changes
        return connection.execute(statements.count, values).scalar_one()
    votes = connection.execute(statements.count_up, values).scalar_one()
    live.bump(db_session, question.session_id)
    return votes


@dataclass(frozen=True)
class _VoteStatements:
    insert: object
    count_up: object
    count: object


@functools.cache
def _vote_statements(dialect: str) -> _VoteStatements:
    module = postgresql if dialect == "postgresql" else sqlite
    votes, questions = Vote.__table__, Question.__table__
    return _VoteStatements(
        # RETURNING says whether this call inserted the row (rowcount is not reliable on every driver).
        insert=module.insert(votes).values(question_id=bindparam("b_question"), user_id=bindparam("b_user"),
                                           created_at=bindparam("b_now"))
        .on_conflict_do_nothing(index_elements=["question_id", "user_id"]).returning(votes.c.id),
        count_up=update(questions).where(questions.c.id == bindparam("b_question"))
        .values(votes_count=questions.c.votes_count + 1).returning(questions.c.votes_count),
        count=select(questions.c.votes_count).where(questions.c.id == bindparam("b_question")),
    )


def _check_voter(voter: User) -> None:
    if voter.role != Role.RESIDENT:
        raise Forbidden(_l("The Governor's office moderates; residents vote."), code="residents_only")


def unvote(db_session: Session, question: Question, voter: User, *, now: datetime) -> int:
    """Take back the voter's vote on a question (nothing if there was none)."""
    _check_voter(voter)
    if db_session.execute(delete(Vote).where(Vote.question_id == question.id, Vote.user_id == voter.id)).rowcount:
        db_session.execute(update(Question).where(Question.id == question.id)
                           .values(votes_count=Question.votes_count - 1))
        live.bump(db_session, question.session_id)
    db_session.flush()
    return db_session.scalar(select(Question.votes_count).where(Question.id == question.id))


# How a question list may be ordered: the first is the default.
SORTS = {
    "popular": (Question.votes_count.desc(), Question.created_at, Question.id),
    "recent": (Question.created_at.desc(), Question.id.desc()),
}


def sort_of(value: str | None) -> str:
    """Read the list order a request asks for (`popular` or `recent`); anything else is the default, `popular`."""
    return value if value in SORTS else "popular"


def visible_questions(db_session: Session, majlis_session: MajlisSession, viewer: User | None,
                      *, sort: str = "popular") -> list[Question]:
    """List the questions a viewer sees: the public the approved, on-air and answered ones; authors also their own;
    moderators everything. Ordered by votes, then age (`popular`), or newest first (`recent`)."""
    statement = select(Question).where(Question.session_id == majlis_session.id)
    if not is_moderator(viewer):
        condition = Question.status.in_(PUBLIC_STATES)
        if viewer is not None:
            condition = or_(condition, Question.author_id == viewer.id)
        statement = statement.where(condition)
    return list(db_session.scalars(statement.options(selectinload(Question.author))
                                   .order_by(*SORTS[sort_of(sort)])))


@dataclass(frozen=True)
class Board:
    """What the hall's big screen shows: the question on air and the most-voted approved ones."""

    on_air: list[Question]
    top: list[Question]


def presenter_board(db_session: Session, majlis_session: MajlisSession, *, top: int = 5) -> Board:
    """Return the session's on-air question(s) and its `top` approved questions by votes, for the presenter view."""
    statement = (select(Question).options(selectinload(Question.author))
                 .where(Question.session_id == majlis_session.id,
                        Question.status.in_((QuestionStatus.ON_AIR, QuestionStatus.APPROVED)))
                 .order_by(*SORTS["popular"]))
    questions = list(db_session.scalars(statement))
    return Board(on_air=[q for q in questions if q.status == QuestionStatus.ON_AIR],
                 top=[q for q in questions if q.status == QuestionStatus.APPROVED][:top])


def my_votes(db_session: Session, majlis_session: MajlisSession, viewer: User | None) -> set[int]:
    """Return the ids of the session's questions the viewer voted for."""
    if viewer is None:
        return set()
    return set(db_session.scalars(select(Vote.question_id).join(Question, Question.id == Vote.question_id).where(
        Question.session_id == majlis_session.id, Vote.user_id == viewer.id)))


def likely_duplicates(question: Question, others: list[Question], threshold: float = 0.5) -> list[Question]:
    """Find questions of the same session that say nearly the same thing, for the moderator's eye."""
    candidates = [(similarity(question.body, other.body), other) for other in others
                  if other.id != question.id and other.status not in (S.REJECTED, S.MERGED, S.WITHDRAWN)]
    return [other for score, other in sorted(candidates, key=lambda pair: -pair[0]) if score >= threshold]


def has_questions(db_session: Session, majlis_session: MajlisSession) -> bool:
    """Return whether anyone asked a question in the session, whatever became of it."""
    return bool(db_session.scalar(select(exists().where(Question.session_id == majlis_session.id))))


def export_account_data(db_session: Session, user: User) -> dict:
    """Export the user's questions and the ids of the questions they voted for."""
    return {
        "questions": [{"id": q.id, "session_id": q.session_id, "body": q.body, "status": q.status.value,
                       "anonymous": q.is_anonymous, "created_at": q.created_at.isoformat() if q.created_at else None}
                      for q in db_session.scalars(select(Question).where(Question.author_id == user.id))],
        "votes": [v.question_id for v in db_session.scalars(select(Vote).where(Vote.user_id == user.id))],
    }


def erase_account_data(db_session: Session, user: User, *, now: datetime) -> None:
    """Make the user's questions anonymous; they stay, so minutes and cases keep their sense."""
    for question in db_session.scalars(select(Question).where(Question.author_id == user.id)):
        question.is_anonymous = True
