"""Queue messages in the outbox and deliver them through the configured backend."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.enums import OutboxStatus
from majlis.notifications.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def enqueue(
    db_session: Session,
    *,
    kind: str,
    user: User,
    subject: str,
    body_text: str,
    now: datetime,
    ics: str | None = None,
    dedupe_key: str | None = None,
    send_after: datetime | None = None,
) -> OutboxMessage:
    """Write a message to the outbox in the caller's transaction; delivery happens later."""
    message = OutboxMessage(
        kind=kind,
        user_id=user.id,
        to_address=user.email,
        subject=subject,
        body_text=body_text,
        ics=ics,
        dedupe_key=dedupe_key,
        created_at=now,
        send_after=send_after or now,
    )
    db_session.add(message)
    return message


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


def _as_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    if message.ics:
        email.add_attachment(
            message.ics.encode("utf-8"), maintype="text", subtype="calendar", filename="majlis.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return email


def _send(message: OutboxMessage, settings: MailSettings) -> None:
    if settings.backend == "console":
        # The development backend: the message is printed, code and all, for the developer to read.
        print(  # noqa: T201
            f"--- e-mail to {message.to_address} ---\nSubject: {message.subject}\n\n{message.body_text}\n---",
            flush=True,
        )
        return
    if settings.backend == "smtp":
        with smtplib.SMTP(settings.server or "localhost", settings.port, timeout=20) as smtp:
            if settings.use_tls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(_as_email(message, settings.sender))
        return
    if settings.backend == "null":
        return
    raise RuntimeError(f"unknown mail backend {settings.backend!r}")


def deliver_pending(db_session: Session, settings: MailSettings, *, now: datetime, limit: int = 100) -> int:
    """Deliver due outbox messages once each; return how many were sent.

    Each message is claimed with a conditional update before sending, so two schedulers
    (or a job that runs twice) never send it twice.
    """
    due_ids = list(
        db_session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.send_after <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    db_session.commit()
    sent = 0
    for message_id in due_ids:
        claim_until = now + timedelta(minutes=10)
        claimed = db_session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.send_after <= now,
            )
            .values(send_after=claim_until, attempts=OutboxMessage.attempts + 1)
        ).rowcount
        db_session.commit()
        if not claimed:
            continue
        message = db_session.get(OutboxMessage, message_id)
        try:
            _send(message, settings)
        except Exception as exc:  # noqa: BLE001 - any delivery failure is recorded and retried
            log.warning("delivery of outbox message %s failed: %s", message_id, type(exc).__name__)
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            else:
                message.send_after = now + timedelta(minutes=2**message.attempts)
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = now
            sent += 1
        db_session.commit()
    return sent
