"""Real servers for the tests that need processes: gunicorn serving wsgi:app on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path, *, workers: int = 2, threads: int = 0) -> Iterator[str]:
    """Start gunicorn (sync workers, or gthread with threads for live streams); yield its base URL.

    Output goes to a file, not a pipe: a full pipe would block the workers. The log must hold no traceback.
    """
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "--graceful-timeout", "2", "--log-level", "warning"]
    if threads:
        args += ["--worker-class", "gthread", "--threads", str(threads)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process, log_path)
            yield base
        finally:
            stop(process)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output


def wait_healthy(base: str, process: subprocess.Popen, log_path: Path, deadline_seconds: float = 30) -> None:
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset or timed out while the workers boot (URLError is an OSError)
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("gunicorn did not start:\n" + log_path.read_text(errors="replace"))
        time.sleep(0.2)
