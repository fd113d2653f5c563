"""Minutes: compiled after each session, edited and approved by staff, published as immutable revisions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, column, func, literal_column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.directory.models import GovernmentBody
from majlis.enums import MinutesStatus, QuestionStatus, SessionStatus
from majlis.errors import Conflict, InvalidInput, NotFound, as_id
from majlis.followups.models import Case
from majlis.minutes import fulltext
from majlis.minutes.models import ArchiveDocument, Minutes, MinutesRevision, SessionNote
from majlis.minutes.schemas import BODY_MAX as MAX_BODY
from majlis.minutes.schemas import REASON_MAX, REASON_MIN
from majlis.questions.models import Question
from majlis.registration.services import attendance
from majlis.sessions.models import MajlisSession
from majlis.timeutil import format_hijri


def sha256(text: str) -> str:
    """Return the hex SHA-256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- moderators' notes --------------------------------------------------------------------------------------------


def save_notes(db_session: Session, majlis_session: MajlisSession, author: User, *, body, now: datetime) -> SessionNote:
    """Save the moderators' running notes for a session."""
    text = str(body or "")
    if len(text) > 50_000:
        raise InvalidInput(_l("The notes are too long (at most 50,000 characters)."), field="body")
    note = db_session.scalar(select(SessionNote).where(SessionNote.session_id == majlis_session.id))
    if note is None:
        note = SessionNote(session_id=majlis_session.id, created_at=now)
        db_session.add(note)
    note.body = text
    note.updated_by_id = author.id
    note.updated_at = now
    db_session.flush()
    return note


def notes_of(db_session: Session, majlis_session: MajlisSession) -> str:
    """Return the moderators' notes for a session (empty if none)."""
    return db_session.scalar(select(SessionNote.body).where(SessionNote.session_id == majlis_session.id)) or ""


# --- compiling ----------------------------------------------------------------------------------------------------


def compose_draft(db_session: Session, majlis_session: MajlisSession, *, zone: ZoneInfo, hijri_adjust: int = 0,
                  locale: str = "ar") -> str:
    """Compose the draft text of a session's minutes from what the database knows."""
    start = (majlis_session.actual_started_at or majlis_session.starts_at).astimezone(zone)
    end = (majlis_session.actual_ended_at or majlis_session.ends_at).astimezone(zone)
    counts = attendance(db_session, majlis_session)
    questions = list(db_session.scalars(select(Question).where(Question.session_id == majlis_session.id)
                                        .order_by(Question.answered_at, Question.id)))
    answered = [q for q in questions if q.status == QuestionStatus.ANSWERED]
    rejected = sum(q.status == QuestionStatus.REJECTED for q in questions)
    merged = sum(q.status == QuestionStatus.MERGED for q in questions)
    cases = db_session.execute(select(Case, GovernmentBody).join(GovernmentBody, GovernmentBody.id == Case.body_id)
                               .where(Case.session_id == majlis_session.id).order_by(Case.id)).all()
    title = majlis_session.title_en if locale == "en" else majlis_session.title_ar
    with force_locale(locale):
        lines = [
            f"# {title}",
            "",
            _("Date: %(date)s (%(hijri)s)", date=format_date(start.date(), "full", locale=locale),
              hijri=format_hijri(start.date(), locale, hijri_adjust)),
            _("Time: %(start)s – %(end)s", start=format_time(start, "short", locale=locale),
              end=format_time(end, "short", locale=locale)),
            "",
            "## " + _("Attendance"),
            _("Registered: %(n)s", n=counts.registered),
            _("Attended: %(n)s", n=counts.attended),
            _("No-shows: %(n)s", n=counts.no_shows),
        ]
        if counts.from_room:
            lines += [
                _("In the room (from the video service): %(joined)s joined, %(stayed)s stayed to the end",
                  joined=counts.joined, stayed=counts.stayed),
            ]
            if counts.median_minutes is not None:
                lines.append(_("Median time in the room: %(n)s minutes", n=counts.median_minutes))
            lines.append(_("Followed without a seat (visitors): %(n)s", n=counts.visitors))
        lines += [
            "",
            "## " + _("Questions answered"),
        ]
        if answered:
            for number, question in enumerate(answered, start=1):
                lines.append(f"{number}. {question.body}")
                if question.answer_note:
                    lines.append("   " + _("Answer: %(note)s", note=question.answer_note))
        else:
            lines.append(_("No question was answered."))
        lines += ["", _("Questions not taken: %(n)s. Questions joined with similar ones: %(m)s.", n=rejected,
                        m=merged), "", "## " + _("Follow-up cases opened")]
        if cases:
            for case, body in cases:
                name = body.name_en if locale == "en" else body.name_ar
                lines.append(_("Case %(id)s: %(body)s, due by %(due)s", id=case.id, body=name,
                               due=case.due_on.isoformat()))
        else:
            lines.append(_("No case was opened."))
        notes = notes_of(db_session, majlis_session).strip()
        lines += ["", "## " + _("Moderators' notes"), notes or _("No notes.")]
    return "\n".join(lines) + "\n"


def compile_minutes(db_session: Session, session_id: int, *, now: datetime, zone: ZoneInfo,
                    hijri_adjust: int = 0) -> Minutes | None:
    """Write the draft of an ended session's minutes once; None if not ended or already there.

    The draft is written in one statement of its own transaction: a crash leaves nothing half-written,
    and the unique key on session_id makes a second run (or a second scheduler) a no-op.
    """
    majlis_session = db_session.get(MajlisSession, session_id)
    if majlis_session is None or majlis_session.status != SessionStatus.ENDED:
        return None
    if db_session.scalar(select(Minutes.id).where(Minutes.session_id == session_id)) is not None:
        return None
    body = compose_draft(db_session, majlis_session, zone=zone, hijri_adjust=hijri_adjust)
    minutes = Minutes(session_id=session_id, status=MinutesStatus.DRAFT, body=body, compiled_at=now,
                      compile_lag_seconds=max(0.0, (now - majlis_session.ends_at).total_seconds()),
                      created_at=now, updated_at=now)
    try:
        with db_session.begin_nested():
            db_session.add(minutes)
            db_session.flush()
    except IntegrityError:
        return None  # compiled meanwhile by another run
    from majlis.minutes.attachments import add_transcripts_to_draft

    add_transcripts_to_draft(db_session, session_id, now=now)  # a transcript that came before the draft
    return minutes


def due_to_compile(db_session: Session) -> list[int]:
    """List the ids of ended sessions that have no minutes yet."""
    return list(db_session.scalars(select(MajlisSession.id).where(
        MajlisSession.status == SessionStatus.ENDED,
        ~select(Minutes.id).where(Minutes.session_id == MajlisSession.id).exists())))


# --- editing and publishing ---------------------------------------------------------------------------------------


def minutes_of(db_session: Session, majlis_session: MajlisSession) -> Minutes | None:
    """Return the session's minutes, or None."""
    return db_session.scalar(select(Minutes).where(Minutes.session_id == majlis_session.id))


def _body(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_l("Write the minutes."), field="body")
    if len(value) > MAX_BODY:
        raise InvalidInput(_l("The minutes are too long."), field="body")
    return value.replace("\r\n", "\n")


def edit_draft(db_session: Session, majlis_session: MajlisSession, staff: User, *, body, now: datetime) -> Minutes:
    """Save a new text for the draft minutes as a new revision."""
    text = _body(body)
    minutes = minutes_of(db_session, majlis_session)
    if minutes is None:
        minutes = Minutes(session_id=majlis_session.id, status=MinutesStatus.DRAFT, compiled_at=now, created_at=now)
        db_session.add(minutes)
    elif minutes.status != MinutesStatus.DRAFT:
        raise Conflict(_l("The minutes are approved: publish them, then correct them with a new revision."),
                       code="minutes_locked")
    minutes.body = text
    minutes.updated_at = now
    db_session.flush()
    audit.record(db_session, actor_id=staff.id, action="minutes.edit", object_type="minutes", object_id=minutes.id,
                 now=now)
    return minutes


def _require(db_session: Session, majlis_session: MajlisSession) -> Minutes:
    minutes = minutes_of(db_session, majlis_session)
    if minutes is None:
        raise NotFound(_l("These minutes do not exist yet."), code="no_minutes")
    return minutes


def approve(db_session: Session, majlis_session: MajlisSession, staff: User, *, now: datetime) -> Minutes:
    """Approve the draft minutes; only a draft can be approved."""
    minutes = _require(db_session, majlis_session)
    if minutes.status != MinutesStatus.DRAFT:
        raise Conflict(_l("Only a draft can be approved."), code="illegal_transition")
    minutes.status, minutes.approved_at, minutes.approved_by_id = MinutesStatus.APPROVED, now, staff.id
    audit.record(db_session, actor_id=staff.id, action="minutes.approve", object_type="minutes",
                 object_id=minutes.id, from_state="draft", to_state="approved", now=now)
    return minutes


def publish(db_session: Session, majlis_session: MajlisSession, staff: User, *, now: datetime) -> Minutes:
    """Publish approved minutes to the public."""
    minutes = _require(db_session, majlis_session)
    if minutes.status != MinutesStatus.APPROVED:
        raise Conflict(_l("Only approved minutes can be published."), code="illegal_transition")
    minutes.status, minutes.published_at, minutes.published_by_id = MinutesStatus.PUBLISHED, now, staff.id
    db_session.add(MinutesRevision(minutes_id=minutes.id, number=1, body=minutes.body, sha256=sha256(minutes.body),
                                   created_by_id=staff.id, created_at=now))
    index_published(db_session, majlis_session, revision=1, body=minutes.body, now=now)
    audit.record(db_session, actor_id=staff.id, action="minutes.publish", object_type="minutes",
                 object_id=minutes.id, from_state="approved", to_state="published", now=now)
    db_session.flush()
    return minutes


def revise(db_session: Session, majlis_session: MajlisSession, staff: User, *, body, reason,
           now: datetime) -> MinutesRevision:
    """Correct published minutes: a new revision with a reason; earlier ones stay readable."""
    minutes = _require(db_session, majlis_session)
    if minutes.status != MinutesStatus.PUBLISHED:
        raise Conflict(_l("Only published minutes take corrections; edit the draft instead."),
                       code="illegal_transition")
    text = _body(body)
    reason = " ".join(str(reason or "").split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidInput(_l("Give the reason for the correction (%(minimum)s to %(maximum)s characters).",
                              minimum=REASON_MIN, maximum=REASON_MAX), field="reason")
    number = db_session.scalar(select(func.max(MinutesRevision.number)).where(
        MinutesRevision.minutes_id == minutes.id)) + 1
    revision = MinutesRevision(minutes_id=minutes.id, number=number, body=text, sha256=sha256(text), reason=reason,
                               created_by_id=staff.id, created_at=now)
    db_session.add(revision)
    minutes.body = text
    minutes.updated_at = now
    db_session.flush()
    index_published(db_session, majlis_session, revision=number, body=text, now=now)
    audit.record(db_session, actor_id=staff.id, action="minutes.revise", object_type="minutes", object_id=minutes.id,
                 now=now, data={"revision": number})
    return revision


def revisions(db_session: Session, minutes: Minutes) -> list[MinutesRevision]:
    """List the minutes' revisions, oldest first."""
    return list(db_session.scalars(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes.id)
                                   .order_by(MinutesRevision.number)))


@dataclass(frozen=True)
class View:
    status: MinutesStatus
    body: str
    published_at: datetime | None
    revision: int | None
    reason: str | None

    @property
    def sha256(self) -> str:
        return sha256(self.body)


def view(db_session: Session, majlis_session: MajlisSession, viewer: User | None, *, revision=None) -> View:
    """Return what a viewer may read: the public the published revisions; staff also the draft."""
    minutes = minutes_of(db_session, majlis_session)
    staff = permissions.is_staff(viewer)
    if minutes is None or (minutes.status != MinutesStatus.PUBLISHED and not staff):
        raise NotFound(_l("These minutes are not published."), code="no_minutes")
    if revision not in (None, ""):
        if as_id(revision) is None:
            raise InvalidInput(_l("Give a revision number."), field="revision")
        row = db_session.scalar(select(MinutesRevision).where(MinutesRevision.minutes_id == minutes.id,
                                                              MinutesRevision.number == as_id(revision)))
        if row is None:
            raise NotFound(_l("No such revision."), code="no_revision")
        return View(MinutesStatus.PUBLISHED, row.body, minutes.published_at, row.number, row.reason)
    if minutes.status == MinutesStatus.PUBLISHED:
        latest = revisions(db_session, minutes)[-1]
        return View(minutes.status, latest.body, minutes.published_at, latest.number, latest.reason)
    return View(minutes.status, minutes.body, None, None, None)


# --- attachments: recordings, transcripts, chat logs ---------------------------------------------------------------


def attachments_for(db_session: Session, majlis_session: MajlisSession, viewer: User | None) -> list:
    """List the attachments a viewer may see with the minutes: staff all stored ones; others those published with
    published minutes."""
    from majlis.minutes import attachments

    staff = permissions.is_staff(viewer)
    if not staff:
        minutes = minutes_of(db_session, majlis_session)
        if minutes is None or minutes.status != MinutesStatus.PUBLISHED:
            return []
    return attachments.of_session(db_session, majlis_session.id, staff=staff)


def attachment_for(db_session: Session, majlis_session: MajlisSession, attachment_id: int, viewer: User | None):
    """Return one attachment the viewer may download; 404 otherwise."""
    for row in attachments_for(db_session, majlis_session, viewer):
        if row.id == attachment_id:
            return row
    raise NotFound(_l("No such attachment."), code="no_attachment")


# --- the archive --------------------------------------------------------------------------------------------------


def index_published(db_session: Session, majlis_session: MajlisSession, *, revision: int, body: str,
                    now: datetime) -> None:
    """Put a session's latest published text into the archive's index (the database's full-text index)."""
    text = fulltext.index_text(majlis_session.title_ar, majlis_session.title_en, body)
    document = db_session.scalar(select(ArchiveDocument).where(ArchiveDocument.session_id == majlis_session.id))
    if document is None:
        db_session.add(ArchiveDocument(session_id=majlis_session.id, revision=revision, search_text=text,
                                       updated_at=now))
    else:
        document.revision, document.search_text, document.updated_at = revision, text, now
    db_session.flush()


@dataclass(frozen=True)
class Hit:
    majlis_session: MajlisSession
    pieces: tuple  # of fulltext.Piece: the snippet, its matching words marked

    @property
    def snippet(self) -> str:
        return fulltext.plain(list(self.pieces))


# The most recent matches a query's ranking considers on PostgreSQL (ranking reads each match's whole tsvector: a word
# found in thousands of minutes would cost a read of each); among more, recency has already chosen.
RANKED_CANDIDATES = 200


def search(db_session: Session, query: str, *, viewer: User | None, limit: int = 20) -> list[Hit]:
    """Find the published minutes (their latest revision) the viewer may read that contain every word of the query, best
    first, each with a snippet around its first match.

    The words are normalised before they are sought as they were before they were indexed (see minutes.fulltext),
    so spelling variants match; each is a word prefix. Ranked by the database's text ranking (FTS5's bm25, or
    ts_rank_cd among the RANKED_CANDIDATES most recent matches on PostgreSQL), then the most recent first. Without
    words, the latest published minutes. Minutes of invitation-only sessions are listed only to those who may see
    such sessions.
    """
    from majlis.sessions.services import visible_filter

    terms = fulltext.query_terms(query or "")
    params = {}
    documents = ArchiveDocument.__table__
    statement = (select(documents.c.session_id)
                 .join(MajlisSession, MajlisSession.id == documents.c.session_id).where(visible_filter(viewer)))
    if not terms:
        if (query or "").strip():
            return []  # only punctuation: nothing to look for
        statement = statement.order_by(MajlisSession.starts_at.desc()).limit(limit)
    elif db_session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("b_query"))
        vector = literal_column("archive_documents.search_vector")
        candidates = (statement.add_columns(vector.label("vector"), MajlisSession.starts_at)
                      .where(vector.op("@@")(tsquery)).order_by(MajlisSession.starts_at.desc())
                      .limit(RANKED_CANDIDATES).subquery())
        statement = (select(candidates.c.session_id)
                     .order_by(func.ts_rank_cd(candidates.c.vector, tsquery).desc(), candidates.c.starts_at.desc())
                     .limit(limit))
        params["b_query"] = fulltext.tsquery(terms)
    else:
        fts = table("archive_fts", column("rowid"), column("rank"))
        statement = (statement.join(fts, fts.c.rowid == documents.c.id)
                     .where(literal_column("archive_fts").op("MATCH")(bindparam("b_query")))
                     .order_by(fts.c.rank, MajlisSession.starts_at.desc()).limit(limit))
        params["b_query"] = fulltext.fts5_query(terms)
    order = list(db_session.scalars(statement, params))
    if not order:
        return []
    # The hits' sessions, indexed texts and bodies in one more statement.
    rows = db_session.execute(
        select(MajlisSession, documents.c.search_text, MinutesRevision.body)
        .join(documents, documents.c.session_id == MajlisSession.id)
        .join(Minutes, Minutes.session_id == MajlisSession.id)
        .join(MinutesRevision, (MinutesRevision.minutes_id == Minutes.id)
              & (MinutesRevision.number == documents.c.revision))
        .where(MajlisSession.id.in_(order))).all()
    by_id = {row[0].id: row for row in rows}
    found = [by_id[session_id] for session_id in order if session_id in by_id]
    hits = []
    for majlis_session, indexed, body in found:
        pieces = fulltext.snippet(body, indexed, terms,
                                  skip_words=fulltext.title_word_count(majlis_session.title_ar,
                                                                       majlis_session.title_en))
        hits.append(Hit(majlis_session, tuple(pieces)))
    return hits
