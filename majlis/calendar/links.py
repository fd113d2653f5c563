"""Links that put a session into people's calendars: .ics, webcal:// and add-to-Google/Outlook."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlencode


def webcal(url: str) -> str:
    """The webcal:// form of an http(s) feed URL (it makes Apple and Outlook subscribe)."""
    return "webcal://" + url.split("://", 1)[1]


def google_add(*, title: str, starts_at, ends_at, details: str, timezone: str) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    dates = f"{starts_at.astimezone(UTC).strftime(fmt)}/{ends_at.astimezone(UTC).strftime(fmt)}"
    query = urlencode({"action": "TEMPLATE", "text": title, "dates": dates, "details": details, "ctz": timezone})
    return "https://calendar.google.com/calendar/render?" + query


def outlook_add(*, title: str, starts_at, ends_at, details: str) -> str:
    query = urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": title,
        "startdt": starts_at.astimezone(UTC).isoformat(), "enddt": ends_at.astimezone(UTC).isoformat(),
        "body": details,
    })
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + query


def google_subscribe(feed_url: str) -> str:
    return "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal(feed_url)})
