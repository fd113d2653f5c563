"""`make compare REV=<revision>`: the API's hot operations, this tree against an earlier revision, in process.

`make bench` measures each operation against a bare ceiling over HTTP, and its figures move with the machine's load
by more than a change to the application's own path does. To say "this change makes no API operation slower", this
runs the same requests through the two versions of the application in one run:

1. `git archive` exports REV (the "before") into a temporary directory;
2. a worker process per version, per database and per round builds a fresh database, seeds it through the
   application's own API (sign-ups, tokens) and the tests' factories, then times each operation through Flask's test
   client: the whole dispatch (authentication, rate limits, services, serialization, the database), without a
   server or a load generator in the way. Every answer's status is checked; a worker stops at the first wrong one;
3. the versions alternate round by round (and which goes first alternates too), so that the machine's load falls on
   both alike; the table shows each version's median over the rounds and the ratio after / before, the median
   of the rounds' own ratios (the two runs of a round are next to each other in time: a drift of the machine over
   the minutes of the run, as a database server's background work, falls on both).

Settings (environment): COMPARE_ROUNDS (3), COMPARE_REQUESTS (300) per operation and round,
MAJLIS_BENCH_DATABASE_URL (a PostgreSQL server: the scratch databases are made there, and their commits do not wait
for the disk, whose latency varies more than the application's path; without it SQLite only).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess  # noqa: S404 - exports a revision, runs the workers
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OPERATIONS = ("session list", "registration", "join, first", "join again", "question submit", "vote")
TOLERANCE = 1.05  # a ratio above this is reported as slower


def _worker(tree: str, database_url: str, requests: int) -> dict[str, float]:
    """Seed a fresh database with the tree's own code and time each operation; return microseconds per request."""
    sys.path.insert(0, tree)
    os.chdir(tree)
    import majlis.models  # noqa: F401 - every table
    from majlis import create_app
    from majlis.db import Base, make_engine, unit_of_work
    from majlis.enums import QuestionStatus, Role
    from tests import factories

    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    instance = tempfile.mkdtemp(prefix="majlis-compare-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance, "MAIL_BACKEND": "null",
                      "MAJLIS_FAST_PASSWORD_HASH": True, "JITSI_APP_ID": "majlis",
                      "JITSI_APP_SECRET": "compare-secret-0123456789abcdef0123"})
    client = app.test_client()
    from majlis.db import get_database

    db = get_database(app).session_factory()
    now = datetime.now(UTC)
    with unit_of_work(db):
        upcoming = factories.majlis_session(db, starts_at=now + timedelta(days=3), capacity=100_000,
                                            registration_opens_at=now - timedelta(days=1))
        live = factories.majlis_session(db, starts_at=now - timedelta(minutes=5), capacity=100_000,
                                        registration_opens_at=now - timedelta(days=1),
                                        registration_closes_at=now + timedelta(minutes=60))
        residents = [factories.user(db) for _ in range(3 * requests)]
        author = factories.user(db, role=Role.RESIDENT)
        for offset in range(30):  # a schedule for the list to read
            factories.majlis_session(db, starts_at=now + timedelta(days=offset, hours=2))
        upcoming_id, live_id = upcoming.id, live.id
        emails = [user.email for user in residents]
        author_email = author.email

    def check(response, expected: tuple[int, ...], what: str):
        if response.status_code not in expected:
            raise SystemExit(f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response

    def bearer(email: str) -> dict:
        answer = check(client.post("/api/v1/auth/token", json={"email": email, "password": factories.PASSWORD}),
                       (201,), "token")
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}

    tokens = [bearer(email) for email in emails]
    joiners, askers, voters = tokens[:requests], tokens[requests:2 * requests], tokens[2 * requests:]
    for headers in joiners + askers:
        check(client.post(f"/api/v1/sessions/{live_id}/registrations", headers=headers), (201,), "register live")
    author_headers = bearer(author_email)
    check(client.post(f"/api/v1/sessions/{live_id}/registrations", headers=author_headers), (201,), "register")
    asked = check(client.post(f"/api/v1/sessions/{live_id}/questions", headers=author_headers,
                              json={"body": "متى يفتح المركز الصحي الجديد في الحي الشمالي؟"}), (201,), "ask")
    question_id = asked.get_json()["id"]
    with unit_of_work(db):
        from majlis.questions.models import Question

        db.get(Question, question_id).status = QuestionStatus.APPROVED
    days = [(now + timedelta(days=d)).date().isoformat() for d in range(0, 28, 7)]

    def timed(calls) -> float:
        start = time.perf_counter()
        for call in calls:
            call()
        return (time.perf_counter() - start) / len(calls) * 1e6

    results = {
        "session list": timed([lambda d=d: check(client.get(f"/api/v1/sessions?from={d}"), (200,), "list")
                               for d in days * (requests // len(days))]),
        "registration": timed([lambda h=h: check(client.post(f"/api/v1/sessions/{upcoming_id}/registrations",
                                                             headers=h), (201,), "registration")
                               for h in voters]),
        "join, first": timed([lambda h=h: check(client.post(f"/api/v1/sessions/{live_id}/join", headers=h), (200,),
                                                "join") for h in joiners]),
        "join again": timed([lambda h=h: check(client.post(f"/api/v1/sessions/{live_id}/join", headers=h), (200,),
                                               "join again") for h in joiners]),
        "question submit": timed([lambda h=h: check(client.post(f"/api/v1/sessions/{live_id}/questions", headers=h,
                                                                json={"body": "هل ستُرصف الطرق الداخلية قريبًا؟"}),
                                                    (201,), "question") for h in askers]),
        "vote": timed([lambda h=h: check(client.post(f"/api/v1/questions/{question_id}/vote", headers=h), (200,),
                                         "vote") for h in askers]),
    }
    db.close()
    get_database(app).engine.dispose()
    shutil.rmtree(instance, ignore_errors=True)
    return results


def _export(revision: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="majlis-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True)  # noqa: S603,S607
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)  # noqa: S603,S607
    return target


def _run_worker(tree: Path, database_url: str, requests: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--worker", str(tree), database_url, str(requests)],  # noqa: S603
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("COMPARE_JSON ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"worker in {tree} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(line.removeprefix("COMPARE_JSON "))


def _sqlite_database() -> tuple[str, Callable[[], None]]:
    folder = tempfile.mkdtemp(prefix="majlis-compare-")
    return f"sqlite:///{folder}/majlis.db", lambda: shutil.rmtree(folder, ignore_errors=True)


def _databases(pg_url: str | None):
    yield "SQLite", _sqlite_database
    if pg_url:
        from seed import scratch_postgres

        def database():
            url, drop = scratch_postgres(pg_url, "majlis_compare")
            # Commits do not wait for the disk: on a shared machine its latency varies by more than the
            # application's path does (registration 2.8-5.5 ms for one version), and it is the same for both.
            return f"{url}{'&' if '?' in url else '?'}options=-csynchronous_commit%3Doff", drop

        yield "PostgreSQL", database


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        tree, database_url, requests = argv[1], argv[2], int(argv[3])
        print("COMPARE_JSON " + json.dumps(_worker(tree, database_url, requests)))
        return 0
    if not argv:
        print("usage: make compare REV=<git revision>  (the 'before' to compare this tree with)", file=sys.stderr)
        return 2
    revision = argv[0]
    rounds = int(os.environ.get("COMPARE_ROUNDS") or 3)
    requests = int(os.environ.get("COMPARE_REQUESTS") or 300)
    sys.path.insert(0, str(HERE))
    before_tree = _export(revision)
    try:
        return _compare(revision, before_tree, rounds, requests)
    finally:
        shutil.rmtree(before_tree, ignore_errors=True)


def _compare(revision: str, before_tree: Path, rounds: int, requests: int) -> int:
    label = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", revision],  # noqa: S603,S607
                           capture_output=True, text=True, check=True).stdout.strip()
    print(f"before: {label}\nafter:  this tree ({ROOT})\n{rounds} rounds x {requests} requests per operation")
    figures: dict[tuple[str, str, str], list[float]] = {}
    started = time.monotonic()
    for engine, make_database in _databases(os.environ.get("MAJLIS_BENCH_DATABASE_URL")):
        for round_ in range(rounds):
            order = [("before", before_tree), ("after", ROOT)]
            for side, tree in order if round_ % 2 == 0 else reversed(order):
                url, drop = make_database()
                try:
                    for name, micros in _run_worker(tree, url, requests).items():
                        figures.setdefault((engine, name, side), []).append(micros)
                finally:
                    drop()
            print(f"  {engine} round {round_ + 1} done ({time.monotonic() - started:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"\n{'operation':18} {'database':10} {'before µs':>10} {'after µs':>10} {'after/before':>13}")
    slower = []
    for engine in dict.fromkeys(key[0] for key in figures):
        for name in OPERATIONS:
            before = statistics.median(figures[(engine, name, "before")])
            after = statistics.median(figures[(engine, name, "after")])
            ratio = statistics.median(a / b for a, b in zip(figures[(engine, name, "after")],
                                                            figures[(engine, name, "before")], strict=True))
            flag = "  slower" if ratio > TOLERANCE else ""
            if flag:
                slower.append(f"{name} ({engine})")
            print(f"{name:18} {engine:10} {before:10.0f} {after:10.0f} {ratio:13.2f}{flag}")
    print(f"\n{'slower by more than 5%: ' + ', '.join(slower) if slower else 'no operation slower by more than 5%'}"
          f" ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
