"""The scheduler killed (`kill -9`) in the middle of its work: after a restart nothing is done twice, nothing is
skipped. The real scheduler process runs here, as in tests/test_scheduler_process.py."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from majlis.db import Database, make_engine, unit_of_work
from majlis.enums import OutboxStatus
from majlis.minutes.models import Minutes
from majlis.notifications.models import OutboxMessage
from tests import factories
from tests.conftest import PG_SKIP_REASON, PG_URL
from tests.mailbox import Inbox, free_port, smtp_server
from tests.test_scheduler_process import MAJLIS, _start, _stop, _wait_for


class HangingInbox(Inbox):
    """An SMTP server that accepts the first messages, then hangs before accepting the next one (a stuck relay)."""

    def __init__(self, accept: int):
        super().__init__()
        self.accept = accept
        self.hung = threading.Event()
        self.released = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if len(self.messages) >= self.accept:
            self.hung.set()
            while not self.released:
                await asyncio.sleep(0.05)
            return "421 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _env(database_url, tmp_path, mail_port: int) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "MAJLIS_INSTANCE_PATH": str(tmp_path / "instance"),
            "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_port),
            "MAIL_DEFAULT_SENDER": "majlis@capital.example"}


def _kill(process, log) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    log.close()


def test_killed_while_delivering_mail_nothing_is_sent_twice_or_skipped(database_url, tmp_path):
    from aiosmtpd.controller import Controller

    database = Database(database_url)
    db = database.session_factory()
    now = datetime.now(UTC)
    with unit_of_work(db):
        people = [factories.user(db), factories.user(db)]
        for n in range(8):  # alternately to each: each one's messages must arrive in their order
            person = people[n % 2]
            db.add(OutboxMessage(kind="notice", params=None, channel="email", user_id=person.id,
                                 to_address=person.email, subject=f"message {n}", body_text=f"text {n}\n",
                                 created_at=now, send_after=now))
    stuck = HangingInbox(accept=3)
    stuck_port = free_port()
    controller = Controller(stuck, hostname="127.0.0.1", port=stuck_port)
    controller.start()
    scheduler, log = _start([str(MAJLIS), "scheduler"], _env(database_url, tmp_path, stuck_port),
                            tmp_path / "scheduler-1.log")
    try:
        assert stuck.hung.wait(60), (tmp_path / "scheduler-1.log").read_text()
        _kill(scheduler, log)  # in the middle of handing message 3 to the mail server
    finally:
        stuck.released = True
        controller.stop()
    assert [m["Subject"] for m in stuck.messages] == ["message 0", "message 1", "message 2"]

    with smtp_server() as (port, inbox):
        scheduler, log = _start([str(MAJLIS), "scheduler"], _env(database_url, tmp_path, port),
                                tmp_path / "scheduler-2.log")
        try:
            def all_sent():
                with database.session_factory() as fresh:
                    return fresh.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.status != OutboxStatus.SENT)) == 0

            # Without giving back the dead scheduler's claim, message 3 (and those behind it) would wait 10 minutes.
            _wait_for(all_sent, 60, "delivering the rest after the restart")
        finally:
            _stop(scheduler, log)
    received = stuck.messages + inbox.messages
    subjects = [m["Subject"] for m in received]
    assert sorted(subjects) == [f"message {n}" for n in range(8)]  # each once: none twice, none skipped
    for person in people:
        mine = [int(m["Subject"].split()[1]) for m in received if m["To"] == person.email]
        assert mine == sorted(mine)
    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == 8 and all(i.startswith("<majlis-outbox-") for i in ids)
    db.close()
    database.engine.dispose()
    assert "Traceback" not in (tmp_path / "scheduler-2.log").read_text()


def test_killed_while_compiling_minutes_they_are_compiled_once_after_the_restart(request, tmp_path):
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    request.getfixturevalue("pg_engine")
    url = request.getfixturevalue("pg_url")
    database = Database(url)
    db = database.session_factory()
    now = datetime.now(UTC)
    with unit_of_work(db):
        ending = factories.majlis_session(db, starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(seconds=2))
    env = {**os.environ, "DATABASE_URL": url, "MAJLIS_INSTANCE_PATH": str(tmp_path / "instance"),
           "MAIL_BACKEND": "null"}
    admin = make_engine(url)
    holder = admin.connect()
    blocker = holder.begin()
    # Reads go on; the minutes' INSERT waits: the scheduler is stopped in the middle of compiling them.
    holder.execute(text("LOCK TABLE minutes IN SHARE MODE"))
    scheduler, log = _start([str(MAJLIS), "scheduler"], env, tmp_path / "scheduler-1.log")
    try:
        def compiling():
            with admin.connect() as connection:
                return connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO minutes%'")).scalar()

        _wait_for(compiling, 60, "the scheduler reaching the minutes' INSERT")
        _kill(scheduler, log)
    finally:
        blocker.commit()
        holder.close()
    with database.session_factory() as fresh:
        assert fresh.scalar(select(Minutes).where(Minutes.session_id == ending.id)) is None  # nothing half-written

    scheduler, log = _start([str(MAJLIS), "scheduler"], env, tmp_path / "scheduler-2.log")
    try:
        def compiled():
            with database.session_factory() as fresh:
                return fresh.scalar(select(Minutes).where(Minutes.session_id == ending.id))

        minutes = _wait_for(compiled, 60, "compiling the minutes after the restart")
        assert minutes.body
    finally:
        _stop(scheduler, log)
    with database.session_factory() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Minutes)) == 1
    db.close()
    database.engine.dispose()
    admin.dispose()
    assert "Traceback" not in (tmp_path / "scheduler-2.log").read_text()
