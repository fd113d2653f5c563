"""Run the jobs: once (run-due), or for ever under APScheduler as the one leader, with a reconcile loop."""

from __future__ import annotations

import logging
import os
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import delete, select

from majlis.db import get_database, get_db, unit_of_work
from majlis.heartbeat import SchedulerHeartbeat
from majlis.minutes.models import Minutes
from majlis.notifications.services import backlog, release_claims
from scheduler.jobs import JOBS, SESSION_JOBS, Job
from scheduler.lock import LeaderLock
from scheduler.plan import planned_jobs

log = logging.getLogger("majlis.scheduler")
STANDBY_RETRY_SECONDS = 5
RECONCILE_SECONDS = 30
HEARTBEAT_SECONDS = 10


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _in_context(app: Flask, func, *args) -> int:
    with app.app_context():
        try:
            return func(*args)
        except Exception:
            log.exception("job %s failed", getattr(func, "__name__", func))
            return -1


def run_job(app: Flask, job: Job, now: datetime | None = None) -> int:
    """Run one job in its own app context; errors are logged, never fatal to the scheduler."""
    result = _in_context(app, job.func, now or datetime.now(UTC))
    if result:
        log.info("job %s: %s", job.id, result)
    return result


def run_session_job(app: Flask, kind: str, session_id: int) -> int:
    result = _in_context(app, SESSION_JOBS[kind], session_id, datetime.now(UTC))
    log.info("session job %s:%s: %s", kind, session_id, result)
    return result


def run_due(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Run every job once now and return what each did."""
    return {job.id: run_job(app, job, now) for job in JOBS}


def beat(app: Flask, *, leader: bool, started_at: datetime, jobs: int = 0) -> None:
    """Record that this scheduler is alive (the leader, or a standby waiting for the lock)."""
    with app.app_context(), unit_of_work() as db_session:
        row = db_session.get(SchedulerHeartbeat, node_name())
        now = datetime.now(UTC)
        if row is None:
            row = SchedulerHeartbeat(node=node_name(), started_at=started_at, beat_at=now)
            db_session.add(row)
        row.is_leader, row.beat_at, row.jobs = leader, now, jobs
        # Forget nodes silent for a day: they are long gone.
        db_session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - timedelta(days=1)))


def reconcile(app: Flask, scheduler) -> int:
    """Keep one date job per upcoming session transition, in step with the database."""
    now = datetime.now(UTC)
    with app.app_context():
        wanted = {job.id: job for job in planned_jobs(get_db(), now=now)}
    existing = {job.id: job for job in scheduler.get_jobs() if ":" in job.id}
    for job_id in set(existing) - set(wanted):
        scheduler.remove_job(job_id)
    for job_id, planned in wanted.items():
        current = existing.get(job_id)
        if current is None or current.next_run_time != planned.run_at:
            scheduler.add_job(run_session_job, "date", run_date=planned.run_at, id=job_id, replace_existing=True,
                              args=(app, planned.kind, planned.session_id), misfire_grace_time=None)
    return len(wanted)


def run_forever(app: Flask) -> None:
    """Wait to become the leader, then run the jobs on their intervals until stopped."""
    started_at = datetime.now(UTC)
    lock = LeaderLock(get_database(app).engine, app.instance_path)
    announced = False
    while not lock.try_acquire():
        if not announced:
            log.info("another scheduler is active; waiting as standby")
            announced = True
        beat(app, leader=False, started_at=started_at)
        time.sleep(STANDBY_RETRY_SECONDS)
    log.info("scheduler %s is the leader", node_name())
    with app.app_context():
        release_claims(get_db(), now=datetime.now(UTC))  # a leader before this one may have died mid-send
    scheduler = BlockingScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": None})
    start = datetime.now(UTC) + timedelta(seconds=1)
    for job in JOBS:
        scheduler.add_job(run_job, "interval", args=(app, job), id=job.id, seconds=job.every_seconds,
                          next_run_time=start, replace_existing=True)
    scheduler.add_job(reconcile, "interval", args=(app, scheduler), id="reconcile", seconds=RECONCILE_SECONDS,
                      next_run_time=start, replace_existing=True)
    scheduler.add_job(lambda: beat(app, leader=True, started_at=started_at, jobs=len(scheduler.get_jobs())),
                      "interval", id="heartbeat", seconds=HEARTBEAT_SECONDS, next_run_time=start)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()


def status(app: Flask) -> dict:
    """Heartbeats, next transitions, the outbox backlog per channel, the downloads of recordings and transcripts, and
    the compile lag (p50/p95/max, seconds)."""
    now = datetime.now(UTC)
    with app.app_context():
        db_session = get_db()
        beats = db_session.scalars(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc())).all()
        lags = sorted(lag for lag in db_session.scalars(select(Minutes.compile_lag_seconds)) if lag is not None)
        upcoming = planned_jobs(db_session, now=now)
        outbox = backlog(db_session)
        from majlis.minutes.attachments import backlog as downloads_backlog

        downloads = downloads_backlog(db_session)
    figures = None
    if lags:
        p95 = lags[min(len(lags) - 1, int(round(0.95 * (len(lags) - 1))))]
        figures = {"count": len(lags), "p50": statistics.median(lags), "p95": p95, "max": lags[-1]}
    return {"now": now, "heartbeats": [(b.node, b.is_leader, (now - b.beat_at).total_seconds()) for b in beats],
            "upcoming": upcoming[:10], "lag": figures, "outbox": outbox, "downloads": downloads}
