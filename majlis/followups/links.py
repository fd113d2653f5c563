"""Signed "was it fixed?" links: they name a case's resolution and its resident, and expire (no Flask here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

SALT = "majlis.case-feedback"
# A link in a notice keeps working this long after it was written.
LINK_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class FeedbackClaim:
    case_id: int
    round: int
    resident_id: int


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def feedback_token(secret: str, *, case_id: int, round: int, resident_id: int, now: datetime) -> str:
    """A token for one resolution of one case, for its resident; the answer itself is not in it."""

    class SignedAt(TimestampSigner):
        def get_timestamp(self) -> int:  # signed at the caller's `now`, so tests and jobs control the clock
            return int(now.timestamp())

    return URLSafeTimedSerializer(secret, salt=SALT, signer=SignedAt).dumps([case_id, round, resident_id])


def read_feedback_token(secret: str, token: str, *, now: datetime) -> FeedbackClaim | None:
    """The claim a token carries, or None when it is forged, malformed or older than LINK_LIFETIME."""
    try:
        value, signed_at = _serializer(secret).loads(token, return_timestamp=True)
    except (BadData, ValueError, TypeError):
        return None
    if now - signed_at > LINK_LIFETIME or signed_at - now > timedelta(minutes=5):
        return None
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(item, int) and not isinstance(item, bool) for item in value)):
        return None
    return FeedbackClaim(*value)
