"""Messages about cases: to the resident at each step, to the body's officials when a case reaches or passes them.

Written as kind and ids in the transaction of the step; rendered at delivery from the case as it is then.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.core.models import GovernmentBody
from majlis.enums import CaseStatus, Role
from majlis.followups.models import Case, CaseUpdate
from majlis.notifications import services as outbox
from majlis.notifications.rendering import Message, RenderContext, Skip, renders

CLOSED = (CaseStatus.RESOLVED, CaseStatus.DECLINED, CaseStatus.CONFIRMED)


def _officials(db_session: Session, body_id: int) -> list[User]:
    return list(db_session.scalars(select(User).where(User.role == Role.OFFICIAL, User.body_id == body_id,
                                                      User.is_disabled.is_(False))))


def case_opened(db_session: Session, case: Case, *, now: datetime) -> None:
    # The body it went to is the event's; a hand-over before delivery has its own notice.
    outbox.enqueue(db_session, kind="case_opened", user=case.resident,
                   params={"case_id": case.id, "body_id": case.body_id}, now=now)
    for official in _officials(db_session, case.body_id):
        outbox.enqueue(db_session, kind="case_assigned", user=official, params={"case_id": case.id}, now=now)


def case_updated(db_session: Session, case: Case, update: CaseUpdate, author: User, *, now: datetime) -> None:
    params = {"case_id": case.id, "update_id": update.id}
    if author.id != case.resident_id:
        outbox.enqueue(db_session, kind="case_update", user=case.resident, params=params, now=now)
    if update.to_body_id:
        # A hand-over: the update's id tells this assignment from the first one.
        for official in _officials(db_session, update.to_body_id):
            outbox.enqueue(db_session, kind="case_assigned", user=official, params=params, now=now)


def case_overdue(db_session: Session, case: Case, *, now: datetime) -> None:
    due = case.due_on.isoformat()
    for official in _officials(db_session, case.body_id):
        outbox.enqueue(db_session, kind="case_overdue", user=official, params={"case_id": case.id, "due_on": due},
                       dedupe_key=f"case-overdue:{case.id}:{official.id}:{due}", now=now)


# Rendering, at delivery.

def _case(ctx: RenderContext, params: dict) -> Case:
    case = ctx.db_session.get(Case, params["case_id"])
    if case is None:
        raise Skip("the case no longer exists")
    return case


def _update(ctx: RenderContext, params: dict) -> CaseUpdate:
    update = ctx.db_session.get(CaseUpdate, params["update_id"])
    if update is None:
        raise Skip("the case update no longer exists")
    return update


def _link(ctx: RenderContext, case: Case) -> str:
    return f"{ctx.config['MAJLIS_BASE_URL']}/cases/{case.id}"


@renders("case_opened")
def _opened(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    body = ctx.db_session.get(GovernmentBody, params["body_id"])
    if body is None:
        raise Skip("the government body no longer exists")
    return Message(subject=_("Your request is now a follow-up case"),
                   text=_("Your question became case number %(id)s with %(body)s, due by %(due)s. Follow it here:",
                          id=case.id, body=body.name_en if ctx.lang == "en" else body.name_ar,
                          due=case.due_on.isoformat()) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))


@renders("case_assigned")
def _assigned(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if "update_id" in params:
        return Message(subject=_("A case was handed over to your body"),
                       text=f"{_update(ctx, params).text}\n\n{_link(ctx, case)}\n", link=_link(ctx, case))
    return Message(subject=_("A new case for your body"),
                   text=_("Case number %(id)s was assigned to your body, due by %(due)s.", id=case.id,
                          due=case.due_on.isoformat()) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))


@renders("case_update")
def _updated(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    return Message(subject=_("News about your case number %(id)s", id=case.id),
                   text=f"{_update(ctx, params).text}\n\n{_link(ctx, case)}\n", link=_link(ctx, case))


@renders("case_overdue")
def _overdue(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if case.status in CLOSED:
        raise Skip("the case was closed since")
    return Message(subject=_("Case number %(id)s is overdue", id=case.id),
                   text=_("The case was due by %(due)s and is not resolved yet. It is proposed for the agenda of "
                          "the next coordinating majlis.", due=params["due_on"]) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))
