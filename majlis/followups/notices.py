"""Messages about cases: to the resident at each step (and, once a case is resolved, "was it fixed?"), to the
body's officials when a case reaches or passes them.

Written as kind and ids in the transaction of the step; rendered at delivery from the case as it is then. Each
message to the resident carries the date of the step in both calendars, its time and the case's link.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.directory.models import GovernmentBody
from majlis.enums import CaseStatus, FeedbackOutcome, Role
from majlis.followups.links import feedback_token
from majlis.followups.models import Case, CaseFeedback, CaseUpdate
from majlis.notifications import services as outbox
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.timeutil import format_hijri, zone_name

CLOSED = (CaseStatus.RESOLVED, CaseStatus.DECLINED, CaseStatus.CONFIRMED)


def _officials(db_session: Session, body_id: int) -> list[User]:
    return list(db_session.scalars(select(User).where(User.role == Role.OFFICIAL, User.body_id == body_id,
                                                      User.is_disabled.is_(False))))


def case_opened(db_session: Session, case: Case, *, now: datetime) -> None:
    """The case reached its body: tell the resident (when it follows one) and the body's officials."""
    # The body it went to is the event's; a hand-over before delivery has its own notice.
    if case.resident is not None:
        outbox.enqueue(db_session, kind="case_opened", user=case.resident,
                       params={"case_id": case.id, "body_id": case.body_id}, now=now)
    for official in _officials(db_session, case.body_id):
        outbox.enqueue(db_session, kind="case_assigned", user=official, params={"case_id": case.id}, now=now)


def case_updated(db_session: Session, case: Case, update: CaseUpdate, author: User, *, now: datetime) -> None:
    params = {"case_id": case.id, "update_id": update.id}
    if author.id != case.resident_id and case.resident is not None:
        # A resolution is news too; "was it fixed?" follows some days later (case_feedback), with one-click answers.
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


def case_reopened(db_session: Session, case: Case, *, now: datetime) -> None:
    """The resident says it is not fixed: the case is back with its body's officials."""
    for official in _officials(db_session, case.body_id):
        outbox.enqueue(db_session, kind="case_reopened", user=official, params={"case_id": case.id}, now=now)


def case_contact_consent(db_session: Session, case: Case, *, now: datetime) -> None:
    """Ask the asker of an anonymous question whether the case's body may contact them (once per case)."""
    outbox.enqueue(db_session, kind="case_contact_consent", user=case.resident, params={"case_id": case.id},
                   dedupe_key=f"case-contact-consent:{case.id}", now=now)


def case_feedback(db_session: Session, case: Case, *, now: datetime) -> None:
    """Ask the resident "was it fixed?" about the case's current resolution (once per resolution)."""
    outbox.enqueue(db_session, kind="case_feedback", user=case.resident,
                   params={"case_id": case.id, "round": case.round},
                   dedupe_key=f"case-feedback:{case.id}:{case.round}", now=now)


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

    zone = ZoneInfo(ctx.config["MAJLIS_TIMEZONE"])
    local = at.astimezone(zone)
    day, hijri = _day(ctx, local.date())
    time = f"{format_time(local, 'short', locale=ctx.lang)} ({zone_name(zone, ctx.lang)})"
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
    if case.question_id is not None:
        body_text = _("Your question became case number %(id)s with %(body)s, due by %(due)s.",
                      id=case.id, body=_body_name(ctx, body), due=due)
    else:
        body_text = _("Your request is case number %(id)s with %(body)s, due by %(due)s.",
                      id=case.id, body=_body_name(ctx, body), due=due)
    return _resident_message(ctx, case, subject=_("Your request is now a follow-up case"), at=case.opened_at,
                             body=body_text)


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
    from majlis.followups.services import update_text

    case, update = _case(ctx, params), _update(ctx, params)
    return _resident_message(ctx, case, subject=_("News about your case number %(id)s", id=case.id),
                             body=_("There is news about your case:"), detail=update_text(update) or None,
                             at=update.created_at)


@renders("case_overdue")
def _overdue(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if case.status in CLOSED:
        raise Skip("the case was closed since")
    return Message(subject=_("Case number %(id)s is overdue", id=case.id),
                   text=_("The case was due by %(due)s and is not resolved yet. It is proposed for the agenda of "
                          "the next coordinating majlis.", due=params["due_on"]) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))


@renders("case_reopened")
def _reopened(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    return Message(subject=_("Case number %(id)s was reopened", id=case.id),
                   text=_("The resident says the case is not fixed; it is open again for your body, due by %(due)s.",
                          due=case.due_on.isoformat()) + f"\n{_link(ctx, case)}\n",
                   link=_link(ctx, case))


@renders("case_contact_consent")
def _contact_consent(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if not case.is_anonymous or case.contact_consent is not None:
        raise Skip("the resident has already answered")
    body = ctx.db_session.get(GovernmentBody, case.body_id)
    detail = _("You asked your question anonymously, so %(body)s sees you only as \"a resident\": it has neither "
               "your name nor your contact details, and the Governor's office passes its news on to you. May the "
               "body contact you directly about this case? Answer yes or no on the case page.",
               body=_body_name(ctx, body) if body is not None else "")
    return _resident_message(ctx, case, subject=_("May the government body contact you? Case number %(id)s",
                                                  id=case.id),
                             body=_("Your question became case number %(id)s.", id=case.id), detail=detail,
                             at=case.opened_at)


def feedback_links(config, case: Case, *, now: datetime) -> dict[str, str]:
    """The one-click links of the notice, one per answer, all carrying the same signed token."""
    token = feedback_token(config["SECRET_KEY"], case_id=case.id, round=case.round, resident_id=case.resident_id,
                           now=now)
    base = f"{config['MAJLIS_BASE_URL']}/cases/{case.id}/feedback"
    return {outcome.value: f"{base}?{urlencode({'outcome': outcome.value, 'token': token})}"
            for outcome in FeedbackOutcome}


@renders("case_feedback")
def _feedback(ctx: RenderContext, params: dict) -> Message:
    case = _case(ctx, params)
    if case.status != CaseStatus.RESOLVED or case.round != params["round"] or case.resident_id is None:
        raise Skip("the case is no longer waiting for the resident's answer")
    if ctx.db_session.scalar(select(CaseFeedback.id).where(CaseFeedback.case_id == case.id,
                                                           CaseFeedback.round == case.round)) is not None:
        raise Skip("the resident has already answered")
    links = feedback_links(ctx.config, case, now=datetime.now(UTC))
    labels = {"fixed": _("Fixed"), "partly_fixed": _("Partly fixed"), "not_fixed": _("Not fixed")}
    lines = [_("Case number %(id)s was resolved. Was it fixed? Choose one answer:", id=case.id), ""]
    lines += [f"{labels[outcome]}: {link}" for outcome, link in links.items()]
    lines += ["", _("If it is not fixed, the case goes back to the government body.")]
    return Message(subject=_("Was it fixed? Case number %(id)s", id=case.id), text="\n".join(lines) + "\n",
                   link=links["fixed"])
