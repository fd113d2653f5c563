"""A session's life in time: scheduled -> live -> ended. Guarded updates, so running twice has one effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from majlis.enums import SessionStatus
from majlis.sessions import live
from majlis.sessions.models import MajlisSession


def mark_live(db_session: Session, session_id: int, *, now: datetime) -> bool:
    """Scheduled -> live once its start has come (and its end has not); True if this call did it."""
    done = db_session.execute(update(MajlisSession).where(
        MajlisSession.id == session_id, MajlisSession.status == SessionStatus.SCHEDULED,
        MajlisSession.starts_at <= now, MajlisSession.ends_at > now,
    ).values(status=SessionStatus.LIVE, actual_started_at=now)).rowcount
    if done:
        live.bump(db_session, session_id)
    return bool(done)


def mark_ended(db_session: Session, session_id: int, *, now: datetime) -> bool:
    """Scheduled or live -> ended once its end has passed; True if this call did it."""
    row = db_session.get(MajlisSession, session_id)
    if row is None:
        return False
    done = db_session.execute(update(MajlisSession).where(
        MajlisSession.id == session_id, MajlisSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]),
        MajlisSession.ends_at <= now,
    ).values(status=SessionStatus.ENDED, actual_ended_at=MajlisSession.ends_at)).rowcount
    if done:
        live.bump(db_session, session_id)
    return bool(done)


def due_to_go_live(db_session: Session, now: datetime) -> list[int]:
    return list(db_session.scalars(select(MajlisSession.id).where(
        MajlisSession.status == SessionStatus.SCHEDULED, MajlisSession.starts_at <= now, MajlisSession.ends_at > now)))


def due_to_end(db_session: Session, now: datetime) -> list[int]:
    return list(db_session.scalars(select(MajlisSession.id).where(
        MajlisSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]), MajlisSession.ends_at <= now)))
