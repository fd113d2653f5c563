"""The per-account failure throttle: sign-in, verification and password checks of one address share one count.

It lives in the database (`account_throttles`), so it holds across workers and hosts without Redis, and it is keyed
by the e-mail address, not the client's: spreading guesses over many addresses does not help. After
`FREE_FAILURES` failures the account is locked for `FIRST_DELAY`, doubled by each further failure up to `MAX_DELAY`;
a lock is checked before any password is hashed. A success clears the count; failures older than `MEMORY` are
forgotten. The per-address limits of Flask-Limiter stay in front of it. Callers own the transaction, and a refusal
that records a failure must still commit it (`commit_anyway`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from majlis.auth.models import AccountThrottle
from majlis.errors import TooManyAttempts
from majlis.security import keyed_digest

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MEMORY = timedelta(hours=24)


def key_for(secret_key: str, email: str) -> str:
    """The throttle's key for a normalised e-mail address (a keyed digest: no address is stored in clear)."""
    return keyed_digest(secret_key, f"throttle:{email}")


def delay_after(failures: int) -> timedelta:
    """How long an account stays locked after this many failures in a row (none below FREE_FAILURES)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20), MAX_DELAY)


def check(db_session: Session, key: str, *, now: datetime) -> None:
    """Raise TooManyAttempts (429, Retry-After) while the account is locked."""
    locked_until = db_session.scalar(select(AccountThrottle.locked_until).where(AccountThrottle.key == key))
    if locked_until is not None and locked_until > now:
        raise TooManyAttempts(math.ceil((locked_until - now).total_seconds()))


def record_failure(db_session: Session, key: str, *, now: datetime) -> int:
    """Count one failure atomically (concurrent failures are all counted) and lock when due; return the count."""
    _insert_missing(db_session, key, now)
    forgotten = AccountThrottle.last_failure_at < now - MEMORY
    failures = db_session.execute(
        update(AccountThrottle)
        .where(AccountThrottle.key == key)
        .values(failures=case((forgotten, 1), else_=AccountThrottle.failures + 1), last_failure_at=now)
        .returning(AccountThrottle.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    delay = delay_after(failures)
    if delay:
        db_session.execute(update(AccountThrottle).where(AccountThrottle.key == key)
                           .values(locked_until=now + delay).execution_options(synchronize_session=False))
    return failures


def reset(db_session: Session, key: str) -> None:
    """Forget the account's failures (after a success)."""
    db_session.execute(delete(AccountThrottle).where(AccountThrottle.key == key)
                       .execution_options(synchronize_session=False))


def purge(db_session: Session, *, now: datetime) -> int:
    """Delete the rows whose failures are forgotten and whose lock is over; return how many."""
    result = db_session.execute(
        delete(AccountThrottle)
        .where(AccountThrottle.last_failure_at < now - MEMORY,
               or_(AccountThrottle.locked_until.is_(None), AccountThrottle.locked_until <= now))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def _insert_missing(db_session: Session, key: str, now: datetime) -> None:
    dialect = db_session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db_session.execute(insert(AccountThrottle).values(key=key, failures=0, last_failure_at=now)
                       .on_conflict_do_nothing(index_elements=[AccountThrottle.key]))
