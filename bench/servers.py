"""Start and stop gunicorn on a free loopback port, with the output in a file and nothing left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess  # noqa: S404 - starts gunicorn with fixed arguments
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gunicorn:
    """One gunicorn master and its workers, serving `app` from `pythonpath` on 127.0.0.1."""

    name: str
    app: str
    env: dict[str, str]
    log_dir: Path
    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1
    extra: list[str] = field(default_factory=list)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"--workers {self.workers} --worker-class {self.worker_class}{threads}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"gunicorn-{self.name}.log"

    def start(self, health_path: str, timeout: float = 60) -> Gunicorn:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--worker-class", self.worker_class,
                   "--threads", str(self.threads), "--timeout", "120", "--graceful-timeout", "5",
                   "--log-level", "warning", "--pythonpath", str(BENCH), *self.extra, self.app]
        # A file, not a pipe: a full pipe would block the workers mid-benchmark.
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process is stopped
        self._log = log
        # Its own process group, so stop() reaches workers even if the master dies first.
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,  # noqa: S603
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.base_url + health_path, timeout=2) as response:  # noqa: S310
                    if response.status < 500:
                        return self
            except OSError:  # refused or reset while the workers boot
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn {self.name} did not start:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """The workers' pids (children of the master), for py-spy."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a worker stuck in a stream, say) goes too; the group is ours alone.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
        self._log.close()

    def tracebacks(self) -> int:
        try:
            return self.log_path.read_text(errors="replace").count("Traceback")
        except OSError:
            return 0
