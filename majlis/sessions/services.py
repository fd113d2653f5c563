"""Series and their occurrences. Services take `now` and the acting user; callers own the transaction."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.enums import Role, SeriesKind, Visibility
from majlis.errors import InvalidInput
from majlis.sessions.models import MajlisSession, Series
from majlis.sessions.recurrence import RecurrenceError, occurrences, parse_rule

DEFAULT_HORIZON = timedelta(weeks=26)
_ROOM_ALPHABET = string.ascii_lowercase + string.digits


def new_room_name() -> str:
    """A stable, unguessable Jitsi room name: lowercase ASCII only (Jitsi lowercases room names)."""
    return "majlis-" + "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(24))


def _enum(enum_cls, value, field: str):
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(_l("Choose one of: %(allowed)s.", allowed=allowed), field=field) from None


def _positive_int(value, field: str, *, minimum: int = 1, maximum: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(_l("Enter a whole number."), field=field)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(_l("Enter a whole number."), field=field) from None
    if not minimum <= number <= maximum:
        raise InvalidInput(
            _l("Enter a number from %(minimum)s to %(maximum)s.", minimum=minimum, maximum=maximum), field=field
        )
    return number


def _title(value, field: str) -> str:
    title = " ".join(str(value or "").split())
    if not 2 <= len(title) <= 200:
        raise InvalidInput(_l("Enter a title of 2 to 200 characters."), field=field)
    return title


def parse_local_wall_time(value, field: str) -> datetime:
    """Parse `YYYY-MM-DDTHH:MM` as a naive local wall time."""
    try:
        parsed = datetime.strptime(str(value or ""), "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - wall time
    except ValueError:
        raise InvalidInput(_l("Enter a date and time as YYYY-MM-DDTHH:MM."), field=field) from None
    return parsed


def create_series(db_session: Session, data: dict, *, actor: User | None, zone: ZoneInfo, now: datetime,
                  horizon: timedelta = DEFAULT_HORIZON) -> Series:
    """Validate and add a series, then store its occurrences up to the horizon."""
    kind = _enum(SeriesKind, data.get("kind"), "kind")
    visibility = _enum(Visibility, data.get("visibility", "public"), "visibility")
    first_start = parse_local_wall_time(data.get("first_start"), "first_start")
    rule = str(data.get("rrule") or "")
    try:
        parse_rule(rule, first_start)
    except RecurrenceError:
        raise InvalidInput(_l("The recurrence rule is not a valid RRULE (e.g. FREQ=WEEKLY;BYDAY=TU)."),
                           field="rrule") from None
    series = Series(
        kind=kind,
        title_ar=_title(data.get("title_ar"), "title_ar"),
        title_en=_title(data.get("title_en"), "title_en"),
        description_ar=str(data.get("description_ar") or ""),
        description_en=str(data.get("description_en") or ""),
        rrule=rule.removeprefix("RRULE:"),
        timezone=zone.key,
        first_start_local=first_start,
        duration_minutes=_positive_int(data.get("duration_minutes"), "duration_minutes", maximum=24 * 60),
        capacity=_positive_int(data.get("capacity"), "capacity"),
        registration_opens_days=_positive_int(data.get("registration_opens_days", 7), "registration_opens_days",
                                              minimum=0, maximum=365),
        registration_closes_minutes=_positive_int(data.get("registration_closes_minutes", 60),
                                                  "registration_closes_minutes", minimum=0, maximum=7 * 24 * 60),
        visibility=visibility,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    db_session.add(series)
    db_session.flush()
    materialize_series(db_session, series, now=now, horizon=horizon)
    return series


def materialize_series(db_session: Session, series: Series, *, now: datetime,
                       horizon: timedelta = DEFAULT_HORIZON) -> int:
    """Store the series' occurrences from now up to the horizon; return how many were new (idempotent)."""
    zone = ZoneInfo(series.timezone)
    until = now + horizon
    start = series.materialized_until or (now - timedelta(days=1))
    if start >= until:
        return 0
    existing = set(
        db_session.scalars(
            select(MajlisSession.original_starts_at).where(
                MajlisSession.series_id == series.id, MajlisSession.original_starts_at >= start
            )
        )
    )
    created = 0
    duration = timedelta(minutes=series.duration_minutes)
    for _local, starts_at in occurrences(series.rrule, series.first_start_local, zone, start, until):
        if series.ends_on and _local.date() > series.ends_on:
            break
        if starts_at in existing:
            continue
        db_session.add(
            MajlisSession(
                series_id=series.id,
                kind=series.kind,
                title_ar=series.title_ar,
                title_en=series.title_en,
                description_ar=series.description_ar,
                description_en=series.description_en,
                visibility=series.visibility,
                starts_at=starts_at,
                ends_at=starts_at + duration,
                original_starts_at=starts_at,
                capacity=series.capacity,
                registration_opens_at=starts_at - timedelta(days=series.registration_opens_days),
                registration_closes_at=starts_at - timedelta(minutes=series.registration_closes_minutes),
                room_name=new_room_name(),
                created_at=now,
                updated_at=now,
            )
        )
        created += 1
    series.materialized_until = until
    db_session.flush()
    return created


def visible_filter(viewer: User | None):
    """SQL condition for the sessions a viewer may see listed."""
    if viewer is not None and (viewer.is_moderator or viewer.role == Role.OFFICIAL):
        return true()
    return MajlisSession.visibility == Visibility.PUBLIC


def upcoming_sessions(db_session: Session, *, viewer: User | None, now: datetime, limit: int = 20):
    """Sessions that have not ended yet, soonest first (cancelled ones stay listed, marked)."""
    query = (
        select(MajlisSession)
        .where(MajlisSession.ends_at > now, visible_filter(viewer))
        .order_by(MajlisSession.starts_at, MajlisSession.id)
        .limit(limit)
    )
    return list(db_session.scalars(query))
