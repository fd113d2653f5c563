"""`make bench`: Majlis against the bare stack on this machine, in one run, and bench/RESULTS.md.

Order of a run:
1. seed a fresh SQLite database (in a temp dir) through Majlis's services, and at the same time, in a process of its
   own, a scratch PostgreSQL database when MAJLIS_BENCH_DATABASE_URL names a server (bench/seed.py);
2. start the bare ceiling app and Majlis under gunicorn with the same settings (sync workers);
3. run the HTTP benchmarks (bench_http): groups sharing a ceiling alternate ceiling and Majlis runs, each request
   shape checked once before it is timed and the database checked after each burst;
4. restart Majlis on gthread workers with Redis and measure the live fan-out to 1,000 watchers (bench_live);
5. time the minutes compile in process (bench_minutes) and the archive search over 10,000 minutes in a scratch
   database (bench_search);
6. repeat 2-5 on PostgreSQL;
7. profile, with py-spy, every benchmark that missed its target; print the table; write RESULTS.md.

Every load is time-bounded and aimed at 127.0.0.1 only; every server is stopped in a finally block.
`python bench/run.py --analysis-only` measures nothing: it replaces the hand-written part of RESULTS.md with the
current bench/ANALYSIS.md, so the text can be corrected without new (and different) figures.

Settings (environment):
- BENCH_SECONDS (5) per timed run, BENCH_CONNECTIONS (16), BENCH_WORKERS (4 sync workers for both apps);
- BENCH_ONLY=feed,join: only the benchmarks whose names contain one of these parts (prints, leaves RESULTS.md
  alone); the names: /healthz, session list, session page (anonymous, signed in), ICS feed (full, 304), join
  (first, again), registration, vote, question, fan-out, minutes, archive search;
- BENCH_WATCHERS (1000) live fan-out watchers, each with its own address (X-Forwarded-For, MAJLIS_TRUSTED_PROXIES=1:
  the stream service behind a proxy of docs/production.md), on a gunicorn of BENCH_SSE_WORKERS (2) workers of class
  BENCH_SSE_WORKER_CLASS (gthread; gevent once installed) with BENCH_SSE_THREADS threads each (default: watchers
  + 50, so that one worker could hold every stream the accept race gives it and still serve other requests) and as
  many --worker-connections (watchers + 50 for other classes), and MAJLIS_LIVE_STREAMS_PER_WORKER set to
  BENCH_SSE_STREAMS_PER_WORKER (default: watchers); the run raises its open-files limit for the watchers or says
  why it cannot;
- BENCH_SEED_PROCESSES (2): processes that seed PostgreSQL;
- BENCH_PROFILE_SECONDS (3) of load under py-spy for each missed target, BENCH_NO_PROFILE=1 (none);
- BENCH_KEEP=1 (keep the temp dir: logs, raw profiles), BENCH_NO_WRK=1 (Python client).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess  # noqa: S404 - asks wrk for its version, runs the PostgreSQL seed
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bare_app  # noqa: E402
import bench_http  # noqa: E402
import bench_live  # noqa: E402
import bench_minutes  # noqa: E402
import bench_search  # noqa: E402
import hotspots  # noqa: E402
import loadgen  # noqa: E402
import seed  # noqa: E402
from servers import Gunicorn, free_port  # noqa: E402

RESULTS = HERE / "RESULTS.md"
ANALYSIS = HERE / "ANALYSIS.md"
ANALYSIS_HEADING = "## Analysis (hand-written, bench/ANALYSIS.md)"
REDIS_URL = "redis://127.0.0.1:6379/0"
FANOUT_TARGET_MS = 500.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass
class Settings:
    seconds: int = _env_int("BENCH_SECONDS", 5)
    connections: int = _env_int("BENCH_CONNECTIONS", 16)
    workers: int = _env_int("BENCH_WORKERS", 4)
    watchers: int = _env_int("BENCH_WATCHERS", 1000)
    sse_workers: int = _env_int("BENCH_SSE_WORKERS", 2)
    sse_threads: int = _env_int("BENCH_SSE_THREADS", 0)  # 0: watchers + 50
    sse_worker_class: str = os.environ.get("BENCH_SSE_WORKER_CLASS") or "gthread"
    sse_streams_per_worker: int = _env_int("BENCH_SSE_STREAMS_PER_WORKER", 0)  # 0: watchers
    profile: bool = not os.environ.get("BENCH_NO_PROFILE")
    profile_seconds: int = _env_int("BENCH_PROFILE_SECONDS", 3)
    keep: bool = bool(os.environ.get("BENCH_KEEP"))
    # A partial run while working on one endpoint: comma-separated parts of benchmark names ("feed,join");
    # it prints its table but leaves RESULTS.md alone.
    only: tuple[str, ...] = tuple(part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",")
                                  if part.strip())

    def __post_init__(self):
        self.sse_threads = self.sse_threads or self.watchers + 50
        self.sse_streams_per_worker = self.sse_streams_per_worker or self.watchers


@dataclass
class BackendResult:
    label: str
    rows: list[bench_http.Row]
    fixture: seed.Fixture
    minutes: tuple | None = None
    search: tuple[dict[str, list[float]], float] | None = None  # bench_search's timings (ms), seconds seeding
    fanout: bench_live.FanOut | None = None
    fanout_row: bench_http.Row | None = None
    fanout_polling: int = 0  # streams that could not subscribe to Redis and poll the database instead
    fanout_lost: int = 0  # changes whose Redis publish failed: watchers only see them at their next re-read
    notes: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average when its HTTP benchmarks began and ended


def log(message: str) -> None:
    print(message, flush=True)


# --- the machine ----------------------------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine(wrk: str | None) -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    wrk_version = "not used (Python threaded client)"
    if wrk:
        done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        first = (done.stdout or done.stderr or wrk).splitlines()[0]
        wrk_version = first.split(" [")[0]  # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." -> "wrk debian/4.1.0-3+b2"
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": model.group(1).strip() if model else platform.processor() or "unknown",
        "memory": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "gunicorn": _version("gunicorn"),
        "Flask": _version("flask"),
        "Werkzeug": _version("werkzeug"),
        "SQLAlchemy": _version("sqlalchemy"),
        "SQLite": sqlite3.sqlite_version,
        "PyJWT": _version("pyjwt"),
        "redis-py": _version("redis"),
        "load generator": wrk_version,
    }


def redis_server_version() -> str | None:
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2).info("server")[
            "redis_version"]
    except Exception:  # noqa: BLE001 - no Redis here: the fan-out then runs on the polling fallback
        return None


# --- one database backend -------------------------------------------------------------------------------------------


def _server_env(database_url: str, instance: Path, base_url_port: int, **extra: str) -> dict[str, str]:
    """Production mode, as a deployment would run; Jitsi configured for the join benchmark."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update({
        "MAJLIS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "MAJLIS_INSTANCE_PATH": str(instance),
        "MAJLIS_BASE_URL": f"http://127.0.0.1:{base_url_port}",
        "MAIL_BACKEND": "null",
        "JITSI_APP_ID": "majlis-bench",
        "JITSI_APP_SECRET": secrets.token_urlsafe(32),
        "JITSI_SUB": "meet.example.org",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _profile_hook(server: Gunicorn, settings: Settings, wrk: str | None, work: Path, binary: str | None):
    def hook(name: str, requests: list[loadgen.Req]) -> str:
        if binary is None:
            return "_not profiled: py-spy unavailable_\n"
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        seconds = settings.profile_seconds
        log(f"  profiling '{name}' with py-spy ({seconds} s of load)")
        time.sleep(1)  # the previous run's last accepted requests drain first, so they stay out of this profile
        recorders = hotspots.start(binary, server.worker_pids(), seconds, work, slug)
        time.sleep(0.5)  # py-spy attaches before the load begins
        loadgen.run(server.base_url, requests, seconds=seconds, connections=settings.connections, wrk=wrk)
        return hotspots.summarize(hotspots.finish(recorders)).markdown()

    return hook


def run_backend(label: str, database_url: str, fixture: seed.Fixture, work: Path, settings: Settings,
                wrk: str | None, pyspy: str | None) -> BackendResult:
    from majlis.db import Database

    log(f"\n== {label} ==")
    instance = work / "instance"
    # The ceiling writes to the same kind of database: its own SQLite file, or a table in the scratch PG database.
    bare_url = f"sqlite:///{work / 'bare.db'}" if database_url.startswith("sqlite") else database_url
    bare_app.create_schema(bare_url)

    common = {"workers": settings.workers, "worker_class": "sync"}
    bare = Gunicorn("bare", "bare_app:app", {**os.environ, "BENCH_BARE_DATABASE_URL": bare_url}, work, **common)
    port = free_port()
    majlis = Gunicorn("majlis", "majlis_app:app", _server_env(database_url, instance, port), work, port=port,
                      **common)
    database = Database(database_url)
    result = BackendResult(label=label, rows=[], fixture=fixture)
    try:
        bare.start("/hello")
        majlis.start("/healthz")
        tool = f"wrk -t1 -c{settings.connections} -d{settings.seconds}s" if wrk else \
            f"Python client, {settings.connections} threads, {settings.seconds} s"
        log(f"bare app {bare.base_url} and Majlis {majlis.base_url}: gunicorn {majlis.settings}; load: {tool}")
        ctx = bench_http.Context(
            bare_url=bare.base_url, majlis_url=majlis.base_url, fixture=fixture, wrk=wrk, seconds=settings.seconds,
            connections=settings.connections, log=log, database=database,
            profile_hook=_profile_hook(majlis, settings, wrk, work, pyspy) if settings.profile else None,
            only=settings.only)
        started_load = os.getloadavg()[0]
        result.rows = bench_http.run_suite(ctx)
        result.load = (started_load, os.getloadavg()[0])
        for server in (majlis, bare):
            if server.tracebacks():
                result.notes.append(f"{server.tracebacks()} traceback(s) in the {server.name} server's log")
    finally:
        majlis.stop()
        bare.stop()

    if bench_http.wanted(settings.only, "live fan-out"):
        run_fanout(result, database, database_url, instance, work, settings, pyspy)
    if bench_http.wanted(settings.only, "minutes compile"):
        log("minutes compile (in process) ...")
        result.minutes = bench_minutes.run(database_url, str(instance), fixture.minutes_session_id)
        compose, compiled, length = result.minutes
        log(f"  compose_draft: {compose.describe()}; compile_minutes: {compiled.describe()} ({length} characters)")
    database.engine.dispose()
    if bench_http.wanted(settings.only, "archive search"):
        log(f"archive search (in process, {bench_search.DOCUMENTS:,} minutes with transcripts, a scratch database) ...")
        result.search = bench_search.run(database_url)
        log("  " + _search_line(result.search))
    return result


def _search_line(search: tuple[dict[str, list[float]], float]) -> str:
    timings, seconds = search
    return "; ".join(f"{label} «{query}» median {bench_search.median_of(timings, label):.1f} ms"
                     for label, query in bench_search.QUERIES.items()) + f" (seeded in {seconds:.0f} s)"


def _search_met(search) -> bool:
    return bench_search.median_of(search[0]) < bench_search.TARGET_MS


def fanout_name(settings: Settings) -> str:
    return f"live fan-out p95, {settings.watchers:,} watchers"


def _fanout_connections(settings: Settings) -> int:
    return settings.sse_threads if settings.sse_worker_class == "gthread" else settings.watchers + 50


def _fanout_layout(settings: Settings) -> str:
    threads = f" --threads {settings.sse_threads}" if settings.sse_worker_class == "gthread" else ""
    return (f"--workers {settings.sse_workers} --worker-class {settings.sse_worker_class}{threads} "
            f"--worker-connections {_fanout_connections(settings)} with MAJLIS_LIVE_STREAMS_PER_WORKER="
            f"{settings.sse_streams_per_worker} and MAJLIS_TRUSTED_PROXIES=1 (each watcher's own address in "
            "X-Forwarded-For, as the proxy in front of a stream service sends it)")


def descriptors_for(watchers: int) -> str | None:
    """Raise this process's open-files limit (its servers inherit it) for the watchers; None, or why it cannot.

    One watcher is a socket in the client and one in a worker, plus that worker's Redis subscription.
    """
    needed = 2 * watchers + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            return (f"{watchers} watchers need about {needed} open files per process, but the hard limit is {hard} "
                    f"(`ulimit -Hn`): raise it, or set BENCH_WATCHERS to at most {(hard - 512) // 2}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return None


def run_fanout(result: BackendResult, database, database_url: str, instance: Path, work: Path, settings: Settings,
               pyspy: str | None) -> None:
    from majlis.sessions import live

    name = fanout_name(settings)
    row = bench_http.Row(name=name, majlis=None, ceiling=None, ceiling_name="", unit="ms", target=FANOUT_TARGET_MS)
    row.shape = (f"{settings.watchers:,} browsers hold GET /sessions/<live id>/events (Server-Sent Events) while the "
                 "moderator approves 5 questions; the time from each approval's answer to each watcher reading the "
                 f"new version; gunicorn {_fanout_layout(settings)}")
    result.fanout_row = row
    problem = descriptors_for(settings.watchers)
    if problem:
        log(f"live fan-out not run: {problem}")
        row.display, row.note = "not run", f"not run: {problem}"
        row.extra_checks = {"enough open files for the watchers": False}
        return
    redis_version = redis_server_version()
    # The stream service of docs/production.md: behind a proxy (so each browser is its own client for the app's
    # per-client stream cap), with a per-worker cap that lets a worker take what the accept race gives it.
    extra = {"MAJLIS_LIVE_STREAM_SECONDS": "600", "MAJLIS_TRUSTED_PROXIES": "1",
             "MAJLIS_LIVE_STREAMS_PER_WORKER": str(settings.sse_streams_per_worker)}
    if redis_version:
        extra["REDIS_URL"] = REDIS_URL
    # A gthread worker accepts connections beyond its threads (worker_connections defaults to 1000) and parks
    # them until a thread frees up, which a stream never does: cap each worker at its thread count, so the
    # other worker takes the rest instead.
    gthread = settings.sse_worker_class == "gthread"
    port = free_port()
    server = Gunicorn("majlis-sse", "majlis_app:app", _server_env(database_url, instance, port, **extra), work,
                      port=port, workers=settings.sse_workers, worker_class=settings.sse_worker_class,
                      threads=settings.sse_threads if gthread else 1,
                      extra=["--worker-connections", str(_fanout_connections(settings))])
    f = result.fixture
    log(f"live fan-out: {settings.watchers} SSE watchers, gunicorn {_fanout_layout(settings)}; "
        + (f"REDIS_URL={REDIS_URL} (Redis {redis_version})" if redis_version else "no Redis reachable: polling"))
    try:
        server.start("/healthz")
        with database.session_factory() as db:
            since = live.current_version(db, f.live_session_id)
        questions = f.pending_question_ids[:5]
        fan = bench_live.run(server.base_url, session_id=f.live_session_id, since=since,
                             moderator_token=f.moderator_token, question_ids=questions, watchers=settings.watchers)
        log("  " + bench_live.summary(fan))
        result.fanout = fan
        log_text = server.log_path.read_text(errors="replace")
        result.fanout_polling = log_text.count("live stream without Redis")
        result.fanout_lost = log_text.count("live update not published")
        row.majlis = fan.p95
        row.display = (f"p95 {_fmt(fan.p95, 'ms')} (p50 {_fmt(fan.p50, 'ms')})" if fan.p95 is not None
                       else "no delivery")
        row.extra_checks = {f"{settings.watchers}/{settings.watchers} connected": fan.connected == settings.watchers,
                            "no missed event": fan.missed == 0 and not fan.errors,
                            "no lost publish": result.fanout_lost == 0}
        row.note = bench_live.summary(fan)
        if fan.errors:
            row.note += "; errors: " + "; ".join(fan.errors[:5])
        if result.fanout_polling:
            row.note += (f"; {result.fanout_polling} stream(s) fell back to polling the database every 0.5 s "
                         "(majlis.sessions.live: 'live stream without Redis')")
        if result.fanout_lost:
            row.note += (f"; {result.fanout_lost} change(s) were not published to Redis (majlis.sessions.live: 'live "
                         "update not published'), so watchers saw them only at their next re-read")
        if server.tracebacks():
            result.notes.append(f"{server.tracebacks()} traceback(s) in the fan-out server's log")
            row.note += f"; {server.tracebacks()} traceback(s) in the server's log (kept with BENCH_KEEP=1)"
        if row.met is False and settings.profile and pyspy:
            # On a fresh server: the measured round's streams would otherwise still hold threads and connections
            # until each notices, at its next write, that its watcher has gone.
            server.stop()
            server.start("/healthz")
            log("  profiling the fan-out with py-spy (a fresh server, the watchers again, 3 approvals)")
            # Only the GIL holder: each worker holds 500+ stream threads (see hotspots.start).
            recorders = hotspots.start(pyspy, server.worker_pids(), 12, work, "fanout", gil=True)
            time.sleep(0.5)
            with database.session_factory() as db:
                since = live.current_version(db, f.live_session_id)
            bench_live.run(server.base_url, session_id=f.live_session_id, since=since,
                           moderator_token=f.moderator_token, question_ids=f.pending_question_ids[5:8],
                           watchers=settings.watchers, connect_timeout=10)
            row.profile = hotspots.summarize(hotspots.finish(recorders), gil=True).markdown()
    finally:
        server.stop()


# --- seeding ----------------------------------------------------------------------------------------------------------


def seed_both(sqlite_url: str, sqlite_dir: Path, pg: tuple[str, Path] | None) -> tuple[seed.Fixture,
                                                                                           seed.Fixture | None]:
    """Seed SQLite here and PostgreSQL in a process of its own, at the same time (no load runs meanwhile)."""
    process = None
    if pg:
        scratch, pg_dir = pg
        out = pg_dir / "fixture.json"
        seed_log = open(pg_dir / "seed.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen([sys.executable, str(HERE / "seed.py"), scratch, str(pg_dir / "instance"),  # noqa: S603
                                    str(out)], stdout=seed_log, stderr=subprocess.STDOUT)
        log("seeding PostgreSQL in another process (its log: postgresql/seed.log) ...")
    try:
        log("seeding SQLite through Majlis's services ...")
        lite = seed.build(sqlite_url, str(sqlite_dir / "instance"), log=log)
        log(f"  SQLite seeded in {lite.seconds:.1f} s: {lite.sessions_total} sessions, "
            f"{len(lite.resident_tokens)} residents, {lite.registrations_total} registrations")
        if process is None:
            return lite, None
        if process.wait() != 0:
            raise RuntimeError("seeding PostgreSQL failed:\n" + (pg_dir / "seed.log").read_text(errors="replace"))
        postgres = seed.Fixture.from_dict(json.loads(out.read_text(encoding="utf-8")))
        log(f"  PostgreSQL seeded in {postgres.seconds:.1f} s")
        return lite, postgres
    finally:
        if process is not None:
            if process.poll() is None:
                process.kill()
                process.wait()
            seed_log.close()


# --- PostgreSQL (optional) ------------------------------------------------------------------------------------------


def _redact(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]+@", r"//\1:***@", url)


# --- reporting ------------------------------------------------------------------------------------------------------

# The figures of the last run before the benchmarks sent what real clients send (RESULTS.md of 2026-11-29 19:40 UTC,
# the pre-Flask fast path still in place): row name (its start) -> (SQLite, PostgreSQL, comparable?, what it sent).
BEFORE_RUN = "2026-11-29 19:40 UTC, the last run with the pre-Flask fast path"
BEFORE = {
    "/healthz": ("0.35", "0.23", True, "the same request (then a floor without a target)"),
    "session list": ("0.81", "0.70", False, "then GET /api/v1/sessions without a query string (200 tokens): the "
                     "one shape the fast path stored"),
    "session page, anonymous": ("0.04", "0.04", False, "then one page, the live session's, repeated"),
    "session page, signed in": (None, None, False, "not measured before"),
    "ICS feed, full": ("1.36", "0.74", True, "the same request"),
    "ICS feed, 304": ("1.06", "0.90", False, "then /calendar/majlis.ics alone, one ETag"),
    "join, first": ("1.67", "1.28", True, "the same shape (then 5,000 registrants)"),
    "join again": ("0.75", "0.66", True, "the same shape"),
    "registration burst": ("0.59", "0.51", False, "then one session of capacity 100, so every request queued on "
                           "one row's lock"),
    "vote burst": ("0.18", "0.20", True, "distinct (resident, question) pairs then too (5,000 × 40, diagonal)"),
    "question submit": ("0.18", "0.20", True, "the same request (then all to the live session)"),
    "live fan-out": ("160 ms", None, False, "then 200 watchers, on SQLite only"),
    "minutes compile": ("18 ms", "37 ms", True, "the same session"),
}


def before_of(name: str, label: str) -> str:
    for key, (lite, postgres, comparable, _) in BEFORE.items():
        if name.startswith(key):
            value = lite if label == "SQLite" else postgres
            if value is None:
                return "new"
            return value if comparable else f"({value}) n/c"
    return "new"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} {unit}" if unit == "req/s" else f"{value:,.0f} ms"


def _rows(result: BackendResult) -> list[bench_http.Row]:
    return list(result.rows) + ([result.fanout_row] if result.fanout_row else [])


def table(results: list[BackendResult]) -> list[list[str]]:
    lines = [["benchmark", "database", "Majlis", "ceiling", "ratio", "target", "met?", "before"]]
    for result in results:
        for row in _rows(result):
            ceiling = f"{_fmt(row.ceiling, row.unit)} ({row.ceiling_name})" if row.ceiling else "–"
            met = {True: "yes", False: "**no**", None: "–"}[row.met]
            figure = row.display or _fmt(row.majlis, row.unit)
            if row.unexpected:
                figure += f" (+{row.unexpected:,} unexpected)"
            lines.append([row.name, result.label, figure, ceiling, f"{row.ratio:.2f}" if row.ratio is not None else "–",
                          row.target_text, met, before_of(row.name, result.label)])
        if result.minutes:
            compose, compiled, _ = result.minutes
            lines.append(["minutes compile, 500 questions", result.label,
                          f"{compiled.median:.0f} ms (compose_draft {compose.median:.0f} ms)", "–", "–", "—", "–",
                          before_of("minutes compile", result.label)])
        if result.search:
            lines.append(["archive search, 10,000 minutes", result.label,
                          f"median {bench_search.median_of(result.search[0]):.0f} ms", "–", "–",
                          f"< {bench_search.TARGET_MS:.0f} ms (issue 18)",
                          "yes" if _search_met(result.search) else "**no**", "new"])
    return lines


def print_table(lines: list[list[str]]) -> None:
    widths = [max(len(line[i].replace("**", "")) for line in lines) for i in range(len(lines[0]))]
    for index, line in enumerate(lines):
        print("  ".join(cell.replace("**", "").ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _shapes(results: list[BackendResult]) -> list[str]:
    """What each row sends, and against which ceiling (from the first engine that ran it)."""
    seen, out = set(), []
    for result in results:
        for row in _rows(result):
            if row.name in seen:
                continue
            seen.add(row.name)
            ceiling = f" Ceiling: the {row.ceiling_name}." if row.ceiling_name else ""
            out.append(f"- **{row.name}** (target {row.target_text}): {row.shape}.{ceiling}")
    out.append("- **minutes compile, 500 questions**: `compile_minutes` and `compose_draft` in process on the ended "
               "session (no target).")
    out.append(f"- **archive search, 10,000 minutes** (target < {bench_search.TARGET_MS:.0f} ms, issue 18): "
               "`minutes.services.search` in process, a two-word Arabic query («انارة الشارع») over 10,000 published "
               "minutes with transcripts seeded in a scratch database (`bench/bench_search.py`); the median of 101 "
               "runs after a warm-up, with other spellings, a rarer word and the worst case beside it under Details.")
    return out


def write_results(results: list[BackendResult], info: dict[str, str], settings: Settings, *, started: datetime,
                  wall: float, load_before: tuple, load_after: tuple, redis_version: str | None,
                  pg: str | None) -> None:
    lines = table(results)
    f = results[0].fixture
    out = ["# Benchmark results", "",
           f"Latest run of `make bench`: {started:%Y-%m-%d %H:%M} UTC, {wall / 60:.1f} minutes for the whole run "
           "(seeding, servers, load, profiles). Generated by `bench/run.py`; the analysis at the end is written by "
           "hand in `bench/ANALYSIS.md` from the profiles.", "",
           "## Machine and settings", ""]
    out += [f"- {key}: {value}" for key, value in info.items()]
    out += [
        f"- Redis server: {redis_version or 'not reachable (fan-out ran on the polling fallback)'}",
        f"- PostgreSQL: {_redact(pg) if pg else 'not run (set MAJLIS_BENCH_DATABASE_URL to add it)'}",
        f"- load average (1/5/15 min) before: {' / '.join(f'{x:.2f}' for x in load_before)}, after: "
        f"{' / '.join(f'{x:.2f}' for x in load_after)}; 1-minute load when the HTTP benchmarks began and ended: "
        + ", ".join(f"{r.label} {r.load[0]:.1f} and {r.load[1]:.1f}" for r in results)
        + " (other work on the machine weighs on both halves of a pair; the fan-out's 1,000 stream threads, woken "
        "at once, raise the load average by themselves)",
        f"- HTTP benchmarks: gunicorn --workers {settings.workers} --worker-class sync, identical for Majlis "
        f"(`bench/majlis_app.py`, i.e. `create_app()`, MAJLIS_ENV=production) and the bare app "
        f"(`bench/bare_app.py`); load `wrk -t1 -c{settings.connections} -d{settings.seconds}s` after a 1 s warm-up, "
        "on 127.0.0.1; load generator, servers and database share the same cores",
        f"- live fan-out: gunicorn {_fanout_layout(settings)}; REDIS_URL={REDIS_URL if redis_version else '(none)'}, "
        f"MAJLIS_LIVE_STREAM_SECONDS=600, {settings.watchers:,} watchers on one asyncio client (BENCH_WATCHERS, "
        "BENCH_SSE_WORKERS, BENCH_SSE_THREADS, BENCH_SSE_WORKER_CLASS, BENCH_SSE_STREAMS_PER_WORKER)",
        f"- data, seeded through Majlis's services (`bench/seed.py`, on each engine): {f.sessions_total} sessions "
        f"(four series with a year of history and 26 weeks ahead, one of them invitation-only, and one-offs), "
        f"{len(f.resident_tokens):,} residents with API tokens, {f.registrations_total:,} registrations (the last "
        f"six weeks' sessions booked and attended, open ones partly booked), a live session with "
        f"{len(f.live_tokens):,} registrants who joined at its start and "
        f"{len(f.vote_question_ids) + len(f.warm_vote_question_ids) + len(f.profile_vote_question_ids)} approved "
        f"questions, a session about to start with {len(f.start_tokens):,} registrants who have not joined, "
        f"{len(f.burst_session_ids)} sessions whose registration just opened, an ended session with 500 questions; "
        f"seeding took {results[0].fixture.seconds:.0f} s"
        + (f" (SQLite) and {results[1].fixture.seconds:.0f} s (PostgreSQL), side by side" if len(results) > 1 else ""),
        "", "## What each row sends", "",
        "Every row replays many different requests, shaped like its real clients'; writes never send a line twice. "
        "Each request shape is checked once before it is timed, and the database after each burst (see Details).", ""]
    out += _shapes(results)
    out += ["", "## Results", "",
            "Ratios are Majlis ÷ the mean of its ceiling measured just before and just after it (same run, same "
            "settings; rows sharing a ceiling alternate with it). Req/s counts only the expected answers (200, 201 or "
            "304); anything else is shown as unexpected and not counted. Targets are issue 15's; the checks are "
            f"listed under Details. *Before*: the ratio of {BEFORE_RUN}; \"n/c\" marks a row whose request shape "
            "has changed since, so that figure is not comparable (see Before and after).", ""]
    out.append("| " + " | ".join(lines[0]) + " |")
    out.append("|" + "---|" * len(lines[0]))
    out += ["| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in lines[1:]]

    met, missed = [], []
    for result in results:
        for row in _rows(result):
            if row.met is True:
                met.append(f"{row.name} ({result.label})")
            elif row.met is False:
                missed.append(f"{row.name} ({result.label})")
        if result.search:
            (met if _search_met(result.search) else missed).append(f"archive search ({result.label})")
    out += ["", f"**Targets met ({len(met)}):** " + (", ".join(met) or "none") + ".", "",
            f"**Targets missed ({len(missed)}):** " + (", ".join(missed) or "none") + ".", ""]
    out += ["## Before and after", "",
            f"*Before* is {BEFORE_RUN}; what each row sent then:", ""]
    out += [f"- **{key}**: " + ("comparable: " if comparable else "**not comparable**: ") + what
            for key, (_, _, comparable, what) in BEFORE.items()]
    out += ["", "For reference, issue 15 reports these ratios measured on the fast path with shapes like today's "
            "(SQLite / PostgreSQL): `/healthz` 0.33 / 0.19, the dated session list 0.13 / 0.08, the session page "
            "0.07 / 0.06, registrations 0.19 / 0.18, votes 0.08 / 0.09, joins again 0.80 / 0.63.", "",
            "## Details", ""]
    for result in results:
        out += [f"### {result.label}", ""]
        for row in _rows(result):
            out.append(f"- **{row.name}**: {row.note}")
            if row.extra_checks:
                out.append("  - checks: " + ", ".join(f"{k}: {'yes' if v else 'NO'}"
                                                      for k, v in row.extra_checks.items()))
        if result.minutes:
            compose, compiled, length = result.minutes
            out.append(f"- **minutes compile** (500 questions, in process): compile_minutes {compiled.describe()}; "
                       f"compose_draft {compose.describe()}; draft of {length} characters")
        if result.search:
            out.append(f"- **archive search** (10,000 minutes, in process): {_search_line(result.search)}")
        out += [f"- note: {note}" for note in result.notes]
        out.append("")

    profiled = [(result.label, row) for result in results for row in _rows(result) if row.profile]
    out += ["## Profiles of the missed targets", ""]
    if not profiled:
        out += ["No target was missed, or profiling was switched off (BENCH_NO_PROFILE)." if not missed else
                "Missed targets were not profiled (BENCH_NO_PROFILE, or no profile for that benchmark).", ""]
    for label, row in profiled:
        out += [f"### {row.name} ({label})", "", row.profile]
    RESULTS.write_text("\n".join(out).rstrip() + "\n" + _analysis_section(), encoding="utf-8")


def _analysis_section() -> str:
    if not ANALYSIS.exists():
        return ""
    return f"\n{ANALYSIS_HEADING}\n\n{ANALYSIS.read_text(encoding='utf-8').strip()}\n"


def refresh_analysis() -> int:
    """Swap the hand-written section of the existing RESULTS.md for the current ANALYSIS.md."""
    if not RESULTS.exists():
        log("no bench/RESULTS.md yet: run `make bench` first")
        return 1
    figures = RESULTS.read_text(encoding="utf-8").split(f"\n{ANALYSIS_HEADING}\n", 1)[0]
    RESULTS.write_text(figures.rstrip() + "\n" + _analysis_section(), encoding="utf-8")
    log(f"refreshed the analysis in {RESULTS.relative_to(HERE.parent)}")
    return 0


# --- main -----------------------------------------------------------------------------------------------------------


def _exit_on_signal(signum, _frame):
    # SIGTERM/SIGHUP would otherwise end Python without its finally blocks, leaving gunicorn running.
    sys.exit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    started, clock = datetime.now(UTC), time.monotonic()
    load_before = os.getloadavg()
    settings = Settings()
    wrk = loadgen.ensure_wrk(log)
    log(f"load generator: {wrk or 'Python threaded client (wrk unavailable)'}")
    pyspy = hotspots.py_spy(log) if settings.profile else None
    info = machine(wrk)
    log(", ".join(f"{k}: {v}" for k, v in info.items()))
    redis_version = redis_server_version()
    pg_url = os.environ.get("MAJLIS_BENCH_DATABASE_URL")

    work = Path(tempfile.mkdtemp(prefix="majlis-bench-"))
    results: list[BackendResult] = []
    drop = None
    try:
        sqlite_dir, pg_dir = work / "sqlite", work / "postgresql"
        sqlite_dir.mkdir()
        sqlite_url = f"sqlite:///{sqlite_dir / 'majlis.db'}"
        pg = None
        if pg_url:
            pg_dir.mkdir()
            scratch, drop = seed.scratch_postgres(pg_url, "majlis_bench")
            pg = (scratch, pg_dir)
        lite, postgres = seed_both(sqlite_url, sqlite_dir, pg)
        results.append(run_backend("SQLite", sqlite_url, lite, sqlite_dir, settings, wrk, pyspy))
        if pg:
            results.append(run_backend("PostgreSQL", pg[0], postgres, pg_dir, settings, wrk, pyspy))
    finally:
        if drop is not None:
            drop()
        if settings.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    wall = time.monotonic() - clock
    print()
    print_table(table(results))
    if settings.only:
        for result in results:
            for row in _rows(result):
                if row.profile:
                    log(f"\n### profile of {row.name} ({result.label})\n{row.profile}")
        log(f"\npartial run (BENCH_ONLY={','.join(settings.only)}): {wall / 60:.1f} min, RESULTS.md left alone")
        return 0
    write_results(results, info, settings, started=started, wall=wall, load_before=load_before,
                  load_after=os.getloadavg(), redis_version=redis_version, pg=pg_url)
    log(f"\nwrote {RESULTS.relative_to(HERE.parent)} ({wall / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(refresh_analysis() if "--analysis-only" in sys.argv[1:] else main())
