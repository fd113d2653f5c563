"""Two Majlis instances (different ports, several workers each) on one PostgreSQL and one Redis."""

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from majlis.auth.services import AccountPolicy, issue_api_token
from majlis.db import Database, unit_of_work
from majlis.enums import RegistrationStatus, Role
from majlis.heartbeat import SchedulerHeartbeat
from majlis.registration.models import Registration
from tests import factories
from tests.conftest import PG_SKIP_REASON, PG_URL, REDIS_SKIP_REASON, REDIS_URL
from tests.registration.test_races import _all_at_once, _call
from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parents[1]
MAJLIS = Path(sys.executable).parent / "majlis"


@pytest.fixture
def cluster(request, tmp_path):
    """Instances A and B (gunicorn, 2 gthread workers each) sharing the test's PostgreSQL database and Redis."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP_REASON)
    request.getfixturevalue("pg_engine")
    url = request.getfixturevalue("pg_url")
    env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "MAIL_BACKEND": "null",
           "MAJLIS_RATELIMIT_PREFIX": f"scale-{uuid.uuid4().hex}"}
    database = Database(url)
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(gunicorn({**env, "MAJLIS_INSTANCE_PATH": str(tmp_path / name)},
                                              tmp_path / f"{name}.log", workers=2, threads=16))
                 for name in ("a", "b")]
        yield {"a": bases[0], "b": bases[1], "ab": bases, "database": database, "env": {**os.environ, **env},
               "tmp": tmp_path}
    database.engine.dispose()
    from tests.conftest import _truncate

    _truncate(request.getfixturevalue("pg_engine"))


def _seed(database, *, residents: int, capacity: int):
    now = datetime.now(UTC)
    db = database.session_factory()
    policy = AccountPolicy(False, "x", True)
    with unit_of_work(db):
        row = factories.majlis_session(db, capacity=capacity, starts_at=now + timedelta(minutes=20),
                                       registration_opens_at=now - timedelta(hours=1),
                                       registration_closes_at=now + timedelta(minutes=19))
        users = [factories.user(db) for _ in range(residents)]
        tokens = [issue_api_token(db, user, label="s", policy=policy, now=now)[0] for user in users]
        moderator = factories.user(db, role=Role.MODERATOR)
        moderator_token = issue_api_token(db, moderator, label="m", policy=policy, now=now)[0]
    db.close()
    return row.id, tokens, moderator_token


def test_a_registration_race_across_two_instances_holds_capacity(cluster):
    session_id, tokens, _ = _seed(cluster["database"], residents=30, capacity=10)
    path = f"/api/v1/sessions/{session_id}/registrations"
    calls = [lambda t=t, i=i: _call("POST", cluster["ab"][i % 2] + path, t) for i, t in enumerate(tokens)]
    results = _all_at_once(calls)
    assert [status for status, _ in results] == [201] * 30
    bodies = [body for _, body in results]
    assert sum(b["status"] == "confirmed" for b in bodies) == 10
    assert sorted(b["position"] for b in bodies if b["status"] == "waitlisted") == list(range(1, 21))
    with cluster["database"].session_factory() as db:
        confirmed = db.scalars(select(Registration).where(Registration.status == RegistrationStatus.CONFIRMED)).all()
        assert len(confirmed) == 10


def test_a_question_approved_on_one_instance_reaches_a_watcher_of_the_other(cluster):
    session_id, tokens, moderator = _seed(cluster["database"], residents=1, capacity=5)
    _call("POST", cluster["a"] + f"/api/v1/sessions/{session_id}/registrations", tokens[0])
    status, question = _request("POST", cluster["a"] + f"/api/v1/sessions/{session_id}/questions", tokens[0],
                                {"body": "سؤال عبر خادمين"})
    assert status == 201
    with cluster["database"].session_factory() as db:
        from majlis.sessions.live import current_version

        version = current_version(db, session_id)
    heard = []
    host, port = cluster["b"].removeprefix("http://").split(":")

    def watch():
        connection = http.client.HTTPConnection(host, int(port), timeout=20)
        connection.request("GET", f"/sessions/{session_id}/events?since={version}")
        response = connection.getresponse()
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("id:"):
                heard.append(int(line[3:]))
                break
        connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(1)  # let the watcher subscribe before the change (a late one would still catch up by version)
    status, _ = _request("POST", cluster["a"] + f"/api/v1/questions/{question['id']}/moderation", moderator,
                         {"action": "approve"})
    assert status == 200
    watcher.join(timeout=30)
    assert heard and heard[0] > version
    listing = _request("GET", cluster["b"] + f"/api/v1/sessions/{session_id}/questions", tokens[0])[1]
    assert [q["status"] for q in listing["questions"]] == ["approved"]


def test_rate_limits_are_shared_by_both_instances(cluster):
    _seed(cluster["database"], residents=1, capacity=1)
    statuses = []
    for attempt in range(11):
        base = cluster["ab"][attempt % 2]
        # A new address each time: this is the per-client limit, not the per-account throttle (in the database).
        status, _ = _request("POST", base + "/api/v1/auth/token", None,
                             {"email": f"nobody{attempt}@example.com", "password": f"Wrong-{attempt}-x"})
        statuses.append(status)
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_only_one_of_two_schedulers_works(cluster):
    env = cluster["env"]
    procs = []
    for name in ("s1", "s2"):
        log = open(cluster["tmp"] / f"{name}.log", "wb")
        procs.append((subprocess.Popen([str(MAJLIS), "scheduler"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                       env={**env, "MAJLIS_INSTANCE_PATH": str(cluster["tmp"] / name)}), log))
    try:
        deadline = time.monotonic() + 40
        rows = []
        while time.monotonic() < deadline:
            with cluster["database"].session_factory() as db:
                rows = db.scalars(select(SchedulerHeartbeat)).all()
            if len(rows) == 2:
                break
            time.sleep(0.5)
        assert sorted(row.is_leader for row in rows) == [False, True]
    finally:
        for process, log in procs:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _request(method, url, token, payload=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
