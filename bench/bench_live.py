"""Live-update fan-out: 1,000 browsers watch a session's Server-Sent Events while a moderator approves questions.

Latency is taken per watcher and per approval, from the moment the moderator's approval request has
returned (the moderator sees "done") to the moment that watcher has read the new version off its stream.
Every watcher is one asyncio connection in this process, so all times come from one monotonic clock; the
watchers' own reading costs CPU on the same two cores, which makes the figures upper bounds.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Watcher:
    status: int | None = None
    connected_at: float | None = None  # when the stream's first line ("retry:") arrived
    versions: dict[int, float] = field(default_factory=dict)  # version -> first time it was read
    error: str | None = None

    def first_at_or_after(self, version: int) -> float | None:
        times = [at for v, at in self.versions.items() if v >= version]
        return min(times) if times else None


@dataclass
class FanOut:
    watchers: int
    connected: int
    rounds: int
    latencies_ms: list[float]  # from the approval's response to each watcher's read (0 when it came first)
    from_send_ms: list[float]  # from the approval's request being sent, for reference
    missed: int  # (watcher, round) pairs that never saw the version within the wait
    connect_seconds: float
    approvals_ms: list[float]
    errors: list[str]

    def pct(self, values: list[float], p: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def p50(self) -> float | None:
        return self.pct(self.latencies_ms, 50)

    @property
    def p95(self) -> float | None:
        return self.pct(self.latencies_ms, 95)


async def _watch(watcher: Watcher, port: int, path: str, stop: asyncio.Event, address: str) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        watcher.error = f"connect: {exc}"
        return
    try:
        # Each watcher is a browser of its own behind the proxy in front of the stream service.
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                     f"Cache-Control: no-cache\r\nX-Forwarded-For: {address}\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
        watcher.status = int(status_line.split()[1]) if status_line else None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            pass
        # The body is chunked; chunk-size lines are bare hex and never start with "retry:" or "data:".
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                break
            if line.startswith(b"retry:") and watcher.connected_at is None:
                watcher.connected_at = time.monotonic()
            elif line.startswith(b"data:"):
                version = int(line[5:].strip())
                watcher.versions.setdefault(version, time.monotonic())
    except (OSError, ValueError, IndexError) as exc:
        watcher.error = f"{type(exc).__name__}: {exc}"
    finally:
        writer.close()


def _approve(base_url: str, token: str, question_id: int) -> tuple[float, float, int]:
    body = json.dumps({"action": "approve"}).encode()
    request = urllib.request.Request(  # noqa: S310 - base_url is the loopback server this run started
        f"{base_url}/api/v1/questions/{question_id}/moderation", data=body,
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
    sent = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a fixed http://127.0.0.1 URL
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:  # refused or timed out: no thread was free to take it
        status = 0
    return sent, time.monotonic(), status


async def _run(base_url: str, port: int, *, session_id: int, since: int, moderator_token: str,
               question_ids: list[int], watchers: int, connect_timeout: float, wait: float) -> FanOut:
    stop = asyncio.Event()
    crowd = [Watcher() for _ in range(watchers)]
    path = f"/sessions/{session_id}/events?since={since}"
    started = time.monotonic()
    tasks = [asyncio.create_task(_watch(w, port, path, stop, f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"))
             for i, w in enumerate(crowd)]
    while time.monotonic() - started < connect_timeout:
        if all(w.connected_at is not None or w.error for w in crowd):
            break
        await asyncio.sleep(0.05)
    connect_seconds = time.monotonic() - started
    live = [w for w in crowd if w.connected_at is not None]

    latencies, from_send, approvals, errors = [], [], [], []
    missed = 0
    for number, question_id in enumerate(question_ids, start=1):
        await asyncio.sleep(0.5)  # let every stream settle back into its wait
        expected = since + number
        sent, returned, status = await asyncio.to_thread(_approve, base_url, moderator_token, question_id)
        approvals.append((returned - sent) * 1000)
        if status != 200:
            errors.append(f"approval of question {question_id} answered {status}")
            continue
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(w.first_at_or_after(expected) is None for w in live):
            await asyncio.sleep(0.01)
        for w in live:
            at = w.first_at_or_after(expected)
            if at is None:
                missed += 1
            else:
                # The event is published at commit, before the response is written, so a watcher can read it
                # before the moderator's request has returned: that watcher waited 0 ms, not less.
                latencies.append(max(0.0, (at - returned) * 1000))
                from_send.append((at - sent) * 1000)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    errors += sorted({w.error for w in crowd if w.error})[:5]
    errors += sorted({f"stream answered {w.status}" for w in crowd if w.status not in (None, 200)})
    return FanOut(watchers=watchers, connected=len(live), rounds=len(question_ids), latencies_ms=latencies,
                  from_send_ms=from_send, missed=missed, connect_seconds=connect_seconds, approvals_ms=approvals,
                  errors=errors)


def run(base_url: str, *, session_id: int, since: int, moderator_token: str, question_ids: list[int],
        watchers: int = 1000, connect_timeout: float = 60.0, wait: float = 10.0) -> FanOut:
    port = int(base_url.rsplit(":", 1)[1])
    return asyncio.run(_run(base_url, port, session_id=session_id, since=since, moderator_token=moderator_token,
                            question_ids=question_ids, watchers=watchers, connect_timeout=connect_timeout,
                            wait=wait))


def summary(result: FanOut) -> str:
    def ms(value):
        return "–" if value is None else f"{value:.0f} ms"

    mean_approval = statistics.fmean(result.approvals_ms) if result.approvals_ms else 0
    return (f"{result.connected}/{result.watchers} watchers connected in {result.connect_seconds:.1f} s; "
            f"{result.rounds} approvals (each answered in {mean_approval:.0f} ms on average); "
            f"{len(result.latencies_ms)} deliveries, {result.missed} missed; after the approval returned: "
            f"p50 {ms(result.p50)}, p95 {ms(result.p95)}, max {ms(max(result.latencies_ms, default=None))}; "
            f"after it was sent: p50 {ms(result.pct(result.from_send_ms, 50))}, "
            f"p95 {ms(result.pct(result.from_send_ms, 95))}")
