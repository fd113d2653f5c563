"""Time-bounded load on loopback: wrk when it is installed (or installable), else a small threaded client.

Both replay the same list of requests in turn and report the same figures, so a benchmark does not care
which one ran; the results say which did. Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess  # noqa: S404 - runs wrk and apt-get with fixed arguments
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_replay.lua"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def tsv(self) -> str:
        fields = [self.method, self.path, self.body, *(f"{k}: {v}" for k, v in self.headers.items())]
        if any("\t" in f or "\n" in f for f in fields):
            raise ValueError("request fields must not contain tabs or newlines")
        return "\t".join(fields)


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


JSON = {"Content-Type": "application/json"}


@dataclass
class Load:
    tool: str
    seconds: float
    statuses: dict[int, int]
    errors: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def count(self, *codes: int) -> int:
        return sum(n for status, n in self.statuses.items() if status in codes)

    def rate(self, *codes: int) -> float:
        """Responses per second with one of the given statuses (any 2xx/3xx when none are given)."""
        counted = self.count(*codes) if codes else sum(n for s, n in self.statuses.items() if 200 <= s < 400)
        return counted / self.seconds if self.seconds else 0.0

    def describe_statuses(self) -> str:
        text = ", ".join(f"{status}×{n}" for status, n in sorted(self.statuses.items()))
        return text + (f", socket errors×{self.errors}" if self.errors else "")


def ensure_wrk(log=print) -> str | None:
    """The wrk binary; installed with apt-get when missing and we are root; None means: use the fallback."""
    if os.environ.get("BENCH_NO_WRK"):  # to exercise the fallback on a machine that has wrk
        return None
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        try:
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, timeout=300,  # noqa: S607
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        except (subprocess.SubprocessError, OSError) as exc:
            log(f"could not install wrk ({exc}); using the Python client")
    return shutil.which("wrk")


def _check_loopback(base_url: str) -> None:
    if urlsplit(base_url).hostname != "127.0.0.1":
        raise ValueError(f"benchmarks only target 127.0.0.1, not {base_url}")


def run(base_url: str, requests: list[Req], *, seconds: float, connections: int, wrk: str | None) -> Load:
    _check_loopback(base_url)
    if wrk:
        return _run_wrk(wrk, base_url, requests, seconds=seconds, connections=connections)
    return _run_python(base_url, requests, seconds=seconds, connections=connections)


def _run_wrk(wrk: str, base_url: str, requests: list[Req], *, seconds: float, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(r.tsv() for r in requests) + "\n")
        path = handle.name
    try:
        # -t1: on two cores the generator needs one core to itself already (reliability.md §3.3).
        command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                   "-s", str(LUA), base_url, "--", path]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    finally:
        os.unlink(path)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = data["errors"]
    lat = data["latency_us"]
    return Load(tool="wrk", seconds=data["duration_us"] / 1e6,
                statuses={int(k): v for k, v in data["statuses"].items()},
                errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
                mean_ms=lat["mean"] / 1000, p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000,
                p99_ms=lat["p99"] / 1000, max_ms=lat["max"] / 1000)


def _run_python(base_url: str, requests: list[Req], *, seconds: float, connections: int) -> Load:
    """The fallback: one thread per connection, each sending the next request of the list until the deadline."""
    parts = urlsplit(base_url)
    counter = itertools.count()  # next() on a count is atomic under the GIL: each line goes out once per lap
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[tuple[int, float]] = []
        while time.monotonic() < deadline:
            req = requests[next(counter) % len(requests)]
            started = time.perf_counter()
            try:
                connection.request(req.method, req.path, body=req.body.encode() or None, headers=req.headers)
                response = connection.getresponse()
                response.read()
                mine.append((response.status, time.perf_counter() - started))
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                connection.close()
        connection.close()
        with lock:
            for status, latency in mine:
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(latency)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0

    return Load(tool="python-threads", seconds=elapsed, statuses=statuses, errors=errors[0],
                mean_ms=statistics.fmean(latencies) * 1000 if latencies else 0.0,
                p50_ms=pct(50), p90_ms=pct(90), p99_ms=pct(99), max_ms=latencies[-1] * 1000 if latencies else 0.0)
