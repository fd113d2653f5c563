"""Password hashing, random secrets and token digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

# argon2id with RFC 9106's low-memory profile (t=3, m=64 MiB): above ASVS 5's appendix floor.
_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
# Tests hash hundreds of passwords; they use the cheapest profile (set by create_app in testing).
_cheap_hasher = PasswordHasher.from_parameters(CHEAPEST)


def _active_hasher(fast: bool) -> PasswordHasher:
    return _cheap_hasher if fast else _hasher


def hash_password(password: str, *, fast: bool = False) -> str:
    return _active_hasher(fast).hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password against its stored hash, in constant time."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe random secret with at least 256 bits of entropy by default."""
    return prefix + secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token: enough to store it safely (no salt needed for random tokens)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed_digest(key: str, message: str) -> str:
    """HMAC-SHA256, for low-entropy secrets such as 6-digit codes."""
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
