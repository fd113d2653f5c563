"""Notifications reach a real (local) SMTP server, each with a parseable .ics, once."""

import email
import email.policy
import socket
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from majlis.db import unit_of_work
from scheduler.runner import run_due
from tests import factories


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_confirmation_mail_with_ics_is_delivered_once(app, client, db, api_token, smtp_server):
    port, inbox = smtp_server
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_DEFAULT_SENDER="majlis@capital.example")
    now = datetime.now(UTC).replace(microsecond=0)
    with unit_of_work(db):
        majlis_session = factories.majlis_session(db, starts_at=now + timedelta(days=2),
                                                  registration_opens_at=now - timedelta(hours=1))
        resident = factories.user(db, email="zainab@example.com")
    assert client.post(f"/api/v1/sessions/{majlis_session.id}/registrations",
                       headers=api_token(resident)).status_code == 201
    assert run_due(app)["deliver_outbox"] == 1
    assert run_due(app)["deliver_outbox"] == 0  # never sent twice
    [message] = inbox.messages
    assert message["To"] == "zainab@example.com" and message["From"] == "majlis@capital.example"
    assert "المجلس الأسبوعي" in message["Subject"]  # the session's title, in the resident's language
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/sessions/{majlis_session.id}" in body
    attachment = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert event.DTSTART.astimezone(UTC) == majlis_session.starts_at
    assert not event.errors
