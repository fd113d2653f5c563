"""Leader election: only one scheduler works at a time; the others wait as standbys."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy import Engine, text

# An arbitrary constant shared by every Majlis scheduler on the same PostgreSQL database.
ADVISORY_LOCK_KEY = 0x4D414A4C  # "MAJL"


class LeaderLock:
    """A non-blocking lock: a file lock for SQLite, a PostgreSQL advisory lock on its own connection."""

    def __init__(self, engine: Engine, instance_path: str):
        self.engine = engine
        self.lock_path = Path(instance_path) / "scheduler.lock"
        self._file = None
        self._connection = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._connection is None:
                self._connection = self.engine.connect()
            got = self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            acquired = bool(got.scalar())
            self._connection.commit()
            return acquired
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        if self._file is None:
            self._file = open(self.lock_path, "a+")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()
        return True

    def release(self) -> None:
        if self._connection is not None:
            # Unlock first: the server frees a closed connection's locks only once its backend has exited.
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            except Exception:  # noqa: BLE001, S110 - a dead connection holds no lock any more
                pass
            # Then drop the dedicated connection for real (not back to the pool).
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
