"""Messages about cases: to the resident at each step, to the body's officials when a case reaches or passes them."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.enums import Role
from majlis.followups.models import Case, CaseUpdate
from majlis.notifications import services as outbox


def _locale(user: User) -> str:
    return user.locale if user.locale in ("ar", "en") else "ar"


def _link(case: Case) -> str:
    return f"{current_app.config['MAJLIS_BASE_URL']}/cases/{case.id}"


def _body_name(case: Case, locale: str) -> str:
    return case.body.name_en if locale == "en" else case.body.name_ar


def _officials(db_session: Session, body_id: int) -> list[User]:
    return list(db_session.scalars(select(User).where(User.role == Role.OFFICIAL, User.body_id == body_id,
                                                      User.is_disabled.is_(False))))


def case_opened(db_session: Session, case: Case, *, now: datetime) -> None:
    resident = case.resident
    with force_locale(_locale(resident)):
        outbox.enqueue(db_session, kind="case_opened", user=resident, now=now,
                       subject=_("Your request is now a follow-up case"),
                       body_text=_("Your question became case number %(id)s with %(body)s, due by %(due)s. "
                                   "Follow it here:", id=case.id, body=_body_name(case, _locale(resident)),
                                   due=case.due_on.isoformat()) + f"\n{_link(case)}\n")
    for official in _officials(db_session, case.body_id):
        with force_locale(_locale(official)):
            outbox.enqueue(db_session, kind="case_assigned", user=official, now=now,
                           subject=_("A new case for your body"),
                           body_text=_("Case number %(id)s was assigned to your body, due by %(due)s.",
                                       id=case.id, due=case.due_on.isoformat()) + f"\n{_link(case)}\n")


def case_updated(db_session: Session, case: Case, update: CaseUpdate, author: User, *, now: datetime) -> None:
    if author.id != case.resident_id:
        resident = case.resident
        with force_locale(_locale(resident)):
            outbox.enqueue(db_session, kind="case_update", user=resident, now=now,
                           subject=_("News about your case number %(id)s", id=case.id),
                           body_text=f"{update.text}\n\n{_link(case)}\n")
    if update.to_body_id:
        for official in _officials(db_session, update.to_body_id):
            with force_locale(_locale(official)):
                outbox.enqueue(db_session, kind="case_assigned", user=official, now=now,
                               subject=_("A case was handed over to your body"),
                               body_text=f"{update.text}\n\n{_link(case)}\n")


def case_overdue(db_session: Session, case: Case, *, now: datetime) -> None:
    for official in _officials(db_session, case.body_id):
        with force_locale(_locale(official)):
            outbox.enqueue(db_session, kind="case_overdue", user=official, now=now,
                           dedupe_key=f"case-overdue:{case.id}:{official.id}:{case.due_on.isoformat()}",
                           subject=_("Case number %(id)s is overdue", id=case.id),
                           body_text=_("The case was due by %(due)s and is not resolved yet. It is proposed for "
                                       "the agenda of the next coordinating majlis.", due=case.due_on.isoformat())
                           + f"\n{_link(case)}\n")
