"""Series and their occurrences. Services take `now` and the acting user; callers own the transaction."""

from __future__ import annotations

import functools
import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, true
from sqlalchemy.orm import Session

from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.directory import services as directory
from majlis.directory.models import Area
from majlis.enums import Role, SeriesKind, SessionFormat, SessionStatus, Visibility
from majlis.errors import MAX_ID, Conflict, InvalidInput, NotFound
from majlis.sessions import hooks
from majlis.sessions.models import MajlisSession, Series
from majlis.sessions.recurrence import RecurrenceError, occurrences, parse_rule
from majlis.sessions.schemas import MAX_REMINDERS, REMINDER_RANGE, TITLE_MAX, TITLE_MIN
from majlis.sessions.schemas import TEXT_MAX as MAX_TEXT

DEFAULT_HORIZON = timedelta(weeks=26)
_ROOM_ALPHABET = string.ascii_lowercase + string.digits


def new_room_name() -> str:
    """Make a stable, unguessable Jitsi room name: lowercase ASCII only (Jitsi lowercases room names)."""
    return "majlis-" + "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(24))


# --- input checks -------------------------------------------------------------------------------------------------


def _enum(enum_cls, value, field: str):
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(_l("Choose one of: %(allowed)s.", allowed=allowed), field=field) from None


def _int_in_range(value, field: str, *, minimum: int = 1, maximum: int = 100_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(_l("Enter a whole number."), field=field)
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(_l("Enter a whole number."), field=field) from None
    if not minimum <= number <= maximum:
        raise InvalidInput(_l("Enter a number from %(minimum)s to %(maximum)s.", minimum=minimum, maximum=maximum),
                           field=field)
    return number


def _title(value, field: str) -> str:
    title = " ".join(str(value or "").split())
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise InvalidInput(_l("Enter a title of %(minimum)s to %(maximum)s characters.", minimum=TITLE_MIN,
                              maximum=TITLE_MAX), field=field)
    return title


def _text(value, field: str) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(_l("The text is too long (at most %(n)s characters).", n=MAX_TEXT), field=field)
    return text


def _stream_url(value, field: str = "stream_url") -> str | None:
    from majlis.sessions.streams import StreamURLError, check

    try:
        return check(value)
    except StreamURLError:
        raise InvalidInput(_l("Give the stream's https address (YouTube, PeerTube or another player), or nothing."),
                           field=field) from None


def _flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_l("Say yes or no."), field=field)
    return value


# Dates Majlis accepts: the Umm al-Qura tables behind the Hijri dates run to November 2077.
FIRST_YEAR, LAST_YEAR = 2000, 2076


def _in_range(moment, field: str):
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InvalidInput(_l("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
                           field=field)
    return moment


def _reminders(value, field: str = "reminder_minutes") -> list[int]:
    """Reminder leads in minutes, largest first: up to MAX_REMINDERS whole numbers within REMINDER_RANGE."""
    low, high = REMINDER_RANGE
    if not isinstance(value, list | tuple) or len(value) > MAX_REMINDERS:
        raise InvalidInput(_l("Give at most %(count)s reminders.", count=MAX_REMINDERS), field=field)
    leads = {_int_in_range(lead, field, minimum=low, maximum=high) for lead in value}
    return sorted(leads, reverse=True)


@dataclass(frozen=True)
class Venue:
    """Where a session (or every occurrence of a series) is held and its seats: the columns `_venue` checked
    together, the same names on `MajlisSession` and `Series` (`models.Venued` and `capacity`)."""

    format: SessionFormat
    capacity: int  # the online pool (0 in person only)
    in_person_capacity: int  # the hall's pool (0 online)
    place_name_ar: str | None = None
    place_name_en: str | None = None
    place_address: str | None = None
    place_area_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None

    def where(self) -> tuple:
        """Where it is held, without the seats: the format and the place (a change of it is told to registrants)."""
        return tuple(getattr(self, name) for name in Venue.__dataclass_fields__
                     if name not in ("capacity", "in_person_capacity"))


PLACE_FIELDS = ("name_ar", "name_en", "address", "area_id", "lat", "lon")


def _coordinate(value, field: str, limit: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(_l("Enter a number from %(low)s to %(high)s.", low=-limit, high=limit), field=field)
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not -limit <= number <= limit:  # also refuses NaN and infinities
        raise InvalidInput(_l("Enter a number from %(low)s to %(high)s.", low=-limit, high=limit), field=field)
    return round(number, 7)


def _venue(db_session: Session, data: dict, current: MajlisSession | Series | None) -> Venue:
    """The format, seats and place a session or series will have after `data` (a new one's, or a change to
    `current`).

    An in-person or hybrid session needs a place (names in both languages; address, area and coordinates as known)
    and hall seats; an online or hybrid one needs online seats; an in-person session has none online. A series
    follows the same rule for the occurrences it produces.
    """
    def given(name, default):
        return data[name] if name in data else default

    session_format = _enum(SessionFormat, given("format", current.format if current else None) or "online", "format")
    has_room, has_place = session_format != SessionFormat.IN_PERSON, session_format != SessionFormat.ONLINE
    capacity = 0
    if has_room:
        capacity = _int_in_range(given("capacity", current.capacity if current else None), "capacity")
    if not has_place:
        if data.get("place") or data.get("in_person_capacity"):
            raise InvalidInput(_l("An online session has no place and no hall seats."),
                               field="place" if data.get("place") else "in_person_capacity")
        return Venue(session_format, capacity, 0)
    in_person_capacity = _int_in_range(given("in_person_capacity", current.in_person_capacity if current else None),
                                       "in_person_capacity")
    if "place" in data or current is None or current.place_name_ar is None:
        place = data.get("place")
        if not isinstance(place, dict):
            raise InvalidInput(_l("Give the place: its names in Arabic and English, its address and area, and its "
                                  "latitude and longitude if known."), field="place")
        unknown = set(place) - set(PLACE_FIELDS)
        if unknown:
            raise InvalidInput(_l("This field cannot be changed here."), field=f"place.{sorted(unknown)[0]}")
        address = " ".join(str(place.get("address") or "").split())
        if len(address) > 300:
            raise InvalidInput(_l("The address is too long (at most 300 characters)."), field="place.address")
        area_id = place.get("area_id")
        if area_id not in (None, ""):
            area_id = _int_in_range(area_id, "place.area_id", maximum=MAX_ID)
            if db_session.get(Area, area_id) is None:
                raise InvalidInput(_l("Choose one of the areas."), field="place.area_id")
        else:
            area_id = None
        lat, lon = _coordinate(place.get("lat"), "place.lat", 90), _coordinate(place.get("lon"), "place.lon", 180)
        if (lat is None) != (lon is None):
            raise InvalidInput(_l("Give both the latitude and the longitude, or neither."),
                               field="place.lon" if lon is None else "place.lat")
        names = (_title(place.get("name_ar"), "place.name_ar"), _title(place.get("name_en"), "place.name_en"))
        return Venue(session_format, capacity, in_person_capacity, *names, address or None, area_id, lat, lon)
    return Venue(session_format, capacity, in_person_capacity, current.place_name_ar, current.place_name_en,
                 current.place_address, current.place_area_id, current.latitude, current.longitude)


def _check_pools(row: MajlisSession, venue: Venue) -> None:
    """A pool that people hold seats in (or wait for) cannot be taken away by a change of format."""
    if not venue.in_person_capacity and (row.in_person_confirmed_count or row.in_person_waitlist_count):
        raise Conflict(_l("Residents are registered for the hall: the session must keep its place."),
                       code="seats_taken")
    if not venue.capacity and (row.confirmed_count or row.waitlist_count):
        raise Conflict(_l("Residents are registered online: the session must keep its online seats."),
                       code="seats_taken")


def _apply_venue(row: MajlisSession | Series, venue: Venue) -> None:
    for name in Venue.__dataclass_fields__:
        setattr(row, name, getattr(venue, name))


def _venue_of(row: MajlisSession | Series) -> Venue:
    """Return the venue a session or series has now."""
    return Venue(**{name: getattr(row, name) for name in Venue.__dataclass_fields__})


def parse_local_wall_time(value, field: str) -> datetime:
    """Parse `YYYY-MM-DDTHH:MM` as a naive local wall time."""
    try:
        parsed = datetime.strptime(str(value or ""), "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - wall time
    except ValueError:
        raise InvalidInput(_l("Enter a date and time as YYYY-MM-DDTHH:MM."), field=field) from None
    return _in_range(parsed, field)


def parse_instant(value, field: str, zone: ZoneInfo) -> datetime:
    """Parse an ISO 8601 instant; without an offset it is the governorate's wall time."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value or "").strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(_l("Enter a date and time in ISO 8601, e.g. 2026-12-01T19:00+03:00."),
                               field=field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    _in_range(parsed, field)
    return parsed.astimezone(ZoneInfo("UTC"))


def parse_day(value, field: str) -> date:
    """Parse a YYYY-MM-DD date within the allowed range; raise InvalidInput otherwise."""
    try:
        day = date.fromisoformat(str(value or ""))
    except ValueError:
        raise InvalidInput(_l("Enter a date as YYYY-MM-DD."), field=field) from None
    return _in_range(day, field)


def _check_rule(rule: str, anchor: datetime) -> str:
    try:
        parse_rule(rule, anchor)
    except RecurrenceError:
        raise InvalidInput(_l("The recurrence rule is not a valid RRULE (e.g. FREQ=WEEKLY;BYDAY=TU)."),
                           field="rrule") from None
    return rule.strip().removeprefix("RRULE:")


def _first_instance(rule: str, anchor: datetime) -> datetime:
    """The first occurrence of the rule at or after a naive local anchor (so DTSTART is an instance)."""
    first = parse_rule(rule, anchor).after(anchor, inc=True)
    if first is None:
        raise InvalidInput(_l("The rule produces no occurrence after its first start."), field="rrule")
    return first


# --- series -------------------------------------------------------------------------------------------------------


def create_series(db_session: Session, data: dict, *, actor: User | None, zone: ZoneInfo, now: datetime,
                  horizon: timedelta = DEFAULT_HORIZON) -> Series:
    """Validate and add a series, then store its occurrences up to the horizon.

    Where it is held (`format`, `place`, `in_person_capacity`, with `capacity` the online seats) follows the
    one-off session's rule (`_venue`); every occurrence is held there.
    """
    kind = _enum(SeriesKind, data.get("kind"), "kind")
    visibility = _enum(Visibility, data.get("visibility") or "public", "visibility")
    anchor = parse_local_wall_time(data.get("first_start"), "first_start")
    rule = _check_rule(str(data.get("rrule") or ""), anchor)
    series = Series(
        kind=kind,
        title_ar=_title(data.get("title_ar"), "title_ar"),
        title_en=_title(data.get("title_en"), "title_en"),
        description_ar=_text(data.get("description_ar"), "description_ar"),
        description_en=_text(data.get("description_en"), "description_en"),
        rrule=rule,
        timezone=zone.key,
        first_start_local=_first_instance(rule, anchor),
        duration_minutes=_int_in_range(data.get("duration_minutes"), "duration_minutes", maximum=24 * 60),
        registration_opens_days=_int_in_range(data.get("registration_opens_days", 7), "registration_opens_days",
                                              minimum=0, maximum=365),
        registration_closes_minutes=_int_in_range(data.get("registration_closes_minutes", 60),
                                                  "registration_closes_minutes", minimum=0, maximum=7 * 24 * 60),
        visibility=visibility,
        reminder_minutes=_reminders(data["reminder_minutes"]) if data.get("reminder_minutes") is not None else None,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    _apply_venue(series, _venue(db_session, data, None))
    db_session.add(series)
    db_session.flush()
    materialize_series(db_session, series, now=now, horizon=horizon)
    audit.record(db_session, actor_id=actor.id if actor else None, action="series.create", object_type="series",
                 object_id=series.id, now=now)
    return series


def _occurrence_row(series: Series, starts_at: datetime, now: datetime) -> MajlisSession:
    row = MajlisSession(
        series_id=series.id,
        kind=series.kind,
        title_ar=series.title_ar,
        title_en=series.title_en,
        description_ar=series.description_ar,
        description_en=series.description_en,
        visibility=series.visibility,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=series.duration_minutes),
        original_starts_at=starts_at,
        registration_opens_at=starts_at - timedelta(days=series.registration_opens_days),
        registration_closes_at=starts_at - timedelta(minutes=series.registration_closes_minutes),
        room_name=new_room_name(),
        created_at=now,
        updated_at=now,
    )
    _apply_venue(row, _venue_of(series))  # held where the series is, with its seats
    return row


def series_instants(series: Series, start: datetime, end: datetime) -> list[datetime]:
    """List the UTC starts the series' rule gives in [start, end), honouring its last day."""
    zone = ZoneInfo(series.timezone)
    found = []
    for local, instant in occurrences(series.rrule, series.first_start_local, zone, start, end):
        if series.ends_on and local.date() > series.ends_on:
            break
        found.append(instant)
    return found


def materialize_series(db_session: Session, series: Series, *, now: datetime,
                       horizon: timedelta = DEFAULT_HORIZON) -> int:
    """Store the series' occurrences from now up to the horizon; return how many were new (idempotent)."""
    until = now + horizon
    start = series.materialized_until or (now - timedelta(days=1))
    if start >= until:
        return 0
    existing = set(db_session.scalars(
        select(MajlisSession.original_starts_at).where(MajlisSession.series_id == series.id,
                                                       MajlisSession.original_starts_at >= start)
    ))
    new_rows = [_occurrence_row(series, starts_at, now)
                for starts_at in series_instants(series, start, until) if starts_at not in existing]
    db_session.add_all(new_rows)
    series.materialized_until = until
    db_session.flush()
    if series.visibility == Visibility.INVITED:
        for row in new_rows:  # in order, so each copies its invitations from the one before
            hooks.occurrence_created(db_session, row)
        db_session.flush()
    return len(new_rows)


def _has_people(db_session: Session, majlis_session: MajlisSession) -> bool:
    """Whether anyone registered for or asked in this session (then it is cancelled, never deleted)."""
    return hooks.in_use(db_session, majlis_session)


def _retire_rows(db_session: Session, rows: list[MajlisSession], *, reason: str, actor: User | None,
                 now: datetime) -> None:
    """Drop future occurrences nobody used; cancel (and keep) those residents registered or asked for."""
    for row in rows:
        if row.status == SessionStatus.CANCELLED:
            continue
        if _has_people(db_session, row):
            _cancel(db_session, row, reason=reason, actor=actor, now=now)
        else:
            db_session.delete(row)
    db_session.flush()


_SLOT_FIELDS = ("rrule", "first_start", "duration_minutes")
_VENUE_FIELDS = ("format", "place", "in_person_capacity", "capacity")
_EDITABLE = ("title_ar", "title_en", "description_ar", "description_en", "registration_opens_days",
             "registration_closes_minutes", "visibility", "reminder_minutes", *_SLOT_FIELDS, *_VENUE_FIELDS)


def edit_series_from(db_session: Session, series: Series, data: dict, *, from_day: date, actor: User | None,
                     now: datetime, horizon: timedelta = DEFAULT_HORIZON) -> Series:
    """Apply changes to the series from a local day forward; earlier sessions stay as they were.

    A change of the slot (rule, start time or length) or of who may attend splits the series: the old one ends the
    day before, and a new series (a new calendar UID) starts on the first occurrence of the new rule.
    Returns the series that holds the occurrences from that day on.

    A change of where it is held (format, place, hall or online seats) does not split it: the series' calendar
    event shows the new place, and the earlier occurrences keep theirs as exceptions. The new venue is given to
    the later occurrences that have not begun and are still held where the series was: one that staff moved to
    another place or gave other seats on its own keeps them, as a calendar exception does. It is refused
    (Conflict `seats_taken`) if residents hold or wait for seats in a pool it would remove from any of them, and
    then nothing changes. Other edits leave each occurrence's venue as it is. The registrants of each occurrence
    that gets a new place or format (not only other seats) are told (`hooks.session_changed`, relocated).
    """
    unknown = set(data) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(_l("This field cannot be changed here."), field=sorted(unknown)[0])
    if series.ends_on is not None and from_day > series.ends_on:
        raise Conflict(_l("The series has already ended."), code="series_ended")
    zone = ZoneInfo(series.timezone)
    if from_day < now.astimezone(zone).date():
        raise InvalidInput(_l("Choose today or a later day: sessions that took place stay as they were."),
                           field="from_day")
    split_at = datetime.combine(from_day, time(0, 0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    old_venue = _venue_of(series)
    venue = _venue(db_session, data, series)
    venue_changed = venue != old_venue
    later = (select(MajlisSession)
             .where(MajlisSession.series_id == series.id, MajlisSession.original_starts_at >= split_at)
             .order_by(MajlisSession.starts_at))
    if venue_changed:  # their seat pools are read and may be refilled: held against registrations meanwhile
        later = later.with_for_update().execution_options(populate_existing=True)
    later_rows = list(db_session.scalars(later))
    slot_changes = {key: data[key] for key in _SLOT_FIELDS if key in data}
    new_time = parse_local_wall_time(slot_changes["first_start"], "first_start") if "first_start" in slot_changes \
        else datetime.combine(from_day, series.first_start_local.time())
    rule = _check_rule(str(slot_changes.get("rrule", series.rrule)), new_time)
    duration = _int_in_range(slot_changes.get("duration_minutes", series.duration_minutes), "duration_minutes",
                             maximum=24 * 60)
    values = {
        "title_ar": _title(data.get("title_ar", series.title_ar), "title_ar"),
        "title_en": _title(data.get("title_en", series.title_en), "title_en"),
        "description_ar": _text(data.get("description_ar", series.description_ar), "description_ar"),
        "description_en": _text(data.get("description_en", series.description_en), "description_en"),
        "registration_opens_days": _int_in_range(data.get("registration_opens_days", series.registration_opens_days),
                                                 "registration_opens_days", minimum=0, maximum=365),
        "registration_closes_minutes": _int_in_range(
            data.get("registration_closes_minutes", series.registration_closes_minutes),
            "registration_closes_minutes", minimum=0, maximum=7 * 24 * 60),
        "visibility": _enum(Visibility, data.get("visibility", series.visibility.value), "visibility"),
        "reminder_minutes": _reminders(data["reminder_minutes"]) if "reminder_minutes" in data
        else series.reminder_minutes,
    }
    # A new slot, or a change of who may attend, starts a new series: calendars get a new master event.
    slot_changed = (rule != series.rrule or duration != series.duration_minutes
                    or new_time.time() != series.first_start_local.time()
                    or values["visibility"] != series.visibility)

    def relocated(rows: list[MajlisSession]) -> list[MajlisSession]:
        """The occurrences the new venue goes to (checked first: their pools must survive it)."""
        if not venue_changed:
            return []
        chosen = [row for row in rows if row.starts_at > now and _venue_of(row) == old_venue]
        for row in chosen:
            _check_pools(row, venue)
        return chosen

    if not slot_changed:
        target = series
        changed = [row for row in later_rows if row.status != SessionStatus.CANCELLED]
        moving = relocated(changed)
        for key, value in values.items():
            setattr(series, key, value)
        _apply_venue(series, venue)
        for row in changed:
            _apply_series(row, series, now, venue=venue if row in moving else None)
    else:
        # The new slot's time of day, from the chosen day on (a start dated earlier keeps only its time).
        anchor = datetime.combine(max(new_time.date(), from_day), new_time.time())
        target = Series(
            kind=series.kind, rrule=rule, timezone=series.timezone, first_start_local=_first_instance(rule, anchor),
            duration_minutes=duration, previous_id=series.id, created_by_id=actor.id if actor else None,
            created_at=now, updated_at=now, materialized_until=None, ends_on=series.ends_on, **values,
        )
        _apply_venue(target, venue)
        # Occurrences that the new rule also produces keep their registrations; the rest are retired.
        wanted = set(series_instants(target, split_at, now + horizon))
        changed, retire = [], []
        for row in later_rows:
            (changed if row.original_starts_at in wanted and row.status != SessionStatus.CANCELLED
             else retire).append(row)
        moving = relocated(changed)
        db_session.add(target)
        series.ends_on = from_day - timedelta(days=1)
        db_session.flush()
        _retire_rows(db_session, retire, reason=str(_l("The session moved to the new schedule.")), actor=actor,
                     now=now)
        for row in changed:
            row.series_id = target.id
            row.ends_at = row.starts_at + timedelta(minutes=duration)
            _apply_series(row, target, now, venue=venue if row in moving else None)
        db_session.flush()
        materialize_series(db_session, target, now=now, horizon=horizon)
    if moving:
        db_session.flush()
        if venue.where() != old_venue.where():  # a new place or format, not only other seats: tell registrants
            for row in moving:
                hooks.session_changed(db_session, row, now=now, relocated=True)
        for row in moving:  # more seats: each line moves up at once
            hooks.seats_added(db_session, row, now=now)
    series.sequence += 1
    series.updated_at = now
    db_session.flush()
    audit.record(db_session, actor_id=actor.id if actor else None, action="series.edit", object_type="series",
                 object_id=series.id, now=now,
                 data={"from": from_day.isoformat(), "split_into": target.id if target is not series else None})
    return target


def _apply_series(row: MajlisSession, series: Series, now: datetime, *, venue: Venue | None = None) -> None:
    """Give a stored occurrence the series' current texts, visibility and registration window, and the new venue
    (format, place and seats) if the edit changed it (the caller checked its pools with `_check_pools`).

    Lowering the seats never removes anyone: confirmed residents keep their seats.
    """
    row.title_ar, row.title_en = series.title_ar, series.title_en
    row.description_ar, row.description_en = series.description_ar, series.description_en
    row.visibility = series.visibility
    if venue is not None:
        _apply_venue(row, venue)
        row.live_version += 1
    row.registration_opens_at = row.starts_at - timedelta(days=series.registration_opens_days)
    row.registration_closes_at = row.starts_at - timedelta(minutes=series.registration_closes_minutes)
    row.sequence += 1
    row.updated_at = now


def end_series(db_session: Session, series: Series, *, last_day: date, actor: User | None, now: datetime) -> None:
    """End a series after a local day: later occurrences are dropped, or cancelled if residents used them."""
    if series.ends_on is not None and series.ends_on <= last_day:
        raise Conflict(_l("The series has already ended."), code="series_ended")
    zone = ZoneInfo(series.timezone)
    if last_day < now.astimezone(zone).date() - timedelta(days=1):
        raise InvalidInput(_l("Choose yesterday or a later day: sessions that took place stay as they were."),
                           field="last_day")
    cutoff = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    later_rows = list(db_session.scalars(
        select(MajlisSession).where(MajlisSession.series_id == series.id,
                                    MajlisSession.original_starts_at >= cutoff, MajlisSession.starts_at > now)))
    _retire_rows(db_session, later_rows, reason=str(_l("The series has ended.")), actor=actor, now=now)
    series.ends_on = last_day
    series.sequence += 1
    series.updated_at = now
    audit.record(db_session, actor_id=actor.id if actor else None, action="series.end", object_type="series",
                 object_id=series.id, now=now, data={"last_day": last_day.isoformat()})


# --- single sessions ----------------------------------------------------------------------------------------------


def create_one_off(db_session: Session, data: dict, *, actor: User | None, zone: ZoneInfo, now: datetime
                   ) -> MajlisSession:
    """Add a session outside any series."""
    starts_at = parse_instant(data.get("starts_at"), "starts_at", zone)
    duration = _int_in_range(data.get("duration_minutes"), "duration_minutes", maximum=24 * 60)
    opens_at = (parse_instant(data["registration_opens_at"], "registration_opens_at", zone)
                if data.get("registration_opens_at") else starts_at - timedelta(days=7))
    # By default registration closes an hour before the start; a session planned at shorter notice takes
    # registrations until it starts rather than opening already closed.
    closes_at = (parse_instant(data["registration_closes_at"], "registration_closes_at", zone)
                 if data.get("registration_closes_at") else _default_close(starts_at, now))
    row = MajlisSession(
        series_id=None,
        kind=_enum(SeriesKind, data.get("kind") or "special", "kind"),
        title_ar=_title(data.get("title_ar"), "title_ar"),
        title_en=_title(data.get("title_en"), "title_en"),
        description_ar=_text(data.get("description_ar"), "description_ar"),
        description_en=_text(data.get("description_en"), "description_en"),
        visibility=_enum(Visibility, data.get("visibility") or "public", "visibility"),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration),
        registration_opens_at=opens_at,
        registration_closes_at=closes_at,
        room_name=new_room_name(),
        stream_url=_stream_url(data.get("stream_url")),
        public_viewing=_flag(data.get("public_viewing", False), "public_viewing"),
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    _apply_venue(row, _venue(db_session, data, None))
    _check_window(row)
    db_session.add(row)
    db_session.flush()
    audit.record(db_session, actor_id=actor.id if actor else None, action="session.create", object_type="session",
                 object_id=row.id, now=now)
    return row


def _check_window(row) -> None:
    """The times' own order: anything with `starts_at`, `ends_at` and the registration window."""
    if row.ends_at <= row.starts_at:
        raise InvalidInput(_l("The end must be after the start."), field="ends_at")
    if row.registration_closes_at <= row.registration_opens_at:
        raise InvalidInput(_l("Registration must close after it opens."), field="registration_closes_at")
    if row.registration_closes_at > row.ends_at:
        raise InvalidInput(_l("Registration must close before the session ends."), field="registration_closes_at")


def _default_close(starts_at: datetime, now: datetime) -> datetime:
    return starts_at - timedelta(hours=1) if starts_at - timedelta(hours=1) > now else starts_at


@dataclass(frozen=True)
class _Times:
    starts_at: datetime
    ends_at: datetime
    registration_opens_at: datetime
    registration_closes_at: datetime


def _bump(row: MajlisSession, now: datetime) -> None:
    """Record a change calendars must notice: SEQUENCE rises on the session and on its series' master."""
    row.sequence += 1
    row.live_version += 1
    row.updated_at = now
    if row.series is not None:
        row.series.sequence += 1
        row.series.updated_at = now


_PATCHABLE = ("starts_at", "ends_at", "capacity", "registration_opens_at", "registration_closes_at", "stream_url",
              "public_viewing", "kind", "format", "place", "in_person_capacity")


def update_session(db_session: Session, row: MajlisSession, data: dict, *, actor: User | None, zone: ZoneInfo,
                   now: datetime) -> MajlisSession:
    """Change a session's times, capacity, registration window or overflow viewing (its stream, public viewing);
    nothing is changed unless all of it is valid.

    A session that has not begun cannot be moved into the past (its real times can be recorded once it is running
    or has run). A capacity below the seats already confirmed takes nobody's seat: newcomers wait until fewer hold one.
    A new time, a new place or format, or both, are told to the registrants once per edit (`hooks.session_changed`);
    other seats, the registration window or the stream are not.
    """
    unknown = set(data) - set(_PATCHABLE)
    if unknown:
        raise InvalidInput(_l("This field cannot be changed here."), field=sorted(unknown)[0])
    if not data:
        raise InvalidInput(_l("Nothing to change."), field=None)
    lock_session(db_session, row.id)
    if row.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    times = _new_times(row, data, zone)
    venue = _venue(db_session, data, row)
    kind = _enum(SeriesKind, data["kind"], "kind") if "kind" in data else row.kind
    stream_url = _stream_url(data["stream_url"]) if "stream_url" in data else row.stream_url
    public_viewing = _flag(data["public_viewing"], "public_viewing") if "public_viewing" in data else row.public_viewing
    _check_window(times)
    begun = row.status != SessionStatus.SCHEDULED or row.starts_at <= now
    if not begun and times.starts_at != row.starts_at and times.starts_at < now:
        raise InvalidInput(_l("A session that has not begun cannot be moved into the past."), field="starts_at")
    _check_pools(row, venue)
    moved = (times.starts_at, times.ends_at) != (row.starts_at, row.ends_at)
    relocated = venue.where() != _venue_of(row).where()
    row.starts_at, row.ends_at = times.starts_at, times.ends_at
    row.registration_opens_at, row.registration_closes_at = times.registration_opens_at, times.registration_closes_at
    row.stream_url, row.public_viewing, row.kind = stream_url, public_viewing, kind
    _apply_venue(row, venue)
    if moved:
        _bump(row, now)
    else:
        row.live_version += 1
        row.updated_at = now
    if moved or relocated:  # one notice per registrant, saying all that changed
        hooks.session_changed(db_session, row, now=now, moved=moved, relocated=relocated)
    db_session.flush()
    if {"capacity", "in_person_capacity", "format"} & set(data):
        hooks.seats_added(db_session, row, now=now)  # more seats: the line moves up at once
    audit.record(db_session, actor_id=actor.id if actor else None, action="session.update", object_type="session",
                 object_id=row.id, now=now, data={key: str(value) for key, value in data.items()})
    return row


def _new_times(row: MajlisSession, data: dict, zone: ZoneInfo) -> _Times:
    """The session's times after the change `data` asks for (a new start moves the rest along unless given)."""
    starts_at, ends_at = row.starts_at, row.ends_at
    opens_at, closes_at = row.registration_opens_at, row.registration_closes_at
    if "starts_at" in data:
        new_start = parse_instant(data["starts_at"], "starts_at", zone)
        shift = new_start - starts_at
        starts_at, ends_at, opens_at, closes_at = new_start, ends_at + shift, opens_at + shift, closes_at + shift
    if "ends_at" in data:
        ends_at = parse_instant(data["ends_at"], "ends_at", zone)
    if "registration_opens_at" in data:
        opens_at = parse_instant(data["registration_opens_at"], "registration_opens_at", zone)
    if "registration_closes_at" in data:
        closes_at = parse_instant(data["registration_closes_at"], "registration_closes_at", zone)
    return _Times(starts_at, ends_at, opens_at, closes_at)


def _cancel(db_session: Session, row: MajlisSession, *, reason: str, actor: User | None, now: datetime) -> None:
    row.status = SessionStatus.CANCELLED
    row.cancel_reason = reason
    _bump(row, now)
    hooks.session_changed(db_session, row, now=now)
    audit.record(db_session, actor_id=actor.id if actor else None, action="session.cancel", object_type="session",
                 object_id=row.id, now=now, to_state="cancelled")


def cancel_session(db_session: Session, row: MajlisSession, *, reason, actor: User | None, now: datetime
                   ) -> MajlisSession:
    """Cancel one session with a reason residents will see."""
    lock_session(db_session, row.id)
    reason = " ".join(str(reason or "").split())
    if not 3 <= len(reason) <= 500:
        raise InvalidInput(_l("Give the reason residents will see (3 to 500 characters)."), field="reason")
    if row.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is already cancelled."), code="session_cancelled")
    if row.status == SessionStatus.ENDED or row.ends_at <= now:
        raise Conflict(_l("This session has already taken place."), code="session_ended")
    _cancel(db_session, row, reason=reason, actor=actor, now=now)
    db_session.flush()
    return row


# --- reading ------------------------------------------------------------------------------------------------------


def lock_session(db_session: Session, session_id: int) -> MajlisSession:
    """Load the session row for a change, locked against concurrent changes to its seats (on SQLite the unit of
    work's BEGIN IMMEDIATE already keeps other writers out)."""
    row = db_session.scalar(_locked_session(), {"b_session": session_id})
    if row is None:
        raise NotFound()
    return row


@functools.cache
def _locked_session():
    return (select(MajlisSession).where(MajlisSession.id == bindparam("b_session")).with_for_update()
            .execution_options(populate_existing=True))


def can_see(viewer: User | None, row: MajlisSession) -> bool:
    """Tell whether the viewer may see the session by its visibility and their role."""
    return row.visibility == Visibility.PUBLIC or (viewer is not None and permissions.sees_all_sessions(viewer.role))


LIST_ALL = "all"
LIST_PUBLIC = "public"


def list_class(role: Role | str | None) -> str:
    """Tell which sessions a role sees listed: all of them (the governor's office and officials), or the public ones."""
    if permissions.sees_all_sessions(role):
        return LIST_ALL
    return LIST_PUBLIC


def visible_filter(viewer: User | None = None, *, viewer_class: str | None = None):
    """Build the SQL condition for the sessions a viewer (or a viewer class, see `list_class`) may see listed."""
    if (viewer_class or list_class(viewer.role if viewer is not None else None)) == LIST_ALL:
        return true()
    return MajlisSession.visibility == Visibility.PUBLIC


def get_visible_session(db_session: Session, session_id: int, viewer: User | None) -> MajlisSession:
    """Return the session if the viewer may see it: public, or staff/officials, or invited by name; else 404."""
    row = db_session.get(MajlisSession, session_id)
    if row is None:
        raise NotFound()
    check_visible(db_session, row, viewer)
    return row


def visible_series(db_session: Session, viewer: User | None) -> list[Series]:
    """List the series the viewer may see listed (invitation-only ones: staff, moderators and officials), by id."""
    statement = select(Series).order_by(Series.id)
    if not permissions.sees_all_sessions(viewer.role if viewer is not None else None):
        statement = statement.where(Series.visibility == Visibility.PUBLIC)
    return list(db_session.scalars(statement))


def get_visible_series(db_session: Session, series_id: int, viewer: User | None) -> Series:
    """Return the series if the viewer may see it; else 404."""
    series = db_session.get(Series, series_id)
    role = viewer.role if viewer is not None else None
    if series is None or (series.visibility != Visibility.PUBLIC and not permissions.sees_all_sessions(role)):
        raise NotFound()
    return series


def check_visible(db_session: Session, row: MajlisSession, viewer: User | None) -> None:
    """Raise 404 unless the viewer may see the session (as if it did not exist: nothing tells an outsider it does)."""
    if not can_see(viewer, row) and (viewer is None or not hooks.sight_granted(db_session, row, viewer)):
        raise NotFound()


def upcoming_sessions(db_session: Session, *, viewer: User | None, now: datetime, limit: int = 20,
                      filters: SessionFilters | None = None):
    """List the sessions that have not ended yet, soonest first (cancelled ones stay listed, marked), narrowed by
    `filters`."""
    query = (
        select(MajlisSession)
        .where(MajlisSession.ends_at > now, visible_filter(viewer), *(filters or SessionFilters()).conditions())
        .order_by(MajlisSession.starts_at, MajlisSession.id)
        .limit(limit)
    )
    return list(db_session.scalars(query))


@dataclass(frozen=True)
class SessionFilters:
    """What a reader narrows a session list to: the area of the session's place, and its kind (its category)."""

    area_id: int | None = None
    kind: SeriesKind | None = None

    @property
    def active(self) -> bool:
        return self.area_id is not None or self.kind is not None

    def conditions(self) -> list:
        found = []
        if self.area_id is not None:
            found.append(MajlisSession.place_area_id == self.area_id)
        if self.kind is not None:
            found.append(MajlisSession.kind == self.kind)
        return found


def session_filters(db_session: Session, args) -> SessionFilters:
    """Read `area` (an area's id) and `kind` (weekly, coordinating, special, field_visit) from a query string;
    an empty value means "any"; anything else is refused (400) rather than silently ignored."""
    area_id = kind = None
    if args.get("area"):
        area_id = directory.chosen_area(db_session, args["area"], field="area").id
    if args.get("kind"):
        try:
            kind = SeriesKind(args["kind"])
        except ValueError:
            raise InvalidInput(_l("Choose a kind of session from the list."), field="kind") from None
    return SessionFilters(area_id, kind)


@dataclass(frozen=True)
class SessionQuery:
    start: datetime | None = None
    end: datetime | None = None
    series_id: int | None = None
    filters: SessionFilters = SessionFilters()


def session_query(args, zone: ZoneInfo) -> SessionQuery:
    """Read `from`, `to` (local days, `to` inclusive) and `series` filters."""
    start = end = None
    if args.get("from"):
        start = datetime.combine(parse_day(args["from"], "from"), time(0, 0), tzinfo=zone)
    if args.get("to"):
        end = datetime.combine(parse_day(args["to"], "to") + timedelta(days=1), time(0, 0), tzinfo=zone)
    if start and end and end <= start:
        raise InvalidInput(_l("'to' must not be before 'from'."), field="to")
    series_id = None
    if args.get("series"):
        series_id = _int_in_range(args["series"], "series", maximum=MAX_ID)
    return SessionQuery(start, end, series_id)


def list_sessions(db_session: Session, query: SessionQuery, *, viewer: User | None = None,
                  viewer_class: str | None = None, limit: int = 500):
    """List the sessions a viewer (or viewer class) sees listed for the query, soonest first."""
    statement = select(MajlisSession).where(visible_filter(viewer, viewer_class=viewer_class),
                                            *query.filters.conditions())
    if query.start is not None:
        statement = statement.where(MajlisSession.ends_at > query.start)
    if query.end is not None:
        statement = statement.where(MajlisSession.starts_at < query.end)
    if query.series_id is not None:
        statement = statement.where(MajlisSession.series_id == query.series_id)
    return list(db_session.scalars(statement.order_by(MajlisSession.starts_at, MajlisSession.id).limit(limit)))


def count_sessions(db_session: Session, series_id: int) -> int:
    """Count the sessions of a series."""
    return db_session.scalar(select(func.count()).select_from(MajlisSession)
                             .where(MajlisSession.series_id == series_id))


def get_series(db_session: Session, series_id: int) -> Series:
    """Return the series with this id for staff; 404 when there is none."""
    series = db_session.get(Series, series_id)
    if series is None:
        raise NotFound()
    return series


def get_session(db_session: Session, session_id: int) -> MajlisSession:
    """Return the session with this id for staff, whatever its visibility; 404 when there is none."""
    row = db_session.get(MajlisSession, session_id)
    if row is None:
        raise NotFound()
    return row


def get_public_series(db_session: Session, series_id: int) -> Series:
    """Return a public series; 404 for any other (its existence is not revealed)."""
    series = db_session.get(Series, series_id)
    if series is None or series.visibility != Visibility.PUBLIC:
        raise NotFound()
    return series


def series_overview(db_session: Session, *, now: datetime) -> tuple[list[Series], dict[int, datetime]]:
    """List every series by id with the start of each one's next session not cancelled."""
    series = list(db_session.scalars(select(Series).order_by(Series.id)))
    next_starts = dict(db_session.execute(
        select(MajlisSession.series_id, func.min(MajlisSession.starts_at))
        .where(MajlisSession.series_id.is_not(None), MajlisSession.starts_at > now,
               MajlisSession.status != SessionStatus.CANCELLED)
        .group_by(MajlisSession.series_id)
    ).all())
    return series, next_starts


def series_neighbours(db_session: Session, series: Series) -> tuple[Series | None, list[Series]]:
    """Return the series this one continues (or None) and the series that continue it."""
    previous = db_session.get(Series, series.previous_id) if series.previous_id else None
    following = list(db_session.scalars(select(Series).where(Series.previous_id == series.id).order_by(Series.id)))
    return previous, following


def next_coordinating_session(db_session: Session, *, now: datetime) -> MajlisSession | None:
    """Return the next coordinating session not cancelled, or None."""
    return db_session.scalar(select(MajlisSession).where(
        MajlisSession.kind == SeriesKind.COORDINATING, MajlisSession.starts_at > now,
        MajlisSession.status != SessionStatus.CANCELLED).order_by(MajlisSession.starts_at).limit(1))
