"""A session's live stream: the https address staff give, and the address the session page embeds (pure)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

MAX_LENGTH = 500
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com"}
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_PEERTUBE_WATCH = re.compile(r"^/(?:w|videos/watch)/([A-Za-z0-9-]{8,64})/?$")


class StreamURLError(ValueError):
    """Not an address a stream can be embedded from."""


def check(value) -> str | None:
    """An https address with a host (no credentials, no fragment), as given; None for no stream."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise StreamURLError("not text")
    url = value.strip()
    if len(url) > MAX_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise StreamURLError("too long or with spaces")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.fragment:
        raise StreamURLError("not an https address")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise StreamURLError("bad port") from exc
    return url


def embed_url(url: str) -> str:
    """The address to frame: YouTube's and PeerTube's watch pages become their embed players; others stay."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _YOUTUBE_HOSTS:
        video = None
        if host == "youtu.be":
            video = parts.path.strip("/")
        elif parts.path == "/watch":
            video = (parse_qs(parts.query).get("v") or [""])[0]
        else:
            match = re.match(r"^/(?:live|embed|shorts)/([^/?]+)", parts.path)
            video = match.group(1) if match else None
        if video and _YOUTUBE_ID.match(video):
            return f"https://www.youtube-nocookie.com/embed/{video}"
        return url
    match = _PEERTUBE_WATCH.match(parts.path)
    if match:
        return f"https://{parts.netloc}/videos/embed/{match.group(1)}"
    return url


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
