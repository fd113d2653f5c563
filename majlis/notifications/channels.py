"""The channels a notice goes out by: where each one reaches a user, and how it sends a rendered message.

A channel is a name, a factory that builds its sender from the app config, and the sender's two methods:
`address(user)` (None or empty: the user cannot be reached this way) and `send(message, to)` (raises when it did
not send; may return an `Outcome` naming addresses the service says are gone for good, which the sender's
`forget(db_session, gone)` then removes). E-mail is here; Web Push (`push.py`) and SMS (`sms.py`) register theirs
the same way:

    @channel("sms")
    def _sms(config) -> Sender:
        return SmsGateway(config["MAJLIS_SMS_URL"], ...)

Which channels a notice goes by is the user's choice: `preferences.channels_for`.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from majlis.auth.models import User
from majlis.notifications.models import EMAIL
from majlis.notifications.rendering import Message


class Sender(Protocol):
    def address(self, user: User) -> Any: ...

    def send(self, message: Message, to: Any) -> Outcome | None: ...


@dataclass(frozen=True)
class Outcome:
    """What a send did, when it had several addresses: those the service refused for good (the sender forgets
    them), whether any is left that may take the message (False: nobody to reach, nothing to retry), and an error
    when none took it but some may later (the row is retried)."""

    gone: tuple[Any, ...] = ()
    delivered: bool = True
    error: str | None = None


_FACTORIES: dict[str, Callable[[Mapping[str, Any]], Sender]] = {}


def channel(name: str):
    """Register a channel's sender factory under its name."""

    def register(factory: Callable[[Mapping[str, Any]], Sender]):
        _FACTORIES[name] = factory
        return factory

    return register


def senders(config: Mapping[str, Any]) -> dict[str, Sender]:
    """Every channel's sender, configured."""
    return {name: factory(config) for name, factory in _FACTORIES.items()}


def channel_names() -> list[str]:
    """Every registered channel's name."""
    return sorted(_FACTORIES)


@dataclass
class MailSettings:
    backend: str = "console"
    server: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    sender: str = "majlis@localhost"

    @classmethod
    def from_config(cls, config) -> MailSettings:
        return cls(
            backend=config["MAIL_BACKEND"],
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
            sender=config["MAIL_DEFAULT_SENDER"],
        )


def as_email(message: Message, to: str, sender: str) -> EmailMessage:
    """The MIME message: the text, and the session's .ics attached when there is one."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = message.subject
    if message.message_id:
        # Stable across tries: a message sent again (its sender died before recording it) is shown once.
        email["Message-ID"] = f"<majlis-{message.message_id}@{sender.rpartition('@')[2] or 'majlis'}>"
    email.set_content(message.text)
    if message.stop_url:
        # RFC 2369 and RFC 8058: mail programs offer "unsubscribe", and may stop the messages with one POST.
        email["List-Unsubscribe"] = f"<{message.stop_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for filename, mime_type, content in message.attachments:
        maintype, subtype = mime_type.split("/", 1)
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    if message.ics:
        email.add_attachment(
            message.ics.encode("utf-8"), maintype="text", subtype="calendar", filename="majlis.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return email


class EmailSender:
    """E-mail by the configured backend: `console` (printed), `smtp`, or `null` (dropped)."""

    def __init__(self, settings: MailSettings):
        self.settings = settings

    def address(self, user: User) -> str | None:
        return user.email

    def send(self, message: Message, to: str) -> None:
        settings = self.settings
        if settings.backend == "console":
            # The development backend: the message is printed, code and all, for the developer to read.
            print(  # noqa: T201
                f"--- e-mail to {to} ---\nSubject: {message.subject}\n\n{message.text}\n---", flush=True)
        elif settings.backend == "smtp":
            with smtplib.SMTP(settings.server or "localhost", settings.port, timeout=20) as smtp:
                if settings.use_tls:
                    smtp.starttls()
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(as_email(message, to, settings.sender))
        elif settings.backend != "null":
            raise RuntimeError(f"unknown mail backend {settings.backend!r}")


@channel(EMAIL)
def _email(config: Mapping[str, Any]) -> Sender:
    return EmailSender(MailSettings.from_config(config))


# Importing them registers their channels (they import this module's `channel`).
from majlis.notifications import push, sms  # noqa: E402,F401
