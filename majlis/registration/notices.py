"""Notices to registrants: written to the outbox in the same transaction as the change they report (kind and ids
only, so a registration under the session's lock pays for one insert per channel), rendered when the scheduler
delivers them.

Rendering reads the data as it is at delivery: a notice shows the session's current title and time, and a reminder
whose registration was withdrawn, or whose session was cancelled or moved since it was queued, is skipped. Every
session notice carries the date in both calendars, the time, the join link (or the session's page) and, added at
delivery, the link that stops that kind of message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.enums import RegistrationStatus, SessionStatus
from majlis.notifications import services as outbox
from majlis.notifications.models import EMAIL, NotificationSettings, OutboxMessage
from majlis.notifications.rendering import Message, RenderContext, Skip, renders
from majlis.registration.models import Registration
from majlis.sessions.models import DEFAULT_REMINDER_MINUTES, MajlisSession, Series
from majlis.timeutil import format_hijri, zone_name

# No reminder is looked for further ahead than this (series and residents' own leads stay within it).
LONGEST_LEAD = timedelta(days=7)


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


def session_changed(db_session: Session, majlis_session: MajlisSession, *, now: datetime, moved: bool = False,
                    relocated: bool = False) -> int:
    """Tell every registrant (not cancelled) that staff cancelled the session, or changed it in one edit.

    One notice per edit: a new place or format is `session_relocated`, which also says the time when both changed
    (`moved` in its params); a new time alone is `session_moved`.
    """
    users = db_session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.session_id == majlis_session.id, Registration.status != RegistrationStatus.CANCELLED))
    params = {}
    if majlis_session.status == SessionStatus.CANCELLED:
        kind = "session_cancelled"
    elif relocated:
        kind = "session_relocated"
        params = {"moved": True} if moved else {}
    else:
        kind = "session_moved"
    count = 0
    for user in users:
        _notify(db_session, majlis_session, user, kind, now=now, **params)
        count += 1
    return count


def reminder_leads(series_minutes: Iterable[int] | None, own_minutes: int | None) -> list[int]:
    """The minutes before a start at which a registrant is reminded: the series' (or the default) and their own."""
    leads = set(DEFAULT_REMINDER_MINUTES if series_minutes is None else series_minutes)
    if own_minutes:
        leads.add(own_minutes)
    return sorted(lead for lead in leads if 0 < lead <= LONGEST_LEAD.total_seconds() // 60)


def due_reminder(starts_at: datetime, leads: Iterable[int], *, seated_at: datetime, now: datetime) -> int | None:
    """The lead of the reminder to send now, if any.

    A reminder is due from its moment (the start minus its lead) until the start, but only if that moment came after
    the seat became the resident's: registering 30 minutes before the start brings no 24 h or 1 h reminder. When
    several are due at once (the scheduler was down, or the session moved closer), only the nearest one goes.
    """
    due = [lead for lead in leads if seated_at <= starts_at - timedelta(minutes=lead) <= now < starts_at]
    return min(due) if due else None


def _label(minutes: int) -> str:
    # The keys of before reminder times were chosen ("24h", "1h") stay the same, so no reminder goes out twice.
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def send_reminders(db_session: Session, *, now: datetime) -> int:
    """Queue the reminders that have come due; each exists once (a unique key per registration, lead and start)."""
    rows = db_session.execute(
        select(Registration.id, Registration.user_id, Registration.confirmed_at, Registration.queued_at,
               MajlisSession.id, MajlisSession.starts_at, Series.reminder_minutes,
               NotificationSettings.reminder_minutes)
        .join(MajlisSession, MajlisSession.id == Registration.session_id)
        .outerjoin(Series, Series.id == MajlisSession.series_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == Registration.user_id)
        .where(Registration.status == RegistrationStatus.CONFIRMED,
               MajlisSession.status == SessionStatus.SCHEDULED,
               MajlisSession.starts_at > now,
               MajlisSession.starts_at <= now + LONGEST_LEAD)
        .order_by(MajlisSession.starts_at, Registration.id)).all()
    wanted: dict[str, tuple] = {}
    for registration_id, user_id, confirmed_at, queued_at, session_id, starts_at, series_leads, own in rows:
        lead = due_reminder(starts_at, reminder_leads(series_leads, own), seated_at=confirmed_at or queued_at, now=now)
        if lead is None:
            continue
        # Keyed on the start time too: after a move the reminder is due again for the new time.
        starts = int(starts_at.timestamp())
        wanted[f"reminder:{_label(lead)}:{registration_id}:{starts}"] = (registration_id, user_id, session_id,
                                                                          starts, lead)
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for key in db_session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))):
            wanted.pop(key, None)
    users = {user.id: user for user in db_session.scalars(
        select(User).where(User.id.in_({values[1] for values in wanted.values()})))} if wanted else {}
    queued = 0
    for key, (registration_id, user_id, session_id, starts, lead) in wanted.items():
        try:
            with db_session.begin_nested():
                outbox.enqueue(db_session, kind="reminder", user=users[user_id], now=now, dedupe_key=key,
                               params={"session_id": session_id, "registration_id": registration_id,
                                       "starts_at": starts, "lead_minutes": lead})
                db_session.flush()
        except IntegrityError:
            continue  # another scheduler queued it first
        queued += 1
    return queued


# Rendering, at delivery.

def session_of(ctx: RenderContext, params: dict) -> MajlisSession:
    majlis_session = ctx.db_session.get(MajlisSession, params["session_id"])
    if majlis_session is None:
        raise Skip("the session no longer exists")
    return majlis_session


def when(majlis_session: MajlisSession, ctx: RenderContext) -> tuple[str, str, str]:
    """The session's day (Gregorian), the same day in the Hijri calendar, and its hours, in the recipient's words."""
    from babel.dates import format_date, format_time

    zone = ZoneInfo(ctx.config["MAJLIS_TIMEZONE"])
    starts, ends = majlis_session.starts_at.astimezone(zone), majlis_session.ends_at.astimezone(zone)
    hijri = format_hijri(starts.date(), ctx.lang, ctx.config["MAJLIS_HIJRI_ADJUST_DAYS"])
    hours = (f"{format_time(starts, 'short', locale=ctx.lang)} – {format_time(ends, 'short', locale=ctx.lang)}"
             f" ({zone_name(zone, ctx.lang)})")
    return format_date(starts.date(), "full", locale=ctx.lang), hijri, hours


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


def _place_line(ctx: RenderContext, majlis_session: MajlisSession) -> str | None:
    """"Place: name, address" in the recipient's language, or None for a session without a hall."""
    if not (majlis_session.has_place and majlis_session.place_name_ar):
        return None
    place = majlis_session.place_name_en if ctx.lang == "en" else majlis_session.place_name_ar
    return _("Place: %(place)s", place=", ".join(p for p in (place, majlis_session.place_address) if p))


def session_message(ctx: RenderContext, majlis_session: MajlisSession, *, subject: str, body: str,
                    detail: str | None = None, join: bool = False,
                    attachments: tuple[tuple[str, str, bytes], ...] = ()) -> Message:
    """A session notice: what happened, the session's title, day in both calendars, hours and link, and (for an
    e-mail) the .ics.

    With `join`, the link is the video room's (the seat is the resident's); otherwise the session's page.
    """
    title = majlis_session.title_en if ctx.lang == "en" else majlis_session.title_ar
    base = ctx.config["MAJLIS_BASE_URL"]
    page = f"{base}/sessions/{majlis_session.id}"
    where = f"{page}/join" if join else page
    day, hijri, hours = when(majlis_session, ctx)
    lines = [body, ""]
    if detail:
        lines += [detail, ""]
    lines += [title, _("Date: %(day)s (%(hijri)s)", day=day, hijri=hijri) if hijri else _("Date: %(day)s", day=day),
              _("Time: %(hours)s", hours=hours)]
    place = _place_line(ctx, majlis_session)
    if place:
        lines.append(place)
        if majlis_session.map_url:
            lines.append(_("On the map: %(url)s", url=majlis_session.map_url))
    lines.append(_("Join the video room: %(url)s", url=where) if join else _("The session's page: %(url)s", url=page))
    if join:
        lines.append(_("The session's page: %(url)s", url=page))
    return Message(subject=f"{subject} — {title}", text="\n".join(lines) + "\n",
                   ics=_ics(majlis_session, ctx) if ctx.channel in ("", EMAIL) else None, link=page,
                   headline=subject, facts=tuple(fact for fact in (title, day, hijri, hours, where) if fact),
                   detail=detail, attachments=attachments if ctx.channel in ("", EMAIL) else ())


def _hall_seat(ctx: RenderContext, majlis_session: MajlisSession) -> Registration | None:
    """The recipient's registration for the session when it is a seat in the hall (with its check-in code)."""
    from majlis.enums import SeatMode

    registration = ctx.db_session.scalar(select(Registration).where(
        Registration.session_id == majlis_session.id, Registration.user_id == ctx.recipient.id))
    if registration is None or registration.mode != SeatMode.IN_PERSON or not registration.check_in_code:
        return None
    return registration


def _hall_message(ctx: RenderContext, majlis_session: MajlisSession, registration: Registration, *,
                  subject: str, body: str) -> Message:
    """A seat in the hall: the check-in code in the text, and its QR code attached to the e-mail."""
    from majlis.registration.qr import check_in_svg

    code = registration.check_in_code
    svg = check_in_svg(code, _("Check-in code %(code)s", code=code))
    return session_message(ctx, majlis_session, subject=subject, body=body,
                           detail=_("Your check-in code: %(code)s. Show it, or its QR code (attached), at the door.",
                                    code=code),
                           attachments=(("check-in-qr.svg", "image/svg+xml", svg.encode("utf-8")),))


@renders("registration_confirmed")
def _confirmed(ctx: RenderContext, params: dict) -> Message:
    majlis_session = session_of(ctx, params)
    hall = _hall_seat(ctx, majlis_session)
    if hall is not None:
        return _hall_message(ctx, majlis_session, hall, subject=_("Your seat in the hall is confirmed"),
                             body=_("Your seat in the hall is confirmed."))
    return session_message(ctx, majlis_session, subject=_("Your seat is confirmed"), join=True,
                           body=_("Your seat in the majlis is confirmed. The join link opens 15 minutes before the "
                                  "start."))


@renders("registration_waitlisted")
def _waitlisted(ctx: RenderContext, params: dict) -> Message:
    return session_message(ctx, session_of(ctx, params), subject=_("You are on the waiting list"),
                           body=_("All seats are taken. You are number %(position)s in line; we will write as soon as "
                                  "a seat is yours.", position=params["position"]))


@renders("registration_promoted")
def _promoted(ctx: RenderContext, params: dict) -> Message:
    majlis_session = session_of(ctx, params)
    hall = _hall_seat(ctx, majlis_session)
    if hall is not None:
        return _hall_message(ctx, majlis_session, hall, subject=_("A seat in the hall is now yours"),
                             body=_("A seat in the hall became free and it is now yours: your registration is "
                                    "confirmed."))
    return session_message(ctx, majlis_session, subject=_("A seat is now yours"), join=True,
                           body=_("A seat became free and it is now yours: your registration is confirmed."))


@renders("session_cancelled")
def _cancelled(ctx: RenderContext, params: dict) -> Message:
    majlis_session = session_of(ctx, params)
    return session_message(ctx, majlis_session, subject=_("The session is cancelled"),
                           body=_("We are sorry: the session you registered for is cancelled."),
                           detail=majlis_session.cancel_reason or None)


@renders("session_moved")
def _moved(ctx: RenderContext, params: dict) -> Message:
    return session_message(ctx, session_of(ctx, params), subject=_("The session has a new time"),
                           body=_("The session you registered for has moved to a new time. Your registration "
                                  "stays."))


@renders("session_relocated")
def _relocated(ctx: RenderContext, params: dict) -> Message:
    """A new place or format (and, with `moved`, a new time in the same edit); the message shows where it is now."""
    majlis_session = session_of(ctx, params)
    if not majlis_session.has_place:  # no hall any more: nobody should go to the old one
        if params.get("moved"):
            subject = _("The session has a new time and is now online only")
            body = _("The session you registered for has moved to a new time and is no longer held in a hall: it is "
                     "now online only. Your registration stays.")
        else:
            subject = _("The session is now online only")
            body = _("The session you registered for is no longer held in a hall: it is now online only. Your "
                     "registration stays.")
    elif params.get("moved"):
        subject = _("The session has a new time and place")
        body = _("The session you registered for has moved to a new time and will be held at a new place. Your "
                 "registration stays.")
    else:
        subject = _("The session has a new place")
        body = _("The session you registered for will be held at a new place. Your registration stays.")
    message = session_message(ctx, majlis_session, subject=subject, body=body)
    place = _place_line(ctx, majlis_session)
    if place:  # the short forms (SMS, push) show the facts only: the new place is one of them, before the link
        message = replace(message, facts=(*message.facts[:-1], place, message.facts[-1]))
    return message


def lead_in_words(minutes: int, lang: str) -> str:
    """"1 hour", "24 hours", "90 minutes", "2 days" in the recipient's language."""
    from babel.dates import format_timedelta

    unit = "day" if minutes % 1440 == 0 and minutes > 1440 else "hour" if minutes % 60 == 0 else "minute"
    return format_timedelta(timedelta(minutes=minutes), granularity=unit, threshold=10**6, locale=lang)


@renders("reminder", "reminder_24h", "reminder_1h")
def _reminder(ctx: RenderContext, params: dict) -> Message:
    majlis_session = session_of(ctx, params)
    registration = ctx.db_session.get(Registration, params["registration_id"])
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        raise Skip("the registration was withdrawn")
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Skip("the session was cancelled")
    if int(majlis_session.starts_at.timestamp()) != params["starts_at"]:
        raise Skip("the session moved: a reminder for the new time follows")
    lead = params.get("lead_minutes") or {"reminder_24h": 24 * 60, "reminder_1h": 60}[ctx.kind]
    return session_message(ctx, majlis_session, join=True,
                           subject=_("Reminder: your majlis session starts in %(lead)s",
                                     lead=lead_in_words(lead, ctx.lang)),
                           body=_("This is a reminder of the session you registered for."))
