"""Notices to registrants: written to the outbox in the same transaction as the change they report (kind and ids
only, so a registration under the session's lock pays for one insert), rendered when the scheduler delivers them.

Rendering reads the data as it is at delivery: a notice shows the session's current title and time, and a reminder
whose registration was withdrawn, or whose session was cancelled or moved since it was queued, is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.enums import RegistrationStatus, SessionStatus
from majlis.notifications import services as outbox
from majlis.notifications.models import OutboxMessage
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from majlis.timeutil import format_hijri

REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


def _notify(db_session: Session, majlis_session: MajlisSession, user: User, kind: str, *, now: datetime,
            dedupe_key: str | None = None, **params) -> None:
    outbox.enqueue(db_session, kind=kind, user=user, params={"session_id": majlis_session.id, **params}, now=now,
                   dedupe_key=dedupe_key)


def registered(db_session: Session, majlis_session: MajlisSession, user: User, place, *, now: datetime) -> None:
    """Queue the notice of a registration: a confirmed seat, or a place in line."""
    if place.status == RegistrationStatus.CONFIRMED:
        _notify(db_session, majlis_session, user, "registration_confirmed", now=now)
    else:
        _notify(db_session, majlis_session, user, "registration_waitlisted", now=now, position=place.position)


def promoted(db_session: Session, majlis_session: MajlisSession, user: User, *, now: datetime) -> None:
    """Queue the notice that a seat freed up and is now the user's."""
    _notify(db_session, majlis_session, user, "registration_promoted", now=now)


def session_changed(db_session: Session, majlis_session: MajlisSession, *, now: datetime) -> int:
    """Tell every registrant that staff moved or cancelled the session."""
    users = db_session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.session_id == majlis_session.id, Registration.status != RegistrationStatus.CANCELLED))
    kind = "session_cancelled" if majlis_session.status == SessionStatus.CANCELLED else "session_moved"
    count = 0
    for user in users:
        _notify(db_session, majlis_session, user, kind, now=now)
        count += 1
    return count


def send_reminders(db_session: Session, *, now: datetime) -> int:
    """Queue the 24 h and 1 h reminders that are due; each exists once (a unique key per registration and time)."""
    queued = 0
    for label, lead in REMINDERS:
        due = db_session.execute(
            select(Registration, MajlisSession).join(MajlisSession, MajlisSession.id == Registration.session_id).where(
                Registration.status == RegistrationStatus.CONFIRMED,
                MajlisSession.status == SessionStatus.SCHEDULED,
                MajlisSession.starts_at > now,
                MajlisSession.starts_at <= now + lead,
            )).all()
        for registration, majlis_session in due:
            # Keyed on the start time too: after a move the reminder is due again for the new time.
            starts = int(majlis_session.starts_at.timestamp())
            key = f"reminder:{label}:{registration.id}:{starts}"
            if db_session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
                continue
            try:
                with db_session.begin_nested():
                    _notify(db_session, majlis_session, registration.user, f"reminder_{label}", now=now,
                            dedupe_key=key, registration_id=registration.id, starts_at=starts)
                    db_session.flush()
            except IntegrityError:
                continue  # another scheduler queued it first
            queued += 1
    return queued


# Rendering, at delivery.

def _session(ctx: RenderContext, params: dict) -> MajlisSession:
    majlis_session = ctx.db_session.get(MajlisSession, params["session_id"])
    if majlis_session is None:
        raise Skip("the session no longer exists")
    return majlis_session


def _when(majlis_session: MajlisSession, ctx: RenderContext) -> str:
    """The start in words, Gregorian and Hijri."""
    from babel.dates import format_datetime

    zone = ZoneInfo(ctx.config["MAJLIS_TIMEZONE"])
    local = majlis_session.starts_at.astimezone(zone)
    hijri = format_hijri(local.date(), ctx.lang, ctx.config["MAJLIS_HIJRI_ADJUST_DAYS"])
    return f"{format_datetime(local, 'full', locale=ctx.lang, tzinfo=zone)} ({hijri})"


def _ics(majlis_session: MajlisSession, ctx: RenderContext) -> str:
    """The session's .ics, built once per version of the session and language in a delivery run (a burst of
    registrations for one session repeats it for every resident)."""
    from majlis.calendar.services import FeedContext, session_feed

    def build() -> str:
        feed = FeedContext(base_url=ctx.config["MAJLIS_BASE_URL"], timezone=ctx.config["MAJLIS_TIMEZONE"],
                           lang=ctx.lang, organizer_email=ctx.config["MAIL_DEFAULT_SENDER"])
        return session_feed(majlis_session, feed).decode("utf-8")

    key = ("session_ics", majlis_session.id, majlis_session.sequence, majlis_session.updated_at,
           SessionStatus(majlis_session.status).value, majlis_session.title_ar, majlis_session.title_en, ctx.lang)
    return ctx.remember(key, build)


def _message(ctx: RenderContext, majlis_session: MajlisSession, *, subject: str, body: str) -> Message:
    """A session notice: the subject, the body with the session's title, start and link, the .ics."""
    title = majlis_session.title_en if ctx.lang == "en" else majlis_session.title_ar
    link = f"{ctx.config['MAJLIS_BASE_URL']}/sessions/{majlis_session.id}"
    return Message(subject=f"{subject} — {title}", text=f"{body}\n\n{title}\n{_when(majlis_session, ctx)}\n{link}\n",
                   ics=_ics(majlis_session, ctx), link=link)


@renders("registration_confirmed")
def _confirmed(ctx: RenderContext, params: dict) -> Message:
    return _message(ctx, _session(ctx, params), subject=_("Your seat is confirmed"),
                    body=_("Your seat in the majlis is confirmed. The join link opens 15 minutes before the start."))


@renders("registration_waitlisted")
def _waitlisted(ctx: RenderContext, params: dict) -> Message:
    return _message(ctx, _session(ctx, params), subject=_("You are on the waiting list"),
                    body=_("All seats are taken. You are number %(position)s in line; we will write as soon as a "
                           "seat is yours.", position=params["position"]))


@renders("registration_promoted")
def _promoted(ctx: RenderContext, params: dict) -> Message:
    return _message(ctx, _session(ctx, params), subject=_("A seat is now yours"),
                    body=_("A seat became free and it is now yours: your registration is confirmed."))


@renders("session_cancelled")
def _cancelled(ctx: RenderContext, params: dict) -> Message:
    majlis_session = _session(ctx, params)
    return _message(ctx, majlis_session, subject=_("The session is cancelled"),
                    body=_("We are sorry: the session you registered for is cancelled.") + "\n"
                    + (majlis_session.cancel_reason or ""))


@renders("session_moved")
def _moved(ctx: RenderContext, params: dict) -> Message:
    return _message(ctx, _session(ctx, params), subject=_("The session has a new time"),
                    body=_("The session you registered for has moved to a new time. Your registration stays."))


@renders("reminder_24h", "reminder_1h")
def _reminder(ctx: RenderContext, params: dict) -> Message:
    majlis_session = _session(ctx, params)
    registration = ctx.db_session.get(Registration, params["registration_id"])
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        raise Skip("the registration was withdrawn")
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Skip("the session was cancelled")
    if int(majlis_session.starts_at.timestamp()) != params["starts_at"]:
        raise Skip("the session moved: a reminder for the new time follows")
    return _message(ctx, majlis_session, subject=_("Reminder: your majlis session"),
                    body=_("This is a reminder of the session you registered for."))
