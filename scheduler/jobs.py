"""The table of jobs: stable ids, intervals, and thin calls into Majlis services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from majlis.db import get_db, unit_of_work
from majlis.notifications.services import MailSettings, deliver_pending
from majlis.sessions.models import Series
from majlis.sessions.services import materialize_series


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[datetime], int]
    every_seconds: int


def deliver_outbox(now: datetime) -> int:
    """Send due outbox messages."""
    return deliver_pending(get_db(), MailSettings.from_config(current_app.config), now=now)


def materialize_occurrences(now: datetime) -> int:
    """Keep every active series' occurrences stored up to the rolling horizon."""
    created = 0
    horizon = timedelta(weeks=current_app.config["MAJLIS_HORIZON_WEEKS"])
    with unit_of_work() as db_session:
        for series in db_session.scalars(select(Series).order_by(Series.id)):
            created += materialize_series(db_session, series, now=now, horizon=horizon)
    return created


def send_reminders(now: datetime) -> int:
    """Queue the 24 h and 1 h reminders that have come due."""
    from majlis.registration.notices import send_reminders as queue_reminders

    with unit_of_work() as db_session:
        return queue_reminders(db_session, now=now)


def flag_overdue_cases(now: datetime) -> int:
    """Flag cases past their due date and tell their bodies."""
    from zoneinfo import ZoneInfo

    from majlis.followups.services import flag_overdue

    with unit_of_work() as db_session:
        return flag_overdue(db_session, now=now, zone=ZoneInfo(current_app.config["MAJLIS_TIMEZONE"]))


JOBS: tuple[Job, ...] = (
    Job("send_reminders", send_reminders, every_seconds=60),
    Job("deliver_outbox", deliver_outbox, every_seconds=10),
    Job("materialize_occurrences", materialize_occurrences, every_seconds=3600),
    Job("flag_overdue_cases", flag_overdue_cases, every_seconds=3600),
)
