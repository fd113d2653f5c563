"""Invitations to invitation-only sessions (the coordinating majlis): bodies and named people."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from majlis.audit import services as audit
from majlis.auth.models import User
from majlis.directory.models import GovernmentBody
from majlis.enums import InvitationResponse, Visibility
from majlis.errors import Conflict, Forbidden, InvalidInput
from majlis.sessions.models import Invitation, MajlisSession


def _future_rows(db_session: Session, majlis_session: MajlisSession, now: datetime) -> list[MajlisSession]:
    if majlis_session.series_id is None:
        return [majlis_session]
    return list(db_session.scalars(select(MajlisSession).where(
        MajlisSession.series_id == majlis_session.series_id,
        MajlisSession.starts_at >= min(majlis_session.starts_at, now)).order_by(MajlisSession.starts_at)))


def invite(db_session: Session, majlis_session: MajlisSession, *, actor: User, now: datetime,
           body: GovernmentBody | None = None, user: User | None = None, whole_series: bool = False) -> int:
    """Invite a government body (all its officials) or one person; with whole_series, every future occurrence.

    Returns how many new invitations were made (inviting twice adds nothing).
    """
    if (body is None) == (user is None):
        raise InvalidInput(_l("Choose a government body or a person to invite."), field="body")
    if majlis_session.visibility != Visibility.INVITED:
        raise Conflict(_l("Only invitation-only sessions take invitations."), code="not_invited_session")
    rows = _future_rows(db_session, majlis_session, now) if whole_series else [majlis_session]
    created = 0
    for row in rows:
        match = Invitation.body_id == body.id if body is not None else Invitation.user_id == user.id
        if db_session.scalar(select(Invitation.id).where(Invitation.session_id == row.id, match)):
            continue
        db_session.add(Invitation(session_id=row.id, body_id=body.id if body else None,
                                  user_id=user.id if user else None, invited_by_id=actor.id, created_at=now))
        created += 1
    db_session.flush()
    audit.record(db_session, actor_id=actor.id, action="invitation.create", object_type="session",
                 object_id=majlis_session.id, now=now,
                 data={"body": body.id if body else None, "user": user.id if user else None, "count": created})
    return created


def _invitations_for(db_session: Session, majlis_session: MajlisSession, user: User) -> list[Invitation]:
    conditions = [Invitation.user_id == user.id]
    if user.body_id is not None:
        conditions.append(Invitation.body_id == user.body_id)
    return list(db_session.scalars(select(Invitation).where(Invitation.session_id == majlis_session.id,
                                                            or_(*conditions))))


def invitation_state(db_session: Session, majlis_session: MajlisSession, user: User) -> InvitationResponse | None:
    """The user's own answer, else pending when their body is invited, else None (not invited)."""
    invitations = _invitations_for(db_session, majlis_session, user)
    personal = [i for i in invitations if i.user_id == user.id]
    if personal:
        return personal[0].response
    return InvitationResponse.PENDING if invitations else None


def is_invited(db_session: Session, majlis_session: MajlisSession, user: User) -> bool:
    """Return whether the user or their body is invited to the session, whatever their answer."""
    return invitation_state(db_session, majlis_session, user) is not None


def respond(db_session: Session, majlis_session: MajlisSession, user: User, *, accept: bool,
            now: datetime) -> InvitationResponse:
    """Accept or decline; an official answering a body invitation gets an answer of their own."""
    invitations = _invitations_for(db_session, majlis_session, user)
    if not invitations:
        raise Forbidden(_l("You are not invited to this session."), code="not_invited")
    personal = next((i for i in invitations if i.user_id == user.id), None)
    if personal is None:
        personal = Invitation(session_id=majlis_session.id, user_id=user.id, created_at=now)
        db_session.add(personal)
    personal.response = InvitationResponse.ACCEPTED if accept else InvitationResponse.DECLINED
    personal.responded_at = now
    db_session.flush()
    return personal.response


def invitation_list(db_session: Session, majlis_session: MajlisSession) -> list[Invitation]:
    return list(db_session.scalars(select(Invitation).where(Invitation.session_id == majlis_session.id)
                                   .order_by(Invitation.body_id.is_(None), Invitation.id)))


def copy_series_invitations(db_session: Session, new_row: MajlisSession) -> None:
    """A newly stored occurrence inherits the staff's invitations of the series' previous occurrence."""
    previous = db_session.scalar(select(MajlisSession).where(
        MajlisSession.series_id == new_row.series_id, MajlisSession.starts_at < new_row.starts_at,
        MajlisSession.id != new_row.id).order_by(MajlisSession.starts_at.desc()))
    if previous is None:
        return
    for invitation in db_session.scalars(select(Invitation).where(Invitation.session_id == previous.id,
                                                                  Invitation.invited_by_id.is_not(None))):
        db_session.add(Invitation(session_id=new_row.id, body_id=invitation.body_id, user_id=invitation.user_id,
                                  invited_by_id=invitation.invited_by_id, created_at=new_row.created_at))
