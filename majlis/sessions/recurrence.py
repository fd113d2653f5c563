"""Expand a series' RRULE in local wall time (pure: no Flask, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class RecurrenceError(ValueError):
    """The rule is not a usable RFC 5545 RRULE."""


def parse_rule(rule: str, first_start_local: datetime):
    """Parse an RRULE (without the 'RRULE:' prefix) anchored at a naive local start."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text:
        raise RecurrenceError("empty or multi-line rule")
    parts = dict(part.split("=", 1) for part in text.upper().split(";") if "=" in part)
    if parts.get("FREQ") not in ALLOWED_FREQ:
        raise RecurrenceError("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    try:
        return rrulestr(text, dtstart=first_start_local, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(str(exc)) from exc


def occurrences(
    rule: str, first_start_local: datetime, zone: ZoneInfo, start_utc: datetime, end_utc: datetime
) -> list[tuple[datetime, datetime]]:
    """Return (local wall start, UTC start) for every occurrence whose start lies in [start_utc, end_utc).

    The rule runs in wall time, so a weekly 19:00 majlis stays at 19:00 across offset changes.
    """
    parsed = parse_rule(rule, first_start_local)
    # Widen the local window by a day on each side: offsets never exceed that.
    lo = start_utc.astimezone(zone).replace(tzinfo=None)
    hi = end_utc.astimezone(zone).replace(tzinfo=None)
    found = []
    for local in parsed.between(lo - timedelta(days=1), hi + timedelta(days=1), inc=True):
        instant = local.replace(tzinfo=zone).astimezone(UTC)
        if start_utc <= instant < end_utc:
            found.append((local, instant))
    return found
