"""Seats, the waiting line and invitations: one service for the page, the API, the CLI and the scheduler.

Race-proof on both engines: every change runs in a write unit of work that first locks the session
row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the unit of work began with BEGIN IMMEDIATE,
which already serialises writers), and the seat counters change in the same transaction as the rows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from majlis.audit import services as audit
from majlis.auth.models import User
from majlis.enums import InvitationResponse, RegistrationStatus, Role, SessionStatus, Visibility
from majlis.errors import Conflict, Forbidden, NotFound
from majlis.registration.models import Registration
from majlis.sessions.models import Invitation, MajlisSession

CONFIRMED, WAITLISTED, CANCELLED = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED,
                                    RegistrationStatus.CANCELLED)


@dataclass(frozen=True)
class Place:
    """A resident's registration as they see it: confirmed, or waiting at a place in line (1 = next)."""

    registration: Registration
    position: int | None

    @property
    def status(self) -> RegistrationStatus:
        return self.registration.status


def lock_session(db_session: Session, session_id: int) -> MajlisSession:
    """Load the session row for a change, locked against concurrent changes to its seats."""
    row = db_session.scalar(_statements().locked_session, {"b_session": session_id})
    if row is None:
        raise NotFound()
    return row


@dataclass(frozen=True)
class _Statements:
    locked_session: object
    registration: object
    back_of_line: object


@functools.cache
def _statements() -> _Statements:
    """The registration path's statements, built once (building one costs more than SQLite takes to run it)."""
    return _Statements(
        locked_session=select(MajlisSession).where(MajlisSession.id == bindparam("b_session")).with_for_update()
        .execution_options(populate_existing=True),
        registration=select(Registration).where(Registration.session_id == bindparam("b_session"),
                                                Registration.user_id == bindparam("b_user")),
        back_of_line=select(func.max(Registration.queued_at)).where(
            Registration.session_id == bindparam("b_session")),
    )


def is_invited(db_session: Session, majlis_session: MajlisSession, user: User) -> bool:
    """Invited by name, or through the government body the user belongs to (and not declined)."""
    conditions = [Invitation.user_id == user.id]
    if user.body_id is not None:
        conditions.append(Invitation.body_id == user.body_id)
    return db_session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.session_id == majlis_session.id, or_(*conditions),
        Invitation.response != InvitationResponse.DECLINED)) > 0


def _check_open(majlis_session: MajlisSession, now: datetime) -> None:
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    if not majlis_session.registration_opens_at <= now < majlis_session.registration_closes_at:
        raise Conflict(_l("Registration for this session is not open now."), code="registration_closed")


def position_in_line(db_session: Session, registration: Registration) -> int | None:
    if registration.status != WAITLISTED:
        return None
    ahead = db_session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == registration.session_id,
        Registration.status == WAITLISTED,
        or_(Registration.queued_at < registration.queued_at,
            and_(Registration.queued_at == registration.queued_at, Registration.id < registration.id)),
    ))
    return ahead + 1


def own_registration(db_session: Session, session_id: int, user_id: int) -> Registration | None:
    """The user's registration for the session unless cancelled (the identity map serves a second call)."""
    registration = db_session.scalar(_statements().registration, {"b_session": session_id, "b_user": user_id})
    return registration if registration is not None and registration.status != CANCELLED else None


def place_of(db_session: Session, majlis_session: MajlisSession, user: User) -> Place | None:
    registration = own_registration(db_session, majlis_session.id, user.id)
    if registration is None:
        return None
    return Place(registration, position_in_line(db_session, registration))


def _back_of_line(db_session: Session, session_id: int, now: datetime) -> datetime:
    """An arrival time after everyone already in line (also after an earlier cancellation).

    `now` was read before the lock was granted, so a request that waited could carry an earlier time than
    one that was served first; the line follows the order in which the lock served them.
    """
    return _after(db_session.scalar(_statements().back_of_line, {"b_session": session_id}), now)


def _after(last: datetime | None, now: datetime) -> datetime:
    return now if last is None or last < now else last + timedelta(microseconds=1)


def register(db_session: Session, session_id: int, resident: User, *, now: datetime) -> Place:
    """Give the resident a seat, or a place at the back of the line when the seats are gone."""
    if resident.role != Role.RESIDENT:
        raise Forbidden(_l("Only residents register for sessions; staff and officials are invited."),
                        code="residents_only")
    majlis_session = lock_session(db_session, session_id)
    if majlis_session.visibility == Visibility.INVITED and not is_invited(db_session, majlis_session, resident):
        raise Forbidden(_l("This session is by invitation only."), code="invited_only")
    _check_open(majlis_session, now)
    registration = db_session.scalar(_statements().registration, {"b_session": session_id, "b_user": resident.id})
    if registration is not None and registration.status != CANCELLED:
        raise Conflict(_l("You are already registered for this session."), code="already_registered")
    queued_at = _back_of_line(db_session, session_id, now)
    if registration is None:
        registration = Registration(session_id=session_id, user_id=resident.id, created_at=now)
        db_session.add(registration)
    registration.queued_at = queued_at
    registration.cancelled_at = None
    registration.updated_at = now
    if majlis_session.confirmed_count < majlis_session.capacity:
        registration.status = CONFIRMED
        registration.confirmed_at = now
        majlis_session.confirmed_count += 1
    else:
        registration.status = WAITLISTED
        registration.confirmed_at = None
        majlis_session.waitlist_count += 1
    majlis_session.live_version += 1
    # No flush here: the commit writes the registration, the counters and the notice in one flush.
    # At the back of the line everyone else waiting is ahead: the place is the counter just raised (no count).
    place = Place(registration, majlis_session.waitlist_count if registration.status == WAITLISTED else None)
    from majlis.registration import notices

    notices.registered(db_session, majlis_session, resident, place, now=now)
    return place


def cancel(db_session: Session, session_id: int, resident: User, *, now: datetime) -> list[Registration]:
    """Give up a seat or a place in line; the head of the line takes a freed seat at once."""
    majlis_session = lock_session(db_session, session_id)
    registration = db_session.scalar(select(Registration).where(
        Registration.session_id == session_id, Registration.user_id == resident.id, Registration.status != CANCELLED))
    if registration is None:
        raise NotFound(_l("You are not registered for this session."), code="not_registered")
    if majlis_session.starts_at <= now:
        raise Conflict(_l("The session has already started."), code="session_started")
    if registration.status == CONFIRMED:
        majlis_session.confirmed_count -= 1
    else:
        majlis_session.waitlist_count -= 1
    registration.status = CANCELLED
    registration.cancelled_at = now
    registration.updated_at = now
    majlis_session.live_version += 1
    db_session.flush()
    return promote_from_line(db_session, majlis_session, now=now)


def promote_from_line(db_session: Session, majlis_session: MajlisSession, *, now: datetime) -> list[Registration]:
    """Fill free seats from the head of the line, in arrival order; the caller holds the session lock."""
    promoted = []
    free = majlis_session.capacity - majlis_session.confirmed_count
    if free <= 0 or majlis_session.status == SessionStatus.CANCELLED:
        return promoted
    heads = db_session.scalars(select(Registration).where(
        Registration.session_id == majlis_session.id, Registration.status == WAITLISTED)
        .order_by(Registration.queued_at, Registration.id).limit(free))
    from majlis.registration import notices

    for registration in heads:
        registration.status = CONFIRMED
        registration.confirmed_at = now
        registration.updated_at = now
        majlis_session.confirmed_count += 1
        majlis_session.waitlist_count -= 1
        promoted.append(registration)
        notices.promoted(db_session, majlis_session, registration.user, now=now)
    if promoted:
        majlis_session.live_version += 1
        db_session.flush()
    return promoted


def active_registrations(db_session: Session, majlis_session: MajlisSession) -> list[tuple[Registration, int | None]]:
    """Confirmed registrants, then the line in order, each with their place in line."""
    rows = list(db_session.scalars(select(Registration).where(
        Registration.session_id == majlis_session.id, Registration.status != CANCELLED)
        .options(selectinload(Registration.user).selectinload(User.area))
        .order_by(Registration.status, Registration.queued_at, Registration.id)))
    confirmed = [r for r in rows if r.status == CONFIRMED]
    waiting = [r for r in rows if r.status == WAITLISTED]
    return [(r, None) for r in confirmed] + [(r, i) for i, r in enumerate(waiting, start=1)]


def record_attendance(db_session: Session, majlis_session: MajlisSession, user: User, *, now: datetime) -> bool:
    """Mark a confirmed registrant as attended (first join during the session); True when newly marked."""
    own = own_registration(db_session, majlis_session.id, user.id)
    return own is not None and mark_attended(db_session, own.id, now=now)


def mark_attended(executor, registration_id: int, *, now: datetime) -> bool:
    """The first join's record, as one guarded UPDATE on a session or a connection in a write transaction.

    False when there is nothing to record: already attended (a second join, or two at once), or no longer a
    confirmed registrant (cancelled since it was read), which a caller must then check again.
    """
    done = executor.execute(_mark_attended(), {"b_id": registration_id, "b_now": now})
    return done.rowcount > 0


@functools.cache
def _mark_attended():
    # Built once: at a session's start this runs thousands of times a minute, and building a statement costs more
    # than running it. A Core statement on the table (the ORM objects of a request that ran it are not reused).
    # By primary key: with (session, user) PostgreSQL's planner, its statistics behind a burst of registrations,
    # chose the waiting line's index and filtered a session's registrations row by row (measured: 0.3 ms at 300).
    table = Registration.__table__
    return update(table).where(
        table.c.id == bindparam("b_id"), table.c.status == CONFIRMED, table.c.attended_at.is_(None),
    ).values(attended_at=bindparam("b_now"), updated_at=bindparam("b_now"))


@dataclass(frozen=True)
class Attendance:
    registered: int
    attended: int
    waitlisted: int

    @property
    def no_shows(self) -> int:
        return self.registered - self.attended


def attendance(db_session: Session, majlis_session: MajlisSession) -> Attendance:
    counts = dict(db_session.execute(select(Registration.status, func.count()).where(
        Registration.session_id == majlis_session.id).group_by(Registration.status)).all())
    attended = db_session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == majlis_session.id, Registration.status == CONFIRMED,
        Registration.attended_at.is_not(None)))
    return Attendance(registered=counts.get(CONFIRMED, 0), attended=attended, waitlisted=counts.get(WAITLISTED, 0))


def registered_users(db_session: Session, majlis_session: MajlisSession) -> list[User]:
    return list(db_session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.session_id == majlis_session.id, Registration.status != CANCELLED).order_by(User.id)))


def audit_registration(db_session: Session, actor: User, registration: Registration, action: str,
                       now: datetime) -> None:
    audit.record(db_session, actor_id=actor.id, action=action, object_type="registration",
                 object_id=registration.id, to_state=registration.status.value, now=now)
