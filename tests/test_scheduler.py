"""The scheduler's foundation: run-due delivers the outbox once; one leader at a time."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from majlis.db import get_database, unit_of_work
from majlis.enums import OutboxStatus
from majlis.notifications import services as notifications
from majlis.notifications.models import OutboxMessage
from scheduler.lock import LeaderLock
from scheduler.runner import run_due


def test_run_due_delivers_each_outbox_message_once(app, db, make_user, capsys):
    app.config["MAIL_BACKEND"] = "console"
    user = make_user(is_verified=False)
    now = datetime.now(UTC)
    with unit_of_work(db):
        [due] = notifications.enqueue(db, kind="email_verification", user=user, params={"code": "123456"},
                                      now=now)
        [later] = notifications.enqueue(db, kind="email_verification", user=user, params={"code": "654321"},
                                        now=now, send_after=now + timedelta(hours=1))
    results = run_due(app, now=now)
    assert results["deliver_outbox"] == 1
    assert "123456" in capsys.readouterr().out
    assert run_due(app, now=now)["deliver_outbox"] == 0  # nothing sent twice
    db.rollback()
    db.expire_all()
    statuses = {m.id: m.status for m in db.scalars(select(OutboxMessage))}
    assert statuses == {due.id: OutboxStatus.SENT, later.id: OutboxStatus.PENDING}


def test_failed_delivery_is_retried_later_not_lost(app, db, make_user):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=1)  # nothing listens on port 1
    user = make_user(is_verified=False)
    now = datetime.now(UTC)
    with unit_of_work(db):
        notifications.enqueue(db, kind="email_verification", user=user, params={"code": "123456"}, now=now)
    assert run_due(app, now=now)["deliver_outbox"] == 0
    db.rollback()
    db.expire_all()
    message = db.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and message.last_error
    assert message.send_after == now + notifications.retry_delay(1)


def test_only_one_scheduler_is_leader(app):
    engine = get_database(app).engine
    first, second = LeaderLock(engine, app.instance_path), LeaderLock(engine, app.instance_path)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()


def test_run_due_materialises_series_idempotently(app, db):
    from zoneinfo import ZoneInfo

    from majlis.sessions.models import MajlisSession
    from majlis.sessions.services import create_series

    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    app.config["MAJLIS_HORIZON_WEEKS"] = 4
    with app.app_context(), unit_of_work(db):
        create_series(db, {"kind": "weekly", "title_ar": "المجلس", "title_en": "Majlis",
                           "rrule": "FREQ=WEEKLY;BYDAY=TU", "first_start": "2026-01-06T19:00",
                           "duration_minutes": 90, "capacity": 10}, actor=None, zone=ZoneInfo("Asia/Bahrain"),
                      now=now, horizon=timedelta(weeks=4))
    db.rollback()
    before = db.scalars(select(MajlisSession.starts_at).order_by(MajlisSession.starts_at)).all()
    assert before[0] == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 19:00 in Bahrain
    assert len(before) == 4
    run_due(app, now=now)
    db.rollback()
    assert db.scalars(select(MajlisSession.starts_at).order_by(MajlisSession.starts_at)).all() == before
    run_due(app, now=now + timedelta(weeks=1))
    db.rollback()
    assert len(db.scalars(select(MajlisSession.id)).all()) == 5


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "NONSENSE", "", "FREQ=WEEKLY;BYDAY=XX"])
def test_invalid_rules_are_refused(app, db, rule):
    from zoneinfo import ZoneInfo

    from majlis.errors import InvalidInput
    from majlis.sessions.services import create_series

    with app.app_context(), pytest.raises(InvalidInput) as caught:
        create_series(db, {"kind": "weekly", "title_ar": "المجلس", "title_en": "Majlis", "rrule": rule,
                           "first_start": "2026-01-06T19:00", "duration_minutes": 90, "capacity": 10},
                      actor=None, zone=ZoneInfo("Asia/Bahrain"), now=datetime.now(UTC))
    assert caught.value.field == "rrule"
