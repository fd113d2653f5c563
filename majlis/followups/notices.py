"""Messages about cases: to the resident at each step (and, once a case is resolved, "was it fixed?"), to the
body's officials when a case reaches or passes them.

Written as kind and ids in the transaction of the step; rendered at delivery from the case as it is then. Each
message to the resident carries the date of the step in both calendars, its time and the case's link.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.core.models import GovernmentBody
from majlis.enums import CaseStatus, Role
from majlis.followups.models import Case, CaseUpdate
from majlis.notifications import services as outbox
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.timeutil import format_hijri

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
        # A resolution asks the resident whether it was fixed; every other step is news.
        kind = "case_resolved" if update.new_status == CaseStatus.RESOLVED else "case_update"
        outbox.enqueue(db_session, kind=kind, user=case.resident, params=params, now=now)
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


def _day(ctx: RenderContext, day: date) -> tuple[str, str]:
    """A day in words, Gregorian and Hijri."""
    from babel.dates import format_date

    return (format_date(day, "full", locale=ctx.lang),
            format_hijri(day, ctx.lang, ctx.config["MAJLIS_HIJRI_ADJUST_DAYS"]))


def _resident_message(ctx: RenderContext, case: Case, *, subject: str, body: str, at: datetime,
                      detail: str | None = None) -> Message:
    """A message to the case's resident: what happened, when (both calendars and the time), the text, the link."""
    from babel.dates import format_time

    local = at.astimezone(ZoneInfo(ctx.config["MAJLIS_TIMEZONE"]))
    day, hijri = _day(ctx, local.date())
    time = format_time(local, "short", locale=ctx.lang)
    link = _link(ctx, case)
    lines = [body, ""] + ([detail, ""] if detail else [])
    lines += [_("Date: %(day)s (%(hijri)s)", day=day, hijri=hijri) if hijri else _("Date: %(day)s", day=day),
              _("Time: %(hours)s", hours=time), _("Follow the case here: %(url)s", url=link)]
    return Message(subject=subject, text="\n".join(lines) + "\n", link=link, headline=subject,
                   facts=tuple(fact for fact in (day, hijri, time, link) if fact), detail=detail)


def _body_name(ctx: RenderContext, body: GovernmentBody) -> str:
    return body.name_en if ctx.lang == "en" else body.name_ar


@renders("case_opened")
def _opened(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    body = ctx.db_session.get(GovernmentBody, params["body_id"])
    if body is None:
        raise Skip("the government body no longer exists")
    due_day, due_hijri = _day(ctx, case.due_on)
    due = f"{due_day} ({due_hijri})" if due_hijri else due_day
    return _resident_message(ctx, case, subject=_("Your request is now a follow-up case"), at=case.opened_at,
                             body=_("Your question became case number %(id)s with %(body)s, due by %(due)s.",
                                    id=case.id, body=_body_name(ctx, body), due=due))


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
    case, update = _case(ctx, params), _update(ctx, params)
    return _resident_message(ctx, case, subject=_("News about your case number %(id)s", id=case.id),
                             body=_("There is news about your case:"), detail=update.text or None,
                             at=update.created_at)


@renders("case_resolved")
def _resolved(ctx: RenderContext, params: dict) -> Message:
    case, update = _case(ctx, params), _update(ctx, params)
    if case.status != CaseStatus.RESOLVED:
        raise Skip("the case is no longer waiting for the resident's answer")
    return _resident_message(ctx, case, subject=_("Was it fixed? Case number %(id)s", id=case.id),
                             body=_("The body reports your case resolved. Was it fixed? Confirm it, or reopen the "
                                    "case within 14 days, on the case's page."),
                             detail=update.text or None, at=update.created_at)


@renders("case_overdue")
def _overdue(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if case.status in CLOSED:
        raise Skip("the case was closed since")
    return Message(subject=_("Case number %(id)s is overdue", id=case.id),
                   text=_("The case was due by %(due)s and is not resolved yet. It is proposed for the agenda of "
                          "the next coordinating majlis.", due=params["due_on"]) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))
