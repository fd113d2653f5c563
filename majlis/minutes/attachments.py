"""Recordings, transcripts and chat logs of a session: fetched from the video service's link into Majlis's storage,
with their SHA-256 and size, and attached to the session's minutes.

The link is valid for 24 hours: the scheduler fetches it at once, and after a failure again with growing pauses
(1, 2, 5, 10, 30 minutes, then hourly) until the link has expired. The download runs outside any transaction; only
its outcome is written. A transcript's text goes into the draft of the minutes (now, or when the draft is
compiled); once the minutes are approved it waits, unpublished, for staff to publish it. A recording is a link for
staff until staff choose to publish it with the minutes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from majlis.audit import services as audit
from majlis.auth.models import User
from majlis.enums import AttachmentKind, AttachmentStatus, MinutesStatus
from majlis.errors import Conflict, NotFound
from majlis.minutes.models import Attachment, Minutes
from majlis.minutes.transcripts import transcript_text

log = logging.getLogger(__name__)
LINK_LIFETIME = timedelta(hours=24)
BACKOFF_MINUTES = (1, 2, 5, 10, 30, 60)
CHUNK = 1024 * 1024
TIMEOUT_SECONDS = 60
EXTENSIONS = {AttachmentKind.RECORDING: "mp4", AttachmentKind.TRANSCRIPT: "txt", AttachmentKind.CHAT: "json"}
CONTENT_TYPES = {AttachmentKind.RECORDING: "video/mp4", AttachmentKind.TRANSCRIPT: "text/plain; charset=utf-8",
                 AttachmentKind.CHAT: "application/json"}


class DownloadError(RuntimeError):
    """The file could not be fetched this time (the text says why, never the link)."""


def queue_download(db_session: Session, session_id: int, *, kind: str, link: str, received_at: datetime,
                   now: datetime) -> Attachment:
    """Record an upload the video service announced; the scheduler fetches it at once."""
    row = Attachment(session_id=session_id, kind=AttachmentKind(kind), status=AttachmentStatus.PENDING,
                     source_url=link, source_expires_at=received_at + LINK_LIFETIME, attempts=0,
                     next_attempt_at=now, created_at=now)
    db_session.add(row)
    db_session.flush()
    return row


def due(db_session: Session, now: datetime) -> list[int]:
    return list(db_session.scalars(select(Attachment.id).where(
        Attachment.status == AttachmentStatus.PENDING, Attachment.next_attempt_at <= now).order_by(Attachment.id)))


@dataclass(frozen=True)
class Downloaded:
    path: str
    sha256: str
    size: int
    content_type: str | None


def _check_link(link: str, *, production: bool) -> None:
    parts = urlsplit(link)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and not production:
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return  # a stand-in on this machine (development, tests)
        except ValueError:
            if parts.hostname == "localhost":
                return
    raise DownloadError("the link is not https")


def download(link: str, *, max_bytes: int, production: bool, directory: str | None = None) -> Downloaded:
    """Fetch a link into a temporary file, hashing it on the way; DownloadError on any failure."""
    _check_link(link, production=production)
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(prefix="majlis-download-", dir=directory, delete=False)  # noqa: SIM115
    try:
        with handle, urllib.request.urlopen(link, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - checked
            content_type = response.headers.get("Content-Type")
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"larger than {max_bytes} bytes")
                digest.update(chunk)
                handle.write(chunk)
    except urllib.error.HTTPError as exc:
        os.unlink(handle.name)
        raise DownloadError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        os.unlink(handle.name)
        raise DownloadError(type(exc).__name__) from None
    except DownloadError:
        os.unlink(handle.name)
        raise
    return Downloaded(handle.name, digest.hexdigest(), size, content_type)


def storage_key(row: Attachment, sha256: str) -> str:
    return f"sessions/{row.session_id}/{row.kind.value}-{row.id}-{sha256[:12]}.{EXTENSIONS[row.kind]}"


def fetch(read_session: Session, attachment_id: int, *, storage, now: datetime, max_bytes: int,
          production: bool, write) -> bool:
    """Fetch one due attachment and record the outcome through `write` (a unit of work); True when stored.

    Nothing is held while the file downloads: the link is read first, the outcome written after.
    """
    row = read_session.get(Attachment, attachment_id)
    if row is None or row.status != AttachmentStatus.PENDING or not row.source_url:
        return False
    link, expires_at, kind = row.source_url, row.source_expires_at, row.kind
    try:
        found = download(link, max_bytes=max_bytes, production=production)
    except DownloadError as exc:
        with write() as db_session:
            _failed(db_session, attachment_id, str(exc), now=now, expires_at=expires_at)
        log.warning("attachment %s: download failed (%s)", attachment_id, exc)
        return False
    try:
        key = storage_key(row, found.sha256)
        content_type = CONTENT_TYPES[kind] if kind != AttachmentKind.RECORDING else (
            found.content_type or CONTENT_TYPES[kind]).split(";")[0]
        storage.put(key, found.path, content_type)
        text = None
        if kind == AttachmentKind.TRANSCRIPT:
            with open(found.path, "rb") as file:
                text = transcript_text(file.read(20 * 1024 * 1024))
    except Exception as exc:  # noqa: BLE001 - the store refused: retried like a failed download
        with write() as db_session:
            _failed(db_session, attachment_id, f"storage: {type(exc).__name__}", now=now, expires_at=expires_at)
        log.warning("attachment %s: not stored (%s)", attachment_id, type(exc).__name__)
        return False
    finally:
        os.unlink(found.path)
    with write() as db_session:
        stored = db_session.execute(update(Attachment).where(
            Attachment.id == attachment_id, Attachment.status == AttachmentStatus.PENDING,
        ).values(status=AttachmentStatus.STORED, storage_key=key, sha256=found.sha256, size=found.size,
                 content_type=content_type, text=text, source_url=None, stored_at=now, last_error=None,
                 attempts=Attachment.attempts + 1, next_attempt_at=None)).rowcount
        if stored and kind == AttachmentKind.TRANSCRIPT:
            add_transcripts_to_draft(db_session, row.session_id, now=now)
    return bool(stored)


def _failed(db_session: Session, attachment_id: int, reason: str, *, now: datetime, expires_at) -> None:
    row = db_session.get(Attachment, attachment_id)
    if row is None or row.status != AttachmentStatus.PENDING:
        return
    row.attempts += 1
    row.last_error = reason[:300]
    pause = timedelta(minutes=BACKOFF_MINUTES[min(row.attempts - 1, len(BACKOFF_MINUTES) - 1)])
    if expires_at is not None and now + pause >= expires_at:
        row.status, row.next_attempt_at, row.source_url = AttachmentStatus.FAILED, None, None
    else:
        row.next_attempt_at = now + pause


def transcript_section(texts: list[str], locale: str = "ar") -> str:
    with force_locale(locale):
        heading = "## " + _("Transcript")
    return "\n".join(["", heading, *["\n\n".join(texts)]]) + "\n"


def add_transcripts_to_draft(db_session: Session, session_id: int, *, now: datetime) -> int:
    """Put the stored transcripts not yet there into the session's draft minutes (if there is a draft)."""
    minutes = db_session.scalar(select(Minutes).where(Minutes.session_id == session_id))
    if minutes is None or minutes.status != MinutesStatus.DRAFT:
        return 0
    waiting = pending_transcripts(db_session, session_id)
    if not waiting:
        return 0
    from majlis.minutes.services import MAX_BODY

    section = transcript_section([row.text for row in waiting])
    room = MAX_BODY - len(minutes.body)
    minutes.body += section if len(section) <= room else section[:max(room - 1, 0)] + "…"
    minutes.updated_at = now
    for row in waiting:
        row.in_draft, row.is_public = True, True  # published with the minutes, as part of them
    db_session.flush()
    return len(waiting)


def pending_transcripts(db_session: Session, session_id: int) -> list[Attachment]:
    return list(db_session.scalars(select(Attachment).where(
        Attachment.session_id == session_id, Attachment.kind == AttachmentKind.TRANSCRIPT,
        Attachment.status == AttachmentStatus.STORED, Attachment.in_draft.is_(False)).order_by(Attachment.id)))


def of_session(db_session: Session, session_id: int, *, staff: bool) -> list[Attachment]:
    """A session's stored attachments: all of them for staff; for others those published with the minutes."""
    statement = select(Attachment).where(Attachment.session_id == session_id,
                                         Attachment.status == AttachmentStatus.STORED)
    if not staff:
        statement = statement.where(Attachment.is_public.is_(True))
    return list(db_session.scalars(statement.order_by(Attachment.kind, Attachment.id)))


def set_public(db_session: Session, session_id: int, attachment_id: int, staff: User, *, public: bool,
               now: datetime) -> Attachment:
    """Staff choose whether a stored attachment is published with the minutes."""
    row = db_session.get(Attachment, attachment_id)
    if row is None or row.session_id != session_id or row.status != AttachmentStatus.STORED:
        raise NotFound(_l("No such attachment."), code="no_attachment")
    if row.kind == AttachmentKind.TRANSCRIPT and row.in_draft:
        raise Conflict(_l("This transcript is part of the minutes' text: edit the text instead."),
                       code="transcript_in_minutes")
    row.is_public = bool(public)
    audit.record(db_session, actor_id=staff.id, action="attachment.publish" if public else "attachment.unpublish",
                 object_type="attachment", object_id=row.id, now=now)
    db_session.flush()
    return row


@dataclass(frozen=True)
class Backlog:
    pending: int
    retrying: int
    failed: int
    last_error: str | None


def backlog(db_session: Session) -> Backlog:
    """Downloads waiting, waiting to retry, and failed (for `majlis scheduler status`)."""
    counts = dict(db_session.execute(select(Attachment.status, func.count()).group_by(Attachment.status)).all())
    retrying = db_session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.status == AttachmentStatus.PENDING, Attachment.attempts > 0))
    last_error = db_session.scalar(select(Attachment.last_error).where(Attachment.last_error.is_not(None))
                                   .order_by(Attachment.id.desc()).limit(1))
    return Backlog(counts.get(AttachmentStatus.PENDING, 0), retrying, counts.get(AttachmentStatus.FAILED, 0),
                   last_error)
