"""Turn an outbox row's kind and parameters into a message, at delivery, with one renderer per kind.

Each capability registers the renderers of the notices it writes (`registration/notices.py`, `followups/notices.py`,
`notifications/verification.py`):

    @renders("registration_promoted")
    def _promoted(ctx: RenderContext, params: dict) -> Message:
        ...

A renderer reads what it needs through `ctx.db_session` (the data as it is at delivery: a reminder shows the
session's current time), speaks the recipient's language (`ctx.lang`; delivery has already forced it for
gettext), and raises `Skip` when what the notice speaks of is gone. Besides the e-mail's subject and text, a message
carries its parts for the short channels: a headline, the facts kept whole (what, when in both calendars, where or
the join link) and a detail that may be shortened. A channel that needs its own form of a notice registers it with
`@renders(kind, channel="sms")` (majlis/notifications/sms.py fits every notice into as few SMS segments as it can);
otherwise the channel's sender makes do with the common message (Web Push builds its payload from the parts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from majlis.auth.models import User

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"

# The modules whose import registers renderers; delivery imports them, so a process that wrote no notice (the
# scheduler) still knows every kind.
RENDERER_MODULES = ("majlis.registration.notices", "majlis.followups.notices", "majlis.questions.notices",
                    "majlis.notifications.verification", "majlis.notifications.phone", "majlis.notifications.sms")


def language_of(locale: str | None) -> str:
    """The language of a user's messages: their choice when Majlis speaks it, else Arabic."""
    return locale if locale in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Message:
    """One notice, rendered: what every channel's sender works from."""

    subject: str
    text: str
    ics: str | None = None  # the session's calendar, attached to e-mails
    # Files an e-mail carries besides the .ics: (filename, MIME type, content), e.g. a check-in QR code.
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    link: str | None = None  # where the notice leads (the session or case page)
    headline: str | None = None  # the notice in one short sentence (push, SMS); the subject when None
    facts: tuple[str, ...] = ()  # short lines kept whole: what, when (Gregorian, Hijri), the time, where or a link
    detail: str | None = None  # free text a short channel may shorten at a word (a reason, an update, a question)
    stop_url: str | None = None  # the one-click link that stops this kind of message (set at delivery)
    lang: str | None = None  # the language it is written in (set at delivery)
    message_id: str | None = None  # the outbox row's, the same at every try (set at delivery)


class Skip(Exception):  # noqa: N818 - it is an outcome, not an error
    """The notice speaks of something that is gone (a deleted session, a withdrawn registration): do not send it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class RenderContext:
    """What a renderer is given besides the row's parameters."""

    db_session: Session
    recipient: User
    lang: str
    config: Mapping[str, Any]
    kind: str = ""
    channel: str = ""
    now: datetime | None = None
    stop_url: str | None = None  # the link that stops this kind of notice for the recipient, if it has one
    # Shared by the renderers of one delivery run, for what many rows repeat (a burst's .ics).
    memo: dict = field(default_factory=dict)

    def remember(self, key, build: Callable[[], Any]) -> Any:
        """A value built once per key in this delivery run."""
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]


Renderer = Callable[[RenderContext, dict], Message]
_RENDERERS: dict[tuple[str, str | None], Renderer] = {}
_loaded: list[bool] = []


def renders(*kinds: str, channel: str | None = None) -> Callable[[Renderer], Renderer]:
    """Register a renderer for these kinds (for every channel, or for one)."""

    def register(func: Renderer) -> Renderer:
        for kind in kinds:
            _RENDERERS[(kind, channel)] = func
        return func

    return register


def _load() -> None:
    if not _loaded:
        import importlib

        for module in RENDERER_MODULES:
            importlib.import_module(module)
        _loaded.append(True)


def renderer_for(kind: str, channel: str) -> Renderer | None:
    """The channel's own renderer of a kind, else the common one; None for a kind nobody renders."""
    _load()
    return _RENDERERS.get((kind, channel)) or _RENDERERS.get((kind, None))


def common_renderer(kind: str) -> Renderer | None:
    """The renderer every channel shares for a kind (what a channel's own renderer starts from)."""
    _load()
    return _RENDERERS.get((kind, None))
