"""Moderators' notes, the minutes of a session and their immutable published revisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base
from majlis.enums import AttachmentKind, AttachmentStatus, MinutesStatus
from majlis.models_base import Timestamps, enum_column, utcnow


class SessionNote(Timestamps, Base):
    """The moderators' running notes for one session (autosaved from the console)."""

    __tablename__ = "session_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Minutes(Timestamps, Base):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Compiled once per session: the unique key makes the compile job idempotent.
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(enum_column(MinutesStatus), default=MinutesStatus.DRAFT)
    body: Mapped[str] = mapped_column(Text, default="")
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Seconds between the session's end and the compiled draft (scheduler lag).
    compile_lag_seconds: Mapped[float | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MinutesRevision(Base):
    """A published text of the minutes; never updated, corrections add a revision."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("minutes_id", "number", name="uq_minutes_revisions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """A recording, transcript or chat log of a session, fetched from the video service into Majlis's storage.

    Pending while the download is due or being retried (`source_url` is the service's link, valid 24 hours, cleared
    once stored); stored with the file's SHA-256 and size; failed when the link expired or the file was refused.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_session", "session_id", "kind"),
        Index("ix_attachments_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"))
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    status: Mapped[AttachmentStatus] = mapped_column(enum_column(AttachmentStatus),
                                                     default=AttachmentStatus.PENDING)
    source_url: Mapped[str | None] = mapped_column(Text)
    source_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    storage_key: Mapped[str | None] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    # A transcript's words as plain text (from WebVTT, JSON or text), for the draft of the minutes.
    text: Mapped[str | None] = mapped_column(Text)
    # Shown with the published minutes: staff choose for a recording; a transcript follows its minutes.
    is_public: Mapped[bool] = mapped_column(default=False)
    # Whether the transcript's text went into the draft of the minutes (once, when both exist).
    in_draft: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_at: Mapped[datetime | None]


class ArchiveDocument(Base):
    """The searchable text of a session's published minutes (their latest revision), normalised for search.

    Indexed by the database itself: an FTS5 table on SQLite, a generated `tsvector` column with a GIN index on
    PostgreSQL (both made by the DDL below, beside the table, and by the migration that adds it).
    """

    __tablename__ = "archive_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("majlis_sessions.id", ondelete="CASCADE"), unique=True)
    revision: Mapped[int]
    # The normalised words of the titles and the body, one for each word of the original, in order (see
    # minutes.fulltext): a match's place in it is the same word's place in the original text.
    search_text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Engine-specific index objects; the migration creates the same ones (and majlis.migrations.include_name keeps
# them out of the comparison of the models with the database).
SQLITE_INDEX_DDL = (
    "CREATE VIRTUAL TABLE archive_fts USING fts5(search_text, content='archive_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER archive_documents_ai AFTER INSERT ON archive_documents BEGIN "
    "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER archive_documents_ad AFTER DELETE ON archive_documents BEGIN "
    "INSERT INTO archive_fts(archive_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER archive_documents_au AFTER UPDATE ON archive_documents BEGIN "
    "INSERT INTO archive_fts(archive_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO archive_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)
POSTGRESQL_INDEX_DDL = (
    "ALTER TABLE archive_documents ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_archive_documents_search_vector ON archive_documents USING gin (search_vector)",
)
# Names of those objects (the FTS5 table's shadow tables start with its name).
INDEX_OBJECT_PREFIXES = ("archive_fts", "archive_documents_a", "search_vector", "ix_archive_documents_search_vector")

for _statement in SQLITE_INDEX_DDL:
    event.listen(ArchiveDocument.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_INDEX_DDL:
    event.listen(ArchiveDocument.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(ArchiveDocument.__table__, "before_drop",
             DDL("DROP TABLE IF EXISTS archive_fts").execute_if(dialect="sqlite"))
