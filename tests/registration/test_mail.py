"""Notifications reach a real (local) SMTP server, each with a parseable .ics, once."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.notifications.models import OutboxMessage
from scheduler.runner import run_due
from tests import factories
from tests.mailbox import smtp_server as running_smtp_server
from tests.mailbox import text_of, use_smtp


@pytest.fixture
def smtp_server():
    with running_smtp_server() as server:
        yield server


def test_confirmation_mail_with_ics_is_delivered_once(app, client, db, api_token, smtp_server):
    port, inbox = smtp_server
    use_smtp(app, port)
    now = datetime.now(UTC).replace(microsecond=0)
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=now + timedelta(days=2),
                                                  registration_opens_at=now - timedelta(hours=1))
        resident = factories.user(db, email="zainab@example.com")
    assert client.post(f"/api/v1/sessions/{majlis_session.id}/registrations",
                       headers=api_token(resident)).status_code == 201
    db.rollback()
    notice = db.scalar(select(OutboxMessage))
    assert (notice.kind, notice.params, notice.channel) == (
        "registration_confirmed", {"session_id": majlis_session.id}, "email")
    assert run_due(app)["deliver_outbox"] == 1
    assert run_due(app)["deliver_outbox"] == 0  # never sent twice
    [message] = inbox.messages
    assert message["To"] == "zainab@example.com" and message["From"] == "majlis@capital.example"
    assert "المجلس الأسبوعي" in message["Subject"]  # the session's title, in the resident's language
    assert f"/sessions/{majlis_session.id}" in text_of(message)
    attachment = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert event.DTSTART.astimezone(UTC) == majlis_session.starts_at
    assert not event.errors
    db.rollback()
    db.expire_all()
    sent = db.get(OutboxMessage, notice.id)  # what was sent stays on the row, for the record
    assert sent.to_address == "zainab@example.com" and sent.subject == message["Subject"]
