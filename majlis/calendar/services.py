"""Calendar feeds: turn series and sessions into the pure builder's data; personal feed secrets."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from majlis.auth import permissions
from majlis.auth.models import User
from majlis.calendar import ical
from majlis.calendar.models import CalendarFeed
from majlis.enums import InvitationResponse, RegistrationStatus, SeriesKind, SessionStatus, Visibility
from majlis.errors import NotFound
from majlis.registration.models import Registration
from majlis.security import new_token
from majlis.sessions.models import Invitation, MajlisSession, Series
from majlis.sessions.recurrence import parse_rule
from majlis.templating import current_lang


@dataclass(frozen=True)
class FeedContext:
    """What the builder needs from the app: links, zone, language, organizer."""

    base_url: str
    timezone: str
    lang: str = "ar"
    organizer_email: str = "majlis@localhost"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or "majlis.local"

    def session_url(self, session_id: int) -> str:
        return f"{self.base_url}/sessions/{session_id}"

    def join_url(self, session_id: int) -> str:
        return f"{self.base_url}/sessions/{session_id}/join"


def _title(obj, lang: str) -> str:
    return obj.title_en if lang == "en" else obj.title_ar


def _description(obj, lang: str) -> str:
    return obj.description_en if lang == "en" else obj.description_ar


def _feed_info(ctx: FeedContext, uid: str, name: str, description: str) -> ical.FeedInfo:
    return ical.FeedInfo(
        name=name, description=description, uid=f"{uid}@{ctx.domain}", domain=ctx.domain, timezone=ctx.timezone,
        organizer_email=ctx.organizer_email,
        organizer_name=str(_l("Capital Governorate — Governor's office")),
        location=str(_l("Online (video meeting)")),
    )


def _event_info(row: MajlisSession, ctx: FeedContext, *, with_join: bool) -> ical.EventInfo:
    return ical.EventInfo(
        id=row.id,
        summary=_title(row, ctx.lang),
        description=_description(row, ctx.lang),
        url=ctx.session_url(row.id),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        stamp=row.updated_at,
        created=row.created_at,
        sequence=row.sequence,
        original_starts_at=row.original_starts_at,
        cancelled=row.status == SessionStatus.CANCELLED,
        cancel_reason=row.cancel_reason,
        # The join link for online seats: an in-person session has no room to join.
        join_url=ctx.join_url(row.id) if with_join and row.has_room else None,
        location=_location(row, ctx.lang),
        geo=_geo(row),
    )


def _location(row: MajlisSession | Series, lang: str) -> str | None:
    """Where an in-person or hybrid session (or series) is held: the place's name and address (None online)."""
    if not row.has_place or row.place_name_ar is None:
        return None
    name = row.place_name_en if lang == "en" else row.place_name_ar
    return ", ".join(part for part in (name, row.place_address) if part)


def _geo(row: MajlisSession | Series) -> tuple[float, float] | None:
    """Return the place's latitude and longitude, or None without them."""
    return (row.latitude, row.longitude) if row.latitude is not None and row.longitude is not None else None


def series_until(series: Series) -> datetime | None:
    """Return the last instant an occurrence may start: the end of `ends_on`, or the rule's own COUNT/UNTIL."""
    zone = ZoneInfo(series.timezone)
    candidates = []
    if series.ends_on is not None:
        candidates.append(datetime.combine(series.ends_on, time(23, 59, 59), tzinfo=zone))
    parts = {part.split("=", 1)[0] for part in series.rrule.upper().split(";")}
    if parts & {"COUNT", "UNTIL"}:  # a rule with an end of its own: its last occurrence
        instances = list(parse_rule(series.rrule, series.first_start_local))
        if instances:
            candidates.append(instances[-1].replace(tzinfo=zone))
    return min(candidates) if candidates else None


def _series_info(series: Series, rows: list[MajlisSession], ctx: FeedContext) -> ical.SeriesInfo | None:
    rows = [row for row in rows if row.original_starts_at is not None]
    if not rows:
        return None
    until = series_until(series)
    if until is not None:
        rows = [row for row in rows if row.original_starts_at <= until]
    if not rows:
        return None
    first = min(rows, key=lambda row: row.original_starts_at)
    return ical.SeriesInfo(
        id=series.id,
        summary=_title(series, ctx.lang),
        description=_description(series, ctx.lang),
        url=ctx.session_url(first.id),
        rrule=series.rrule,
        master_start=first.original_starts_at,
        duration=timedelta(minutes=series.duration_minutes),
        stamp=series.updated_at,
        created=series.created_at,
        sequence=series.sequence,
        until=until,
        occurrences=tuple(_event_info(row, ctx, with_join=False) for row in rows),
        location=_location(series, ctx.lang),
        geo=_geo(series),
    )


def public_feed(db_session: Session, ctx: FeedContext, *, series_id: int | None = None) -> bytes:
    """Build the feed of all public sessions (or one public series): series as masters, one-off sessions as events."""
    series_query = select(Series).where(Series.visibility == Visibility.PUBLIC)
    if series_id is not None:
        series_query = series_query.where(Series.id == series_id)
    all_series = list(db_session.scalars(series_query.order_by(Series.id)))
    if series_id is not None and not all_series:
        raise NotFound()
    rows_by_series: dict[int, list[MajlisSession]] = defaultdict(list)
    if all_series:
        for row in db_session.scalars(select(MajlisSession).where(
                MajlisSession.series_id.in_([s.id for s in all_series]))):
            rows_by_series[row.series_id].append(row)
    series_infos = [info for s in all_series if (info := _series_info(s, rows_by_series[s.id], ctx)) is not None]
    events = []
    if series_id is None:
        events = [_event_info(row, ctx, with_join=False) for row in db_session.scalars(
            select(MajlisSession).where(MajlisSession.series_id.is_(None),
                                        MajlisSession.visibility == Visibility.PUBLIC))]
        uid, name = "majlis-public", str(_l("The Governor's Majlis"))
    else:
        uid, name = f"majlis-series-{series_id}", _title(all_series[0], ctx.lang)
    feed = _feed_info(ctx, uid, name, str(_l("Sessions of the Capital Governor's majlis")))
    return ical.build_calendar(feed, series=series_infos, events=events, join_label=str(_l("Join the session")))


def session_feed(row: MajlisSession, ctx: FeedContext) -> bytes:
    """Build the .ics of one session, without its join link."""
    feed = _feed_info(ctx, f"majlis-session-{row.id}", _title(row, ctx.lang),
                      str(_l("Sessions of the Capital Governor's majlis")))
    return ical.build_calendar(feed, events=[_event_info(row, ctx, with_join=False)],
                               join_label=str(_l("Join the session")))


PERSONAL_PAST = timedelta(days=60)


def personal_sessions(db_session: Session, user: User, *, now: datetime) -> list[MajlisSession]:
    """List the sessions the user registered for; staff, moderators and officials also get the coordinating ones."""
    registered = select(Registration.session_id).where(
        Registration.user_id == user.id,
        Registration.status.in_([RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]))
    invited = select(Invitation.session_id).where(
        or_(Invitation.user_id == user.id,
            Invitation.body_id == user.body_id if user.body_id is not None else false()),
        Invitation.response != InvitationResponse.DECLINED)
    condition = or_(MajlisSession.id.in_(registered), MajlisSession.id.in_(invited))
    if permissions.sees_all_sessions(user.role):
        condition = or_(condition, MajlisSession.kind == SeriesKind.COORDINATING)
    return list(db_session.scalars(
        select(MajlisSession).where(condition, MajlisSession.ends_at > now - PERSONAL_PAST)
        .order_by(MajlisSession.starts_at, MajlisSession.id)))


def personal_feed(db_session: Session, user: User, ctx: FeedContext, *, now: datetime) -> bytes:
    """Build the user's personal .ics: their sessions, with join links."""
    rows = personal_sessions(db_session, user, now=now)
    feed = _feed_info(ctx, f"majlis-personal-{user.id}", str(_l("My majlis sessions")),
                      str(_l("The sessions you registered for, with their join links")))
    return ical.build_calendar(feed, events=[_event_info(row, ctx, with_join=True) for row in rows],
                               join_label=str(_l("Join the session")))


def export_feed(rows: list[MajlisSession], ctx: FeedContext) -> bytes:
    """Build the staff export: every session in the range as its own event, with join links."""
    feed = _feed_info(ctx, "majlis-export", str(_l("Majlis sessions (export)")),
                      str(_l("Sessions of the Capital Governor's majlis")))
    return ical.build_calendar(feed, events=[_event_info(row, ctx, with_join=True) for row in rows],
                               join_label=str(_l("Join the session")))


EXPORT_LIMIT = 100_000


def export_calendar(db_session: Session, query, ctx: FeedContext, *, viewer: User) -> tuple[int, bytes]:
    """Build the staff export (the CLI's `export-ics` and the staff calendar's download): every session the viewer sees
    listed for the query (a `sessions.services.SessionQuery`), invitation-only and cancelled ones included; return
    how many sessions it holds and the iCalendar file."""
    from majlis.sessions.services import list_sessions

    rows = list_sessions(db_session, query, viewer=viewer, limit=EXPORT_LIMIT)
    return len(rows), export_feed(rows, ctx)


# --- personal feed secrets ----------------------------------------------------------------------------------------


def current_feed(db_session: Session, user: User) -> CalendarFeed | None:
    """Return the user's live personal feed, or None."""
    return db_session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                        CalendarFeed.revoked_at.is_(None)))


def issue_feed(db_session: Session, user: User, *, now: datetime) -> CalendarFeed:
    """Give the user a personal feed URL, revoking any earlier one."""
    previous = current_feed(db_session, user)
    if previous is not None:
        previous.revoked_at = now
    feed = CalendarFeed(user_id=user.id, secret=new_token(nbytes=24), created_at=now)
    db_session.add(feed)
    db_session.flush()
    return feed


def revoke_feed(db_session: Session, user: User, *, now: datetime) -> bool:
    """Switch off the user's personal feed link; return whether there was one."""
    previous = current_feed(db_session, user)
    if previous is None:
        return False
    previous.revoked_at = now
    return True


def user_for_feed(db_session: Session, secret: str) -> User:
    """Return the user owning a live personal feed secret; 404 otherwise."""
    feed = db_session.scalar(select(CalendarFeed).where(CalendarFeed.secret == secret,
                                                        CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        raise NotFound()
    user = db_session.get(User, feed.user_id)
    if user is None or user.is_disabled:
        raise NotFound()
    return user


def erase_account_data(db_session: Session, user: User, *, now: datetime) -> None:
    """Revoke the user's personal calendar feed links."""
    for feed in db_session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                              CalendarFeed.revoked_at.is_(None))):
        feed.revoked_at = now


def feed_context() -> FeedContext:
    """Build the feed context from the app's configuration and the request's language."""
    config = current_app.config
    return FeedContext(base_url=config["MAJLIS_BASE_URL"], timezone=config["MAJLIS_TIMEZONE"],
                                lang=current_lang(), organizer_email=config["MAIL_DEFAULT_SENDER"])


def ics_response(body: bytes, *, filename: str, private: bool = False, etag: str | None = None,
                 attachment: bool = False) -> Response:
    """Serve a feed with an ETag (of its bytes unless given), answering 304 to a matching If-None-Match; as a
    download (`attachment`) or to be shown or subscribed to."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache" if private else "public, no-cache"
    if private:
        response.headers["Referrer-Policy"] = "no-referrer"
    response.set_etag(etag or hashlib.sha256(body).hexdigest()[:32])
    return response.make_conditional(request)
