"""Minutes compile time for the seeded 500-question session, in process (no HTTP: the scheduler calls it so).

`compose_draft` is timed as is (it only reads). `compile_minutes` writes the draft, and a session gets its
minutes once, so each timed run happens inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from majlis import create_app
from majlis.db import get_database, unit_of_work
from majlis.minutes.services import compile_minutes, compose_draft
from majlis.sessions.models import MajlisSession


@dataclass
class Timing:
    name: str
    runs_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    def describe(self) -> str:
        return (f"median {self.median:.1f} ms, min {min(self.runs_ms):.1f}, max {max(self.runs_ms):.1f} "
                f"over {len(self.runs_ms)} runs")


def run(database_url: str, instance_path: str, session_id: int, *, runs: int = 7) -> tuple[Timing, Timing, int]:
    """Time both calls; also return the draft's length in characters (a sanity check that it did the work)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance_path,
                      "MAIL_BACKEND": "null"})
    zone = ZoneInfo(app.config["MAJLIS_TIMEZONE"])
    compose_runs, compile_runs, length = [], [], 0
    with app.app_context():
        database = get_database(app)
        for _ in range(runs):
            with database.session_factory() as db_session:  # a fresh session: no identity-map head start
                row = db_session.get(MajlisSession, session_id)
                started = time.perf_counter()
                length = len(compose_draft(db_session, row, zone=zone))
                compose_runs.append((time.perf_counter() - started) * 1000)
        for _ in range(runs):
            with database.session_factory() as db_session:
                rolled_back = RuntimeError("roll back the timed draft")
                try:
                    with unit_of_work(db_session):
                        started = time.perf_counter()
                        minutes = compile_minutes(db_session, session_id, now=datetime.now(UTC), zone=zone)
                        db_session.flush()
                        compile_runs.append((time.perf_counter() - started) * 1000)
                        if minutes is None:
                            raise AssertionError("compile_minutes compiled nothing: is the session ended?")
                        raise rolled_back
                except RuntimeError as exc:
                    if exc is not rolled_back:
                        raise
        database.engine.dispose()
    return Timing("compose_draft", compose_runs), Timing("compile_minutes", compile_runs), length
