"""Follow-up cases: a question becomes a case for a government body, followed until it is resolved."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.core.models import GovernmentBody
from majlis.enums import CaseStatus, QuestionStatus
from majlis.errors import Conflict, Forbidden, InvalidInput, NotFound, as_id
from majlis.followups.models import Case, CaseUpdate
from majlis.questions.models import Question
from majlis.sessions.services import parse_day

OPEN_STATES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)
CLOSED_STATES = (CaseStatus.RESOLVED, CaseStatus.DECLINED, CaseStatus.CONFIRMED)
REOPEN_WINDOW = timedelta(days=14)
MAX_TEXT = 2000
C = CaseStatus


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def _text(value, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(_l("Write the update."), field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(_l("The text is too long (at most 2000 characters)."), field="text")
    return text


def _body(db_session: Session, value, field: str = "body_id") -> GovernmentBody:
    if as_id(value) is None:
        raise InvalidInput(_l("Choose a government body."), field=field)
    body = db_session.get(GovernmentBody, as_id(value))
    if body is None or not body.is_active:
        raise InvalidInput(_l("Choose a government body."), field=field)
    return body


def open_case(db_session: Session, question: Question, moderator: User, *, body_id, now: datetime, zone: ZoneInfo,
              due_on=None, reference=None) -> Case:
    """Turn a question into a case for a body, due by the body's SLA unless a date is given."""
    if not permissions.is_office(moderator):
        raise Forbidden(_l("Only the Governor's office opens cases."))
    if question.status in (QuestionStatus.REJECTED, QuestionStatus.WITHDRAWN):
        raise Conflict(_l("A rejected or withdrawn question cannot become a case."), code="illegal_transition")
    if db_session.scalar(select(Case.id).where(Case.question_id == question.id)) is not None:
        raise Conflict(_l("This question is already a case."), code="case_exists")
    body = _body(db_session, body_id)
    today = local_today(now, zone)
    if due_on in (None, ""):
        due = today + timedelta(days=body.sla_days)
    else:
        due = parse_day(due_on, "due_on")
        if due < today:
            raise InvalidInput(_l("The due date cannot be in the past."), field="due_on")
    reference = str(reference).strip() if reference not in (None, "") else None
    if reference is not None and len(reference) > 64:
        raise InvalidInput(_l("The reference number is too long (at most 64 characters)."), field="reference")
    case = Case(question_id=question.id, session_id=question.session_id, resident_id=question.author_id,
                body_id=body.id, status=C.OPEN, due_on=due, reference_number=reference, opened_by_id=moderator.id,
                opened_at=now, created_at=now, updated_at=now)
    db_session.add(case)
    db_session.flush()
    db_session.add(CaseUpdate(case_id=case.id, author_id=moderator.id, text=str(_l("Case opened.")),
                              new_status=C.OPEN, to_body_id=body.id, created_at=now))
    audit.record(db_session, actor_id=moderator.id, action="case.open", object_type="case", object_id=case.id,
                 to_state="open", now=now, data={"question": question.id, "body": body.id})
    from majlis.followups import notices

    notices.case_opened(db_session, case, now=now)
    return case


def can_view(user: User | None, case: Case) -> bool:
    if user is None:
        return False
    return (permissions.is_office(user) or case.resident_id == user.id
            or (permissions.is_official(user) and user.body_id == case.body_id))


def get_case(db_session: Session, case_id: int, viewer: User | None) -> Case:
    """The case if the viewer may see it; 404 otherwise (its existence is not revealed)."""
    case = db_session.get(Case, case_id)
    if case is None or not can_view(viewer, case):
        raise NotFound()
    return case


def add_update(db_session: Session, case: Case, author: User, *, now: datetime, text=None, status=None,
               to_body=None) -> CaseUpdate:
    """A dated update: officials and the office report progress or hand over; the resident confirms or reopens."""
    if not can_view(author, case):
        raise NotFound()
    requested = None
    if status not in (None, ""):
        try:
            requested = CaseStatus(status) if status != "reopened" else "reopened"
        except ValueError:
            raise InvalidInput(_l("Choose a status from the list."), field="status") from None
    old = case.status
    update = CaseUpdate(case_id=case.id, author_id=author.id, created_at=now, old_status=old)
    if author.id == case.resident_id and not permissions.is_office(author):
        update.text = _text(text, required=False)
        _resident_step(case, requested, now)
    else:
        update.text = _text(text, required=True)
        if to_body not in (None, ""):
            _hand_over(db_session, case, update, to_body)
        if requested is not None:
            _office_step(case, requested, update.text, now)
    update.new_status = case.status if case.status != old else None
    case.updated_at = now
    db_session.add(update)
    db_session.flush()
    audit.record(db_session, actor_id=author.id, action="case.update", object_type="case", object_id=case.id,
                 from_state=old.value, to_state=case.status.value, now=now,
                 data={"to_body": update.to_body_id} if update.to_body_id else None)
    from majlis.followups import notices

    notices.case_updated(db_session, case, update, author, now=now)
    return update


def _office_step(case: Case, requested, reason: str, now: datetime) -> None:
    allowed = {C.OPEN: (C.IN_PROGRESS, C.RESOLVED, C.DECLINED), C.IN_PROGRESS: (C.RESOLVED, C.DECLINED)}
    if requested not in allowed.get(case.status, ()):
        raise Conflict(_l("The case cannot go from %(from)s to %(to)s.", **{"from": case.status.value,
                                                                           "to": str(requested)}),
                       code="illegal_transition")
    case.status = requested
    if requested == C.RESOLVED:
        case.resolved_at = now
    if requested == C.DECLINED:
        case.declined_reason = reason
        case.resolved_at = now


def _resident_step(case: Case, requested, now: datetime) -> None:
    if requested is None:
        return
    if requested == C.CONFIRMED and case.status == C.RESOLVED:
        case.status = C.CONFIRMED
        return
    if requested == "reopened" and case.status in (C.RESOLVED, C.DECLINED):
        if case.reopened_count >= 1:
            raise Conflict(_l("A case can be reopened only once."), code="reopen_used")
        if case.resolved_at is None or now - case.resolved_at > REOPEN_WINDOW:
            raise Conflict(_l("A case can be reopened within 14 days of its answer."), code="reopen_expired")
        case.status = C.IN_PROGRESS
        case.reopened_count += 1
        case.resolved_at = None
        case.overdue_flagged_at = None
        return
    raise Conflict(_l("You can confirm a resolved case or reopen it once."), code="illegal_transition")


def _hand_over(db_session: Session, case: Case, update: CaseUpdate, to_body) -> None:
    if case.status not in OPEN_STATES:
        raise Conflict(_l("Only an open case can be handed over."), code="illegal_transition")
    body = _body(db_session, to_body, field="to_body")
    if body.id == case.body_id:
        raise InvalidInput(_l("Choose another government body."), field="to_body")
    update.from_body_id, update.to_body_id = case.body_id, body.id
    case.body_id = body.id


def is_overdue(case: Case, today: date) -> bool:
    return case.status in OPEN_STATES and case.due_on < today


def visible_cases(db_session: Session, viewer: User, *, status: str | None = None) -> list[Case]:
    statement = select(Case)
    if permissions.is_official(viewer):
        statement = statement.where(Case.body_id == viewer.body_id)
    elif not permissions.is_office(viewer):
        statement = statement.where(Case.resident_id == viewer.id)
    if status == "open":
        statement = statement.where(Case.status.in_(OPEN_STATES))
    elif status == "closed":
        statement = statement.where(Case.status.in_(CLOSED_STATES))
    return list(db_session.scalars(statement.options(selectinload(Case.body), selectinload(Case.question))
                                   .order_by(Case.due_on, Case.id)))


def flag_overdue(db_session: Session, *, now: datetime, zone: ZoneInfo) -> int:
    """Mark open cases past their due date (once each) and tell their body's officials."""
    today = local_today(now, zone)
    cases = list(db_session.scalars(select(Case).where(
        Case.status.in_(OPEN_STATES), Case.due_on < today, Case.overdue_flagged_at.is_(None))))
    from majlis.followups import notices

    for case in cases:
        case.overdue_flagged_at = now
        audit.record(db_session, actor_id=None, action="case.overdue", object_type="case", object_id=case.id,
                     now=now)
        notices.case_overdue(db_session, case, now=now)
    db_session.flush()
    return len(cases)


def overdue_agenda(db_session: Session, *, now: datetime, zone: ZoneInfo) -> list[tuple[GovernmentBody, list[Case]]]:
    """Open cases past due, grouped by body: the proposed agenda of the next coordinating majlis."""
    today = local_today(now, zone)
    cases = db_session.scalars(select(Case).where(Case.status.in_(OPEN_STATES), Case.due_on < today)
                               .order_by(Case.body_id, Case.due_on, Case.id))
    grouped: dict[int, tuple[GovernmentBody, list[Case]]] = {}
    for case in cases:
        grouped.setdefault(case.body_id, (case.body, []))[1].append(case)
    return sorted(grouped.values(), key=lambda pair: (-len(pair[1]), pair[0].id))


@dataclass(frozen=True)
class BodyFigures:
    body: GovernmentBody
    opened: int
    open: int
    overdue: int
    resolved: int
    median_days: float | None


def accountability(db_session: Session, *, start: date, end: date, now: datetime, zone: ZoneInfo
                   ) -> list[BodyFigures]:
    """Per body, for a period of local days [start, end]: opened, open, overdue, resolved, median days to resolve.

    "Open" and "overdue" are counted as of the end of the period (or today, if earlier); resolved cases are those
    answered within the period, resolved or confirmed (a declined case is closed but not resolved).
    """
    period_start = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    period_end = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    as_of = min(period_end, now)
    as_of_day = min(end, local_today(now, zone))
    bodies = db_session.scalars(select(GovernmentBody).order_by(GovernmentBody.id)).all()
    cases = db_session.scalars(select(Case).where(Case.opened_at < period_end)).all()
    figures = []
    for body in bodies:
        mine = [c for c in cases if c.body_id == body.id]
        opened = [c for c in mine if period_start <= c.opened_at < period_end]
        still_open = [c for c in mine if c.opened_at < as_of and (c.resolved_at is None or c.resolved_at >= as_of)]
        overdue = [c for c in still_open if c.due_on < as_of_day]
        resolved = [c for c in mine if c.status in (C.RESOLVED, C.CONFIRMED) and c.resolved_at is not None
                    and period_start <= c.resolved_at < period_end]
        days = [(c.resolved_at - c.opened_at).total_seconds() / 86400 for c in resolved]
        figures.append(BodyFigures(body, len(opened), len(still_open), len(overdue), len(resolved),
                                   round(statistics.median(days), 1) if days else None))
    return figures
