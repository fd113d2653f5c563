"""The real scheduler process: one leader among two, and minutes compiled right after a session ends."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from majlis.auth.services import AccountPolicy, issue_api_token
from majlis.db import Database, unit_of_work
from majlis.enums import Role
from majlis.heartbeat import SchedulerHeartbeat
from majlis.minutes.models import Minutes
from tests import factories
from tests.servers import free_port as _free_port

MAJLIS = Path(sys.executable).parent / "majlis"
ROOT = Path(__file__).resolve().parents[1]


def _start(args, env, log_path):
    log = open(log_path, "wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


def _stop(process, log):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _wait_for(condition, deadline_seconds: float, what: str):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {deadline_seconds:.0f} s")


def test_two_schedulers_one_leader_and_minutes_compiled_after_the_end(database_url, tmp_path):
    database = Database(database_url)
    db = database.session_factory()
    now = datetime.now(UTC)
    with unit_of_work(db):
        ending_soon = factories.majlis_session(db, starts_at=now - timedelta(minutes=30),
                                               ends_at=now + timedelta(seconds=6))
        staff = factories.user(db, role=Role.STAFF)
        token, _ = issue_api_token(db, staff, label="t", policy=AccountPolicy(False, "x", True), now=now)
    env = {**os.environ, "DATABASE_URL": database_url, "MAJLIS_INSTANCE_PATH": str(tmp_path / "instance"),
           "MAIL_BACKEND": "null"}
    port = _free_port()
    web, web_log = _start([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                           "wsgi:app"], env, tmp_path / "web.log")
    first, first_log = _start([str(MAJLIS), "scheduler"], env, tmp_path / "scheduler-1.log")
    second, second_log = _start([str(MAJLIS), "scheduler"], env, tmp_path / "scheduler-2.log")
    try:
        def heartbeats():
            with database.session_factory() as fresh:
                rows = fresh.scalars(select(SchedulerHeartbeat)).all()
                return rows if len(rows) == 2 else None

        rows = _wait_for(heartbeats, 40, "two scheduler heartbeats")
        assert sorted(row.is_leader for row in rows) == [False, True]  # one works, the other waits

        def compiled():
            with database.session_factory() as fresh:
                return fresh.scalar(select(Minutes).where(Minutes.session_id == ending_soon.id))

        minutes = _wait_for(compiled, 60, "compiling the minutes")
        assert minutes.compile_lag_seconds < 60

        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/sessions/{ending_soon.id}/minutes",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["status"] == "draft"
        with database.session_factory() as fresh:
            assert len(fresh.scalars(select(Minutes)).all()) == 1  # compiled once, by the leader
    finally:
        for process, log in ((first, first_log), (second, second_log), (web, web_log)):
            _stop(process, log)
        db.close()
        database.engine.dispose()
    logs = (tmp_path / "scheduler-1.log").read_text() + (tmp_path / "scheduler-2.log").read_text()
    assert "waiting as standby" in logs and "is the leader" in logs
    assert "Traceback" not in logs


def test_status_command_reports_heartbeat_plan_and_lag(runner, app, db):
    from scheduler.runner import beat, run_due

    now = datetime.now(UTC)
    with unit_of_work(db):
        factories.majlis_session(db, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
        factories.majlis_session(db, starts_at=now + timedelta(hours=2))
    run_due(app)
    beat(app, leader=True, started_at=now)
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    assert "leader" in result.output and "start:2" in result.output and "end:2" in result.output
    assert "p50" in result.output and "p95" in result.output
