"""Build RFC 5545 feeds from plain data (pure: no Flask, no database).

One master VEVENT per series with its RRULE; a cancelled occurrence is an EXDATE in the master's
zone; a moved one is an override with the same UID and RECURRENCE-ID = its original start. Every
timed value carries TZID with one VTIMEZONE; only DTSTAMP, CREATED, LAST-MODIFIED and UNTIL are UTC.
The same data always gives the same bytes (DTSTAMP is the record's last change, order is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Conference, Event, Timezone, vCalAddress, vDuration, vRecur, vText

PRODID = "-//Capital Governorate//Majlis//AR"


@dataclass(frozen=True)
class FeedInfo:
    name: str
    description: str
    uid: str  # the calendar's own stable UID
    domain: str  # UIDs end in @domain
    timezone: str
    organizer_email: str
    organizer_name: str
    location: str = "Online"
    refresh: timedelta = timedelta(hours=6)


@dataclass(frozen=True)
class EventInfo:
    """One stored session."""

    id: int
    summary: str
    description: str
    url: str
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    created: datetime
    sequence: int = 0
    original_starts_at: datetime | None = None
    cancelled: bool = False
    cancel_reason: str | None = None
    join_url: str | None = None
    location: str | None = None  # the place's name and address (else the feed's: online)
    geo: tuple[float, float] | None = None  # the place's latitude and longitude


@dataclass(frozen=True)
class SeriesInfo:
    """A series as one master event, with its stored occurrences for EXDATEs and overrides."""

    id: int
    summary: str
    description: str
    url: str
    rrule: str
    master_start: datetime  # aware; the first stored occurrence's original start (an instance of the rule)
    duration: timedelta
    stamp: datetime
    created: datetime
    sequence: int = 0
    until: datetime | None = None  # the last instant an occurrence may start, or None
    occurrences: tuple[EventInfo, ...] = field(default_factory=tuple)
    location: str | None = None  # where the series is held now (else the feed's: online)
    geo: tuple[float, float] | None = None


def series_uid(series_id: int, domain: str) -> str:
    return f"series-{series_id}@{domain}"


def session_uid(session_id: int, domain: str) -> str:
    return f"session-{session_id}@{domain}"


@lru_cache(maxsize=8)
def _vtimezone(tzid: str) -> bytes:
    # From 2000 on: a zone without DST (Asia/Bahrain) becomes the single STANDARD block Outlook expects.
    return Timezone.from_tzid(tzid, first_date=date(2000, 1, 1), last_date=date(2038, 1, 1)).to_ical()


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _description(event_text: str, url: str, join_url: str | None, join_label: str) -> str:
    parts = [event_text.strip()] if event_text and event_text.strip() else []
    parts.append(url)
    if join_url:
        parts.append(f"{join_label}: {join_url}")
    return "\n\n".join(parts)


def _event(feed: FeedInfo, zone: ZoneInfo, *, uid: str, summary: str, description: str, url: str,
           start: datetime, end: datetime, stamp: datetime, created: datetime, sequence: int,
           join_url: str | None, join_label: str, recurrence_id: datetime | None = None,
           cancelled: bool = False, location: str | None = None, geo: tuple[float, float] | None = None) -> Event:
    event = Event.new(
        uid=uid,
        stamp=_utc(stamp),
        created=_utc(created),
        last_modified=_utc(stamp),
        start=start.astimezone(zone),
        end=end.astimezone(zone),
        summary=summary,
        description=_description(description, url, join_url, join_label),
        url=url,
        location=location or feed.location,
        sequence=sequence,
        recurrence_id=recurrence_id.astimezone(zone) if recurrence_id is not None else None,
        organizer=vCalAddress.new(feed.organizer_email, cn=feed.organizer_name),
        status="CANCELLED" if cancelled else "CONFIRMED",
        conferences=[Conference(join_url, feature=["AUDIO", "VIDEO"], label=join_label)] if join_url else None,
    )
    if geo is not None:
        event.add("GEO", geo)
    return event


def _rule_without_end(rule: str) -> vRecur:
    recur = vRecur.from_ical(rule)
    for key in ("UNTIL", "COUNT"):
        recur.pop(key, None)
    return recur


def build_calendar(feed: FeedInfo, *, series: list[SeriesInfo] = (), events: list[EventInfo] = (),
                   join_label: str = "Join") -> bytes:
    """Render a feed: series as masters with exceptions, and standalone events."""
    zone = ZoneInfo(feed.timezone)
    calendar = Calendar.new(prodid=PRODID, uid=feed.uid, method="PUBLISH", calscale="GREGORIAN")
    # Added as TEXT explicitly: icalendar 7.3 writes NAME and the X-WR-* names without escaping , and ;
    for key, value in (("NAME", feed.name), ("X-WR-CALNAME", feed.name), ("DESCRIPTION", feed.description),
                       ("X-WR-CALDESC", feed.description)):
        calendar.add(key, vText(value))
    calendar.add("REFRESH-INTERVAL", vDuration(feed.refresh), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(feed.refresh))
    if series or events:
        calendar.add_component(Timezone.from_ical(_vtimezone(feed.timezone)))

    for item in sorted(series, key=lambda s: s.id):
        uid = series_uid(item.id, feed.domain)
        master = _event(feed, zone, uid=uid, summary=item.summary, description=item.description, url=item.url,
                        start=item.master_start, end=item.master_start + item.duration, stamp=item.stamp,
                        created=item.created, sequence=item.sequence, join_url=None, join_label=join_label,
                        location=item.location, geo=item.geo)
        recur = _rule_without_end(item.rrule)
        if item.until is not None:
            recur["UNTIL"] = [_utc(item.until)]
        master.add("RRULE", recur)
        occurrences = sorted(item.occurrences, key=lambda o: o.original_starts_at)
        excluded = [o.original_starts_at.astimezone(zone) for o in occurrences if o.cancelled]
        if excluded:
            master.add("EXDATE", excluded)
        calendar.add_component(master)
        for occurrence in occurrences:
            if occurrence.cancelled:
                continue
            planned_end = occurrence.original_starts_at + item.duration
            if (occurrence.starts_at, occurrence.ends_at) == (occurrence.original_starts_at, planned_end) \
                    and occurrence.join_url is None and occurrence.summary == item.summary \
                    and (occurrence.location, occurrence.geo) == (item.location, item.geo):
                continue
            calendar.add_component(_event(
                feed, zone, uid=uid, summary=occurrence.summary, description=occurrence.description,
                url=occurrence.url, start=occurrence.starts_at, end=occurrence.ends_at, stamp=occurrence.stamp,
                created=occurrence.created, sequence=occurrence.sequence, join_url=occurrence.join_url,
                join_label=join_label, recurrence_id=occurrence.original_starts_at, location=occurrence.location,
                geo=occurrence.geo,
            ))

    for item in sorted(events, key=lambda e: (e.starts_at, e.id)):
        description = item.description
        if item.cancelled and item.cancel_reason:
            description = f"{description}\n\n{item.cancel_reason}".strip()
        calendar.add_component(_event(
            feed, zone, uid=session_uid(item.id, feed.domain), summary=item.summary, description=description,
            url=item.url, start=item.starts_at, end=item.ends_at, stamp=item.stamp, created=item.created,
            sequence=item.sequence, join_url=None if item.cancelled else item.join_url, join_label=join_label,
            cancelled=item.cancelled, location=item.location, geo=item.geo,
        ))
    return calendar.to_ical()
