"""The table of jobs: stable ids, intervals, and thin calls into Majlis services.

Every job is a guarded state change (a conditional update or a unique key), so running it twice, or
on two schedulers at once, has one effect; the sweeper runs whatever is overdue, which is also how the
scheduler catches up after downtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from majlis.db import get_db, unit_of_work
from majlis.minutes.services import compile_minutes, due_to_compile
from majlis.notifications.services import deliver_pending
from majlis.sessions import lifecycle
from majlis.sessions.models import Series
from majlis.sessions.services import materialize_series

log = logging.getLogger("majlis.scheduler")


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[datetime], int]
    every_seconds: int


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["MAJLIS_TIMEZONE"])


def start_session(session_id: int, now: datetime) -> int:
    with unit_of_work() as db_session:
        return int(lifecycle.mark_live(db_session, session_id, now=now))


def end_session(session_id: int, now: datetime) -> int:
    """End a session and compile its minutes at once (each in its own transaction)."""
    with unit_of_work() as db_session:
        ended = lifecycle.mark_ended(db_session, session_id, now=now)
    with unit_of_work() as db_session:
        compiled = compile_minutes(db_session, session_id, now=now, zone=_zone(),
                                   hijri_adjust=current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"])
    return int(ended) + int(compiled is not None)


SESSION_JOBS = {"start": start_session, "end": end_session}


def sweep(now: datetime) -> int:
    """Run every overdue transition: sessions to go live or end, minutes to compile."""
    done = 0
    with unit_of_work() as db_session:
        to_start, to_end = lifecycle.due_to_go_live(db_session, now), lifecycle.due_to_end(db_session, now)
    for session_id in to_start:
        done += start_session(session_id, now)
    for session_id in to_end:
        done += end_session(session_id, now)
    with unit_of_work() as db_session:
        left = due_to_compile(db_session)
    for session_id in left:  # ended earlier, never compiled (a crash mid-compile, or minutes written by hand later)
        with unit_of_work() as db_session:
            done += compile_minutes(db_session, session_id, now=now, zone=_zone(),
                                    hijri_adjust=current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"]) is not None
    return done


def deliver_outbox(now: datetime) -> int:
    """Render and send the due outbox rows, by each one's channel."""
    return deliver_pending(get_db(), config=current_app.config, now=now)


def materialize_occurrences(now: datetime) -> int:
    """Keep every active series' occurrences stored up to the rolling horizon."""
    created = 0
    horizon = timedelta(weeks=current_app.config["MAJLIS_HORIZON_WEEKS"])
    with unit_of_work() as db_session:
        for series in db_session.scalars(select(Series).order_by(Series.id)):
            created += materialize_series(db_session, series, now=now, horizon=horizon)
    return created


def send_reminders(now: datetime) -> int:
    """Queue the reminders that have come due (each series' times and residents' own, only those still ahead)."""
    from majlis.registration.notices import send_reminders as queue_reminders

    with unit_of_work() as db_session:
        return queue_reminders(db_session, now=now)


def flag_overdue_cases(now: datetime) -> int:
    """Flag cases past their due date and tell their bodies."""
    from majlis.followups.services import flag_overdue

    with unit_of_work() as db_session:
        return flag_overdue(db_session, now=now, zone=_zone())


def purge_expired_signups(now: datetime) -> int:
    """Delete sign-ups never confirmed in time, and the throttle's forgotten rows."""
    from flask import current_app

    from majlis.auth.services import AccountPolicy
    from majlis.auth.services import purge_expired_signups as purge

    with unit_of_work() as db_session:
        return purge(db_session, policy=AccountPolicy.from_config(current_app.config), now=now)


def fetch_attachments(now: datetime) -> int:
    """Fetch the recordings and transcripts the video service announced (and retry the failed ones when due)."""
    from majlis import storage
    from majlis.minutes import attachments

    config = current_app.config
    store = storage.from_config(config, current_app.instance_path)
    stored = 0
    for attachment_id in attachments.due(get_db(), now):
        stored += attachments.fetch(get_db(), attachment_id, storage=store, now=now,
                                    max_bytes=config["MAJLIS_ATTACHMENT_MAX_BYTES"],
                                    production=config["MAJLIS_ENV"] == "production", write=unit_of_work)
    return stored


def request_case_feedback(now: datetime) -> int:
    """Ask "was it fixed?" of residents whose case was resolved some days ago (MAJLIS_FEEDBACK_DELAY_DAYS)."""
    from majlis.followups.services import request_feedback

    with unit_of_work() as db_session:
        return request_feedback(db_session, now=now,
                                delay=timedelta(days=current_app.config["MAJLIS_FEEDBACK_DELAY_DAYS"]))


JOBS: tuple[Job, ...] = (
    Job("sweep", sweep, every_seconds=30),
    Job("send_reminders", send_reminders, every_seconds=60),
    Job("deliver_outbox", deliver_outbox, every_seconds=10),
    Job("fetch_attachments", fetch_attachments, every_seconds=15),
    Job("materialize_occurrences", materialize_occurrences, every_seconds=3600),
    Job("flag_overdue_cases", flag_overdue_cases, every_seconds=3600),
    Job("purge_expired_signups", purge_expired_signups, every_seconds=3600),
    Job("request_case_feedback", request_case_feedback, every_seconds=3600),
)
