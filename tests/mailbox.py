"""What notice tests deliver to: a local SMTP server (aiosmtpd) or a recording channel, and the delivery run."""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
from collections.abc import Iterator

from majlis.notifications.services import deliver_pending


class Inbox:
    """aiosmtpd's handler: every message the server accepted, parsed."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for message in self.messages if message["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, Inbox]]:
    """A local SMTP server on a free port (or the one given) for as long as the block runs."""
    from aiosmtpd.controller import Controller

    port = port or free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def use_smtp(app, port: int) -> None:
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_DEFAULT_SENDER="majlis@capital.example")


class Recorder:
    """A channel's sender that keeps what it was given instead of sending it."""

    def __init__(self):
        self.sent = []  # (address, message)

    def address(self, user):
        return user.email

    def send(self, message, to):
        self.sent.append((to, message))


class Down:
    """A channel's sender whose service does not answer."""

    def __init__(self):
        self.tries = 0

    def address(self, user):
        return user.phone or user.email

    def send(self, message, to):
        self.tries += 1
        raise ConnectionRefusedError("the gateway does not answer")


def text_of(message) -> str:
    """A received e-mail's plain text, with the line ends it was written with."""
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def deliver(app, db, *, now, senders=None) -> int:
    """One delivery run, as the scheduler's job makes it."""
    with app.app_context():
        return deliver_pending(db, config=app.config, now=now, channel_senders=senders)
