"""Messages to registrants, written to the outbox in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from majlis import cache
from majlis.auth.models import User
from majlis.enums import RegistrationStatus, SessionStatus
from majlis.notifications import services as outbox
from majlis.notifications.models import OutboxMessage
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from majlis.timeutil import format_hijri

REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


def language_of(locale: str | None) -> str:
    """The language of a user's messages: their choice when Majlis speaks it, else Arabic."""
    return locale if locale in ("ar", "en") else "ar"


def _locale(user: User) -> str:
    return language_of(user.locale)


def _when(majlis_session: MajlisSession, locale: str) -> str:
    """The start in words, Gregorian and Hijri (formatted once per start and language: a burst repeats it)."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    config = current_app.config
    key = (majlis_session.starts_at, locale, config["MAJLIS_TIMEZONE"], config["MAJLIS_HIJRI_ADJUST_DAYS"])

    def formatted():
        zone = ZoneInfo(config["MAJLIS_TIMEZONE"])
        local = majlis_session.starts_at.astimezone(zone)
        hijri = format_hijri(local.date(), locale, config["MAJLIS_HIJRI_ADJUST_DAYS"])
        return f"{format_datetime(local, 'full', locale=locale, tzinfo=zone)} ({hijri})"

    return cache.memo("majlis_session_when", key, formatted)


def _ics_key(majlis_session, locale: str) -> tuple:
    config = current_app.config
    return (majlis_session.id, majlis_session.sequence, majlis_session.updated_at, majlis_session.title_ar,
            majlis_session.title_en, SessionStatus(majlis_session.status).value, locale, config["MAJLIS_BASE_URL"])


def _ics(majlis_session: MajlisSession, locale: str) -> str:
    """The session's .ics for an e-mail, built once per version of the session (a burst of registrations for
    one session would otherwise build it again for every resident, inside the registration's write lock)."""
    from majlis.calendar.services import FeedContext, session_feed

    config = current_app.config

    def build() -> str:
        ctx = FeedContext(base_url=config["MAJLIS_BASE_URL"], timezone=config["MAJLIS_TIMEZONE"], lang=locale,
                          organizer_email=config["MAIL_DEFAULT_SENDER"])
        return session_feed(majlis_session, ctx).decode("utf-8")

    return cache.memo(_ICS_MEMO, _ics_key(majlis_session, locale), build)


_ICS_MEMO = "majlis_session_ics"


def _message(majlis_session, locale: str, *, kind: str, subject: str, body: str, ics: str) -> dict:
    """An outbox message's text: the subject, the body with the session's title, start and link, the .ics."""
    title = majlis_session.title_en if locale == "en" else majlis_session.title_ar
    link = f"{current_app.config['MAJLIS_BASE_URL']}/sessions/{majlis_session.id}"
    return {"kind": kind, "subject": f"{subject} — {title}",
            "body_text": f"{body}\n\n{title}\n{_when(majlis_session, locale)}\n{link}\n", "ics": ics}


def _send(db_session: Session, majlis_session: MajlisSession, user: User, *, kind: str, subject: str, body: str,
          now: datetime, dedupe_key: str | None = None) -> None:
    locale = _locale(user)
    outbox.enqueue(db_session, user=user, dedupe_key=dedupe_key, now=now,
                   **_message(majlis_session, locale, kind=kind, subject=subject, body=body,
                              ics=_ics(majlis_session, locale)))


def registered_message(majlis_session, locale: str, status: RegistrationStatus, position: int | None, *,
                       ics: str) -> dict:
    """The notice of a registration: a confirmed seat, or a place in line (in the registrant's language)."""
    with force_locale(locale):
        if status == RegistrationStatus.CONFIRMED:
            return _message(majlis_session, locale, kind="registration_confirmed", ics=ics,
                            subject=_("Your seat is confirmed"),
                            body=_("Your seat in the majlis is confirmed. The join link opens 15 minutes before "
                                   "the start."))
        return _message(majlis_session, locale, kind="registration_waitlisted", ics=ics,
                        subject=_("You are on the waiting list"),
                        body=_("All seats are taken. You are number %(position)s in line; we will write as soon "
                               "as a seat is yours.", position=position))


def registered(db_session: Session, majlis_session: MajlisSession, user: User, place, *, now: datetime) -> None:
    locale = _locale(user)
    outbox.enqueue(db_session, user=user, now=now, **registered_message(
        majlis_session, locale, place.status, place.position, ics=_ics(majlis_session, locale)))


def promoted(db_session: Session, majlis_session: MajlisSession, user: User, *, now: datetime) -> None:
    with force_locale(_locale(user)):
        _send(db_session, majlis_session, user, kind="registration_promoted", now=now,
              subject=_("A seat is now yours"),
              body=_("A seat became free and it is now yours: your registration is confirmed."))


def session_changed(db_session: Session, majlis_session: MajlisSession, *, now: datetime) -> int:
    """Tell every registrant that staff moved or cancelled the session."""
    users = db_session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.session_id == majlis_session.id, Registration.status != RegistrationStatus.CANCELLED))
    count = 0
    for user in users:
        with force_locale(_locale(user)):
            if majlis_session.status == SessionStatus.CANCELLED:
                _send(db_session, majlis_session, user, kind="session_cancelled", now=now,
                      subject=_("The session is cancelled"),
                      body=_("We are sorry: the session you registered for is cancelled.") + "\n"
                      + (majlis_session.cancel_reason or ""))
            else:
                _send(db_session, majlis_session, user, kind="session_moved", now=now,
                      subject=_("The session has a new time"),
                      body=_("The session you registered for has moved to a new time. Your registration stays."))
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
            key = f"reminder:{label}:{registration.id}:{int(majlis_session.starts_at.timestamp())}"
            if db_session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
                continue
            user = registration.user
            try:
                with db_session.begin_nested(), force_locale(_locale(user)):
                    _send(db_session, majlis_session, user, kind=f"reminder_{label}", now=now, dedupe_key=key,
                          subject=_("Reminder: your majlis session"),
                          body=_("This is a reminder of the session you registered for."))
                    db_session.flush()
            except IntegrityError:
                continue  # another scheduler queued it first
            queued += 1
    return queued
