"""Minutes' JSON: limits (minutes/services.py imports them), request models and the one serializer of each shape.

An attachment's URL needs the request (url_for), so its serializer takes the URL builder from the caller.
"""


from typing import Any

from majlis.enums import AttachmentKind, MinutesStatus
from majlis.schema_types import N_, Closed, Count, Id, Instant, Model, described, enum_of, number, text

BODY_MAX = 200_000
REASON_MIN, REASON_MAX = 3, 1000  # a correction's reason, after collapsing white space

MinutesBody = text(N_("Not blank; at most 200,000 characters"), min_length=1, max_length=BODY_MAX)
Sha256 = text(pattern=r"^[0-9a-f]{64}$")


class DraftInput(Model):
    body: MinutesBody


class RevisionInput(Model):
    body: MinutesBody
    reason: text(N_("3 to 1000 characters after collapsing white space"), min_length=REASON_MIN,
                 max_length=REASON_MAX)


class PublishAttachmentInput(Closed):
    public: bool


class Attachment(Model):
    """A recording, transcript or chat log of the session, kept by Majlis"""

    id: Id
    kind: enum_of(AttachmentKind)
    sha256: Sha256
    size: Count
    url: text("Where to download the file", fmt="uri")
    content_type: str | None
    public: described(bool, "Published with the minutes")

    @staticmethod
    def dump(row, url: str) -> dict[str, Any]:
        return {"id": row.id, "kind": row.kind.value, "sha256": row.sha256, "size": row.size, "url": url,
                "content_type": row.content_type, "public": row.is_public}


class Minutes(Model):
    status: enum_of(MinutesStatus)
    body: str
    published_at: Instant | None
    sha256: text("Hex SHA-256 of `body` in UTF-8", pattern=r"^[0-9a-f]{64}$")
    revision: number(1) | None
    reason: described(str, "Why this revision corrected the one before") | None
    attachments: list[Attachment]

    @staticmethod
    def dump(view, attachments=()) -> dict[str, Any]:
        """`attachments`: the dicts of Attachment.dump."""
        return {"status": view.status.value, "body": view.body,
                "published_at": view.published_at.isoformat() if view.published_at else None,
                "sha256": view.sha256, "revision": view.revision, "reason": view.reason,
                "attachments": list(attachments)}


class ArchiveResult(Model):
    session_id: Id
    title: described(str, "The Arabic title")
    title_en: str
    starts_at: Instant
    snippet: described(str, "A passage around the first match, as plain text")
    highlights: described(list[str], "The snippet's words that matched, as written")

    @staticmethod
    def dump(hit) -> dict[str, Any]:
        return {"session_id": hit.majlis_session.id, "title": hit.majlis_session.title_ar,
                "title_en": hit.majlis_session.title_en, "starts_at": hit.majlis_session.starts_at.isoformat(),
                "snippet": hit.snippet, "highlights": [piece.text for piece in hit.pieces if piece.is_match]}


class ArchiveResults(Model):
    results: list[ArchiveResult]
