"""What should happen when, derived from the session rows (pure reading: no APScheduler, no clock of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from majlis.enums import SessionStatus
from majlis.sessions.models import MajlisSession


@dataclass(frozen=True)
class PlannedJob:
    id: str  # stable: "start:<session id>", "end:<session id>"
    kind: str
    session_id: int
    run_at: datetime


def planned_jobs(db_session: Session, *, now: datetime, window: timedelta = timedelta(hours=24)) -> list[PlannedJob]:
    """The per-session transitions due within the window (anything already overdue is the sweeper's)."""
    horizon = now + window
    rows = db_session.execute(select(MajlisSession.id, MajlisSession.status, MajlisSession.starts_at,
                                     MajlisSession.ends_at).where(
        MajlisSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.LIVE]),
        MajlisSession.starts_at <= horizon, MajlisSession.ends_at > now)).all()
    jobs = []
    for session_id, status, starts_at, ends_at in rows:
        if status == SessionStatus.SCHEDULED and starts_at > now:
            jobs.append(PlannedJob(f"start:{session_id}", "start", session_id, starts_at))
        if ends_at <= horizon:
            jobs.append(PlannedJob(f"end:{session_id}", "end", session_id, ends_at))
    return sorted(jobs, key=lambda job: (job.run_at, job.id))
