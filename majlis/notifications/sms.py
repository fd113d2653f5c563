"""SMS: an HTTP gateway (or the console), and every notice fitted into as few segments as it can take.

The gateway contract (CONTRACT.md): POST JSON `{"to": "+973…", "text": "…"}` to `MAJLIS_SMS_URL` with
`Authorization: Bearer <MAJLIS_SMS_TOKEN>`; any 2xx is delivered. Without `MAJLIS_SMS_URL` messages are printed.

An SMS segment holds 160 GSM-7 characters (153 in a message of several) or 70 UCS-2 code units (67): any Arabic letter
makes the whole message UCS-2. A notice keeps its headline, its facts (what, when in both calendars, the time, the
link) and its stop link whole; its free text (a reason, an update, a question) is shortened at a word boundary so the
message needs no more segments than those parts alone, and dropped when no word fits.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask_babel import gettext as _

from majlis.auth.models import User
from majlis.notifications.channels import Sender, channel
from majlis.notifications.models import SMS
from majlis.notifications.preferences import CHOICE_OF
from majlis.notifications.rendering import Message, RenderContext, common_renderer, renders

TIMEOUT_SECONDS = 10

# GSM 03.38: the default alphabet, and the extension table (each of those costs two units).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}
# What Babel and the catalog write that GSM-7 lacks, and its plain form (keeps English messages GSM-7).
PLAIN = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " ", "\u2013": "-", "\u2014": "-", "\u2019": "'",
                       "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u200f": None, "\u200e": None})
FACT_MAX = 60  # a fact longer than this (a long title) is shortened at a word, except a link


def encoding(text: str) -> str:
    """`gsm7` when every character is in the GSM 7-bit alphabet, else `ucs2`."""
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text) else "ucs2"


def units(text: str) -> int:
    """The text's length in its encoding's units (GSM-7 septets, UTF-16 code units)."""
    if encoding(text) == "gsm7":
        return len(text) + sum(c in GSM7_EXTENDED for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many SMS segments the text takes."""
    kind, length = encoding(text), units(text)
    return 1 if length <= SINGLE[kind] else math.ceil(length / PART[kind])


def plain(text: str) -> str:
    return text.translate(PLAIN)


def _ellipsis(text: str) -> str:
    return "..." if encoding(text) == "gsm7" else "…"


def shorten(text: str, fits) -> str:
    """The longest run of the text's first words (with an ellipsis when cut) that `fits`; "" when none does."""
    if fits(text):
        return text
    words = text.split()
    low, high, best = 1, len(words) - 1, ""
    while low <= high:  # the longer a prefix, the more room it takes: search for the last one that fits
        middle = (low + high) // 2
        candidate = " ".join(words[:middle]).rstrip(",.;:،؛") + _ellipsis(text)
        if fits(candidate):
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def _lines(*parts) -> str:
    return "\n".join(part for part in parts if part)


def fit(headline: str, facts: tuple[str, ...], detail: str | None, stop_line: str | None) -> str:
    """The SMS text: the headline, the detail as far as it fits in the segments the rest needs, the facts (long ones
    cut at a word, links whole) and the stop line."""
    kept = [fact if fact.startswith(("http://", "https://"))
            else shorten(fact, lambda candidate: len(candidate) <= FACT_MAX) for fact in map(plain, facts)]
    headline, rest = plain(headline), [*kept, plain(stop_line or "")]
    base = _lines(headline, *rest)
    if not detail:
        return base
    target = segments(base)
    detail = shorten(plain(" ".join(detail.split())),
                     lambda candidate: segments(_lines(headline, candidate, *rest)) <= target)
    return _lines(headline, detail, *rest)


def sms_message(message: Message, stop_url: str | None) -> Message:
    """The SMS form of a rendered notice (its text is what the gateway gets)."""
    stop_line = _("Stop: %(url)s", url=stop_url) if stop_url else None
    return replace(message, text=fit(message.headline or message.subject, message.facts, message.detail, stop_line),
                   stop_url=stop_url)


def _render_sms(ctx: RenderContext, params: dict) -> Message:
    return sms_message(common_renderer(ctx.kind)(ctx, params), ctx.stop_url)


# Every notice a resident may get by SMS, and the code that proves a number theirs.
renders(*CHOICE_OF, "phone_verification", channel=SMS)(_render_sms)


class SmsGateway:
    """An HTTP SMS gateway (`MAJLIS_SMS_URL`, Bearer `MAJLIS_SMS_TOKEN`), or the console without a URL."""

    def __init__(self, url: str | None, token: str | None):
        self.url = url
        self.token = token

    def address(self, user: User) -> str | None:
        return user.phone if user.phone and user.phone_verified_at is not None else None

    def send(self, message: Message, to: str) -> None:
        if not self.url:
            print(f"--- SMS to {to} ({segments(message.text)} segment(s)) ---\n{message.text}\n---",  # noqa: T201
                  flush=True)
            return
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - the operator's configured gateway (http or https)
            self.url, data=json.dumps({"to": to, "text": message.text}, ensure_ascii=False).encode("utf-8"),
            headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:  # not 2xx (the token never appears in what is recorded)
            raise RuntimeError(f"the SMS gateway answered {exc.code}") from None


@channel(SMS)
def _sms(config: Mapping[str, Any]) -> Sender:
    return SmsGateway(config.get("MAJLIS_SMS_URL"), config.get("MAJLIS_SMS_TOKEN"))
