"""The outbox: notices written as small rows in the caller's transaction, rendered and delivered by the scheduler."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import OutboxStatus
from majlis.notifications import preferences
from majlis.notifications.channels import MailSettings, Outcome, Sender, channel_names, senders
from majlis.notifications.models import OutboxMessage
from majlis.notifications.preferences import CHOICE_OF, channels_for, stop_url
from majlis.notifications.rendering import Message, RenderContext, Skip, language_of, renderer_for

__all__ = ["MAX_ATTEMPTS", "Backlog", "MailSettings", "backlog", "deliver_pending", "enqueue", "release_claims",
           "retry_delay"]

log = logging.getLogger(__name__)

PENDING, SENT, FAILED, SKIPPED = OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED
# Retries wait 1, 2, 4 ... minutes, at most an hour: a channel down for an hour loses nothing, and a row gives up
# (failed) only after about four hours of failures.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# A claimed row is someone's to send for this long; a scheduler that died while sending leaves it to the next.
CLAIM = timedelta(minutes=10)
SENT_RECORD_TRIES = 3


def enqueue(
    db_session: Session,
    *,
    kind: str,
    user: User,
    params: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    send_after: datetime | None = None,
) -> list[OutboxMessage]:
    """Write a notice to the outbox, a row per channel the user chose for its kind, in the caller's transaction;
    render nothing. A notice the user wants by no channel writes no row."""
    rows = [
        OutboxMessage(kind=kind, params=params, channel=channel, user_id=user.id, dedupe_key=dedupe_key,
                      created_at=now, send_after=send_after or now)
        for channel in channels_for(db_session, user, kind)
    ]
    db_session.add_all(rows)
    return rows


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the attempts made so far failed."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


@dataclass(frozen=True)
class _Due:
    id: int
    kind: str
    params: dict[str, Any] | None
    channel: str
    user_id: int | None
    to_address: str | None
    subject: str | None
    body_text: str | None
    ics: str | None
    attempts: int


class _NoRenderer(Exception):
    pass


def _earlier_pending(*, still_waiting_at: datetime | None = None):
    """An older pending row of the same user and channel (one waiting to be retried, when a time is given)."""
    older = aliased(OutboxMessage)
    condition = [older.user_id == OutboxMessage.user_id, older.channel == OutboxMessage.channel,
                 older.status == PENDING, older.id < OutboxMessage.id]
    if still_waiting_at is not None:
        condition.append(older.send_after > still_waiting_at)
    return exists().where(*condition)


def _due(db_session: Session, now: datetime, limit: int) -> list[_Due]:
    # A row behind an older one of its user's that waits for a retry is not due: each user's messages go in order.
    # (Rows behind a due one are due too, and come after it in the id order of the run.)
    rows = db_session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.params, OutboxMessage.channel,
               OutboxMessage.user_id, OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.body_text,
               OutboxMessage.ics, OutboxMessage.attempts)
        .where(OutboxMessage.status == PENDING, OutboxMessage.send_after <= now,
               ~_earlier_pending(still_waiting_at=now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db_session.commit()
    return [_Due(*row) for row in rows]


def claimant() -> str:
    """Name this process, as it signs its claims on outbox rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(db_session: Session, row: _Due, now: datetime) -> bool:
    """Make the row this run's to send: a conditional update only one scheduler can win."""
    with unit_of_work(db_session):
        return bool(db_session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == PENDING, OutboxMessage.send_after <= now,
                   ~_earlier_pending())
            .values(send_after=now + CLAIM, attempts=OutboxMessage.attempts + 1, claimed_by=claimant())
            .execution_options(synchronize_session=False)
        ).rowcount)


def _record(db_session: Session, row_id: int, **values) -> None:
    with unit_of_work(db_session):
        db_session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(claimed_by=None, **values)
                           .execution_options(synchronize_session=False))


def release_claims(db_session: Session, *, now: datetime) -> int:
    """Give back the rows another process claimed and never finished: it died while sending (`kill -9`, its host
    lost). Only the one scheduler leader delivers, so a new leader calls this as it starts; they go out at once,
    in their order, instead of when the claim would lapse. One the dead process had handed to the mail server in
    its last instant goes again with the same Message-ID, which mail programs show once."""
    with unit_of_work(db_session):
        released = db_session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == PENDING, OutboxMessage.claimed_by.is_not(None),
                   OutboxMessage.claimed_by != claimant())
            .values(send_after=now, claimed_by=None)
            .execution_options(synchronize_session=False)).rowcount
    if released:
        log.warning("outbox: %d messages claimed by a scheduler that stopped mid-send are due again", released)
    return released


def _failed(db_session: Session, row: _Due, error: str, *, now: datetime) -> None:
    attempts = row.attempts + 1
    values: dict[str, Any] = {"last_error": error[:500]}
    if attempts >= MAX_ATTEMPTS:
        values["status"] = FAILED
    else:
        values["send_after"] = now + retry_delay(attempts)
    _record(db_session, row.id, **values)


def _render(db_session: Session, row: _Due, sender: Sender, config: Mapping[str, Any],
            memo: dict, now: datetime) -> tuple[Message, Any]:
    """The message and its address, from the data as it is now."""
    if row.params is None:  # written before migration 0004: rendered then, sent as it is
        return Message(subject=row.subject or "", text=row.body_text or "", ics=row.ics), row.to_address or ""
    user = db_session.get(User, row.user_id) if row.user_id is not None else None
    if user is None:
        raise Skip("the recipient's account no longer exists")
    if user.is_disabled:
        raise Skip("the recipient's account is disabled")
    # A notice may pin its address (a code sent to a number not verified yet).
    to = row.params.get("to") or sender.address(user)
    if not to:
        raise Skip(f"the recipient has no {row.channel} address")
    renderer = renderer_for(row.kind, row.channel)
    if renderer is None:
        raise _NoRenderer(f"no renderer for notices of kind {row.kind!r}")
    # A notice may pin its language (a code asked for on an English page by an account with none of its own).
    lang = language_of(row.params.get("lang") or user.locale)
    choice = CHOICE_OF.get(row.kind)
    ctx = RenderContext(db_session, user, lang, config, memo=memo, kind=row.kind, channel=row.channel, now=now,
                        stop_url=stop_url(config, user.id, choice) if choice else None)
    with force_locale(lang):
        message = replace(renderer(ctx, row.params), lang=lang)
        if ctx.stop_url and message.stop_url is None:  # the common text ends with the link (an SMS placed its own)
            message = replace(message, stop_url=ctx.stop_url, text=message.text.rstrip("\n") + "\n\n-- \n" + _(
                "To stop messages of this kind: %(url)s", url=ctx.stop_url) + "\n")
    return message, to


def _deliver(db_session: Session, row: _Due, sender: Sender | None, config: Mapping[str, Any], memo: dict, *,
             now: datetime) -> bool | None:
    """Render and send one claimed row; True when sent, False when the channel failed, None otherwise."""
    if sender is None:
        _failed(db_session, row, f"no sender for channel {row.channel!r}", now=now)
        return False
    try:
        message, to = _render(db_session, row, sender, config, memo, now)
    except Skip as skip:
        _record(db_session, row.id, status=SKIPPED, last_error=skip.reason)
        return None
    except _NoRenderer as exc:
        _record(db_session, row.id, status=FAILED, last_error=str(exc))
        return None
    except OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 - a renderer's bug or bad data must not stop the other rows
        log.warning("rendering outbox message %s (%s) failed: %s: %s", row.id, row.kind, type(exc).__name__, exc)
        _failed(db_session, row, f"rendering: {type(exc).__name__}: {exc}", now=now)
        return None
    # The same Message-ID at every try: a message sent again after a crash is recognisably the same message.
    message = replace(message, message_id=f"outbox-{row.id}")
    db_session.commit()  # no transaction stays open while the channel talks to the network
    try:
        outcome = sender.send(message, to)
    except Exception as exc:  # noqa: BLE001 - any delivery failure is recorded and retried
        log.warning("delivery of outbox message %s by %s failed: %s", row.id, row.channel, type(exc).__name__)
        _failed(db_session, row, f"{type(exc).__name__}: {exc}", now=now)
        return False
    outcome = outcome if isinstance(outcome, Outcome) else Outcome()
    if outcome.error:
        log.warning("delivery of outbox message %s by %s failed: %s", row.id, row.channel, outcome.error)
        _failed(db_session, row, outcome.error, now=now)
        result = False
    elif not outcome.delivered:
        _record(db_session, row.id, status=SKIPPED, last_error=f"the recipient's {row.channel} addresses are gone")
        result = None
    else:
        _record_sent(db_session, row, message, to, now=now)
        result = True
    if outcome.gone:  # after the row's outcome is recorded: forgetting a dead address may wait for the next send
        try:
            with unit_of_work(db_session):
                sender.forget(db_session, outcome.gone)
        except OperationalError as exc:
            log.warning("forgetting %s addresses the %s service refused failed: %s", len(outcome.gone), row.channel,
                        type(exc).__name__)
    return result


def _record_sent(db_session: Session, row: _Due, message: Message, to: Any, *, now: datetime) -> None:
    values: dict[str, Any] = {"status": SENT, "sent_at": now}
    if row.params is not None:  # what was sent, for the record
        values.update(to_address=str(to)[:254], subject=message.subject[:300], body_text=message.text)
    # Once sent, the row must say so: left claimed, it would be sent again when the claim lapses.
    for attempt in range(SENT_RECORD_TRIES):
        try:
            _record(db_session, row.id, **values)
            break
        except OperationalError as exc:
            if not _is_busy(exc) or attempt == SENT_RECORD_TRIES - 1:
                raise


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def deliver_pending(db_session: Session, *, config: Mapping[str, Any], now: datetime, limit: int = 100,
                    channel_senders: Mapping[str, Sender] | None = None) -> int:
    """Render and send the due outbox rows, each once; return how many were sent.

    Each row is claimed with a conditional update before it is rendered, so two schedulers (or a job that runs
    twice) never send it twice; each user's rows go out in order, per channel. A failed send is retried after
    `retry_delay`, and after MAX_ATTEMPTS the row is failed; a channel that failed is not tried again in the same
    run, and the other channels go on. A busy SQLite database ends the run with a warning: the rest waits for the
    next run. Each claim and each outcome is its own unit of work, so the session must hold nothing pending; needs
    an app context (the renderers use gettext).
    """
    channel_senders = senders(config) if channel_senders is None else channel_senders
    # Render from the data as it is now, not as this session last saw it (SQLite keeps a read's snapshot).
    db_session.rollback()
    db_session.expire_all()
    memo: dict = {}
    down: set[str] = set()
    sent = 0
    try:
        for row in _due(db_session, now, limit):
            if row.channel in down or not _claim(db_session, row, now):
                continue
            outcome = _deliver(db_session, row, channel_senders.get(row.channel), config, memo, now=now)
            if outcome is False:
                down.add(row.channel)
            sent += outcome is True
    except OperationalError as exc:
        if not _is_busy(exc):
            raise
        db_session.rollback()
        log.warning("outbox delivery paused, the database is busy (%s); %d sent, the rest goes on the next run",
                    exc.orig, sent)
    return sent


@dataclass(frozen=True)
class Backlog:
    channel: str
    pending: int
    retrying: int  # of the pending, those that failed at least once
    failed: int
    oldest_pending_at: datetime | None


def backlog(db_session: Session) -> list[Backlog]:
    """Count what waits in the outbox, per channel (every known channel, even an empty one)."""
    rows = db_session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count(),
               func.count().filter(OutboxMessage.attempts > 0), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_([PENDING, FAILED]))
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    ).all()
    figures: dict[str, dict[str, Any]] = {name: {} for name in channel_names()}
    for channel, status, count, retrying, oldest in rows:
        figures.setdefault(channel, {})[status] = (count, retrying, oldest)
    result = []
    for channel in sorted(figures):
        pending, retrying, oldest = figures[channel].get(PENDING, (0, 0, None))
        result.append(Backlog(channel, pending, retrying, figures[channel].get(FAILED, (0, 0, None))[0], oldest))
    return result


def export_account_data(db_session: Session, user: User) -> dict:
    """Export how the user is reached: choices, own reminder, verified phone, push devices."""
    return {"notifications": preferences.export(db_session, user)}


def erase_account_data(db_session: Session, user: User, *, now: datetime) -> None:
    """Forget how the user was reached: choices, push subscriptions, phone codes."""
    preferences.forget(db_session, user)
