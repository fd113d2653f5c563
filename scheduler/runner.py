"""Run the jobs: once (run-due) or for ever under APScheduler with a leader lock."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from majlis.db import get_database
from scheduler.jobs import JOBS, Job
from scheduler.lock import LeaderLock

log = logging.getLogger("majlis.scheduler")
STANDBY_RETRY_SECONDS = 5


def run_job(app: Flask, job: Job, now: datetime | None = None) -> int:
    """Run one job in its own app context; errors are logged, never fatal to the scheduler."""
    with app.app_context():
        try:
            result = job.func(now or datetime.now(UTC))
        except Exception:
            log.exception("job %s failed", job.id)
            return -1
    if result:
        log.info("job %s: %s", job.id, result)
    return result


def run_due(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Run every job once now and return what each did."""
    return {job.id: run_job(app, job, now) for job in JOBS}


def run_forever(app: Flask) -> None:
    """Wait to become the leader, then run the jobs on their intervals until stopped."""
    lock = LeaderLock(get_database(app).engine, app.instance_path)
    announced = False
    while not lock.try_acquire():
        if not announced:
            log.info("another scheduler is active; waiting as standby")
            announced = True
        time.sleep(STANDBY_RETRY_SECONDS)
    log.info("scheduler is the leader")
    scheduler = BlockingScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                              "misfire_grace_time": None})
    start = datetime.now(UTC) + timedelta(seconds=1)
    for job in JOBS:
        scheduler.add_job(run_job, "interval", args=(app, job), id=job.id, seconds=job.every_seconds,
                          next_run_time=start, replace_existing=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()
