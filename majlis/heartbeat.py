"""The scheduler's heartbeat rows (scheduler/runner.py writes them; `majlis scheduler-status` reads them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base


class SchedulerHeartbeat(Base):
    """The running scheduler processes: the leader beats, standbys record that they wait."""

    __tablename__ = "scheduler_heartbeats"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    is_leader: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    jobs: Mapped[int] = mapped_column(default=0)
