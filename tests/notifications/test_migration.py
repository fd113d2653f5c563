"""Migration 0004: rows rendered before it keep their text and are delivered as they are."""

from datetime import UTC, datetime

from sqlalchemy import select, text

from majlis import create_app, migrations
from majlis.db import get_database, make_engine
from majlis.enums import OutboxStatus
from majlis.notifications.models import OutboxMessage
from tests.mailbox import Recorder, deliver
from tests.test_db import _drop_pg_database, _fresh_pg_database

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_rows_rendered_before_the_migration_are_sent_as_they_are(database_url, tmp_path):
    if database_url.startswith("postgresql"):
        url = _fresh_pg_database(database_url, "majlis_outbox_migration")
    else:
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    engine = make_engine(url)
    app = None
    try:
        migrations.upgrade(engine, "0003")
        with engine.begin() as connection:  # a reminder queued by the code of before, rendered then
            connection.execute(text(
                "INSERT INTO outbox (kind, dedupe_key, to_address, subject, body_text, ics, status, attempts, "
                "created_at, send_after) VALUES ('reminder_1h', 'reminder:1h:7:1796108400', 'huda@example.com', "
                "'تذكير', 'نص التذكير', 'BEGIN:VCALENDAR', 'pending', 0, :at, :at)"),
                {"at": NOW.replace(tzinfo=None) if url.startswith("sqlite") else NOW})
        migrations.upgrade(engine)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "i"),
                          "MAIL_BACKEND": "null"})
        db = get_database(app).session_factory()
        legacy = db.scalar(select(OutboxMessage))
        assert (legacy.channel, legacy.params) == ("email", None)
        recorder = Recorder()
        assert deliver(app, db, now=NOW, senders={"email": recorder}) == 1
        [(to, message)] = recorder.sent
        assert (to, message.subject, message.text, message.ics) == (
            "huda@example.com", "تذكير", "نص التذكير", "BEGIN:VCALENDAR")
        db.rollback()
        assert db.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT
        db.close()
    finally:
        if app is not None:
            get_database(app).engine.dispose()
        engine.dispose()
        if url.startswith("postgresql"):
            _drop_pg_database(url)
