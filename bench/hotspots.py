"""Profile gunicorn's workers under load with py-spy, and boil the samples down to what dominates.

py-spy samples the real worker processes from outside, so the profile shows the request path as served
(ORM, templates, locking) without changing the app. It is installed into the project's venv with pip when
missing. Samples are kept as collapsed stacks and summarised two ways: inclusive time per function (where the
time goes, top-down) and self time per function (what actually burns the CPU).
"""

from __future__ import annotations

import re
import shutil
import subprocess  # noqa: S404 - runs py-spy and pip with fixed arguments
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy(log=print) -> str | None:
    found = shutil.which("py-spy") or (Path(sys.executable).parent / "py-spy")
    if Path(found).exists():
        return str(found)
    log("py-spy is missing: pip install py-spy into the venv")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"],  # noqa: S603
                          capture_output=True, text=True, timeout=300, check=False)
    candidate = Path(sys.executable).parent / "py-spy"
    if done.returncode != 0 or not candidate.exists():
        log(f"could not install py-spy: {done.stderr.strip()[-300:]}")
        return None
    return str(candidate)


def start(binary: str, pids: list[int], seconds: float, out_dir: Path, name: str,
          gil: bool = False) -> list[tuple[Path, subprocess.Popen]]:
    """Start one recorder per worker (in the background); join them with `finish` after the load.

    `gil`: sample only the thread holding the GIL. For workers with hundreds of threads (the live streams): walking
    every thread, py-spy took 50-70 s to record 5 s of a process with 1,050 idle threads (measured), longer than
    `finish` waits; with --gil, 5 s. The GIL holder is where a Python worker's CPU goes anyway.
    """
    recorders = []
    for pid in pids:
        raw = out_dir / f"profile-{name}-{pid}.txt"
        command = [binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "200",
                   "--format", "raw", "--output", str(raw), "--nonblocking", *(["--gil"] if gil else [])]
        recorders.append((raw, subprocess.Popen(command, stdout=subprocess.DEVNULL,  # noqa: S603
                                                stderr=subprocess.PIPE, text=True)))
    return recorders


def finish(recorders: list[tuple[Path, subprocess.Popen]], timeout: float = 60) -> list[Path]:
    done = []
    for raw, process in recorders:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if raw.exists():
            done.append(raw)
    return done


@dataclass
class Summary:
    samples: int
    inclusive: list[tuple[str, float]]  # (function, share of samples), majlis code and notable libraries
    self_time: list[tuple[str, float]]
    by_package: list[tuple[str, float]]
    gil: bool = False

    def markdown(self, top: int = 12) -> str:
        if not self.samples:
            return "_no samples (py-spy could not attach, or the workers were idle)_\n"
        which = "running or runnable threads only" + (", and of those the one holding the GIL" if self.gil else "")
        lines = [f"{self.samples} samples over all workers (py-spy at 200 Hz; it samples {which}, so a worker "
                 "asleep, in SQLite's busy handler say, is not counted; shares are of the samples).",
                 "", "Where the time goes (inclusive, Majlis code):", ""]
        lines += [f"- {share:5.1%}  `{name}`" for name, share in self.inclusive[:top]]
        lines += ["", "What burns the CPU (self time):", ""]
        lines += [f"- {share:5.1%}  `{name}`" for name, share in self.self_time[:top]]
        lines += ["", "Self time by package: " + ", ".join(f"{pkg} {share:.0%}" for pkg, share in self.by_package[:8])]
        return "\n".join(lines) + "\n"


def _package(file: str) -> str:
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/majlis/" in file or file.startswith("majlis/"):
        return "majlis"
    if "/lib/python3" in file:
        return "stdlib"
    return "other"


def _label(frame: str) -> tuple[str, str]:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip(), "other"
    file = match.group("file")
    short = file.split("site-packages/", 1)[-1]
    if "/majlis/" in short:
        short = "majlis/" + short.split("/majlis/", 1)[1]
    return f"{match.group('func')} ({short})", _package(file)


def summarize(raw_files: list[Path], gil: bool = False) -> Summary:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for raw in raw_files:
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
            if not frames:
                continue
            total += n
            labels = [_label(f) for f in frames]
            for name in {name for name, pkg in labels if pkg == "majlis"}:
                inclusive[name] += n
            name, pkg = labels[-1]
            self_time[name] += n
            packages[pkg] += n

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, n / total) for name, n in counter.most_common()] if total else []

    return Summary(samples=total, inclusive=shares(inclusive), self_time=shares(self_time),
                   by_package=shares(packages), gil=gil)
