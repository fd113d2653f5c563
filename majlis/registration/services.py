"""Seats, the waiting line and invitations: one service for the page, the API, the CLI and the scheduler.

Race-proof on both engines: every change runs in a write unit of work that first locks the session
row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the unit of work began with BEGIN IMMEDIATE,
which already serialises writers), and the seat counters change in the same transaction as the rows.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from majlis import cache
from majlis.audit import services as audit
from majlis.auth import permissions
from majlis.auth.models import User
from majlis.enums import InvitationResponse, RegistrationStatus, SeatMode, SessionFormat, SessionStatus, Visibility
from majlis.errors import Conflict, Forbidden, InvalidInput, MajlisError, NotFound, Unauthorized
from majlis.registration.models import Registration
from majlis.sessions.models import Invitation, MajlisSession
from majlis.sessions.services import lock_session

CONFIRMED, WAITLISTED, CANCELLED = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED,
                                    RegistrationStatus.CANCELLED)
ONLINE, IN_PERSON = SeatMode.ONLINE, SeatMode.IN_PERSON


@dataclass(frozen=True)
class Pool:
    """One of a session's two seat pools: the names of its capacity and counters on the session."""

    mode: SeatMode
    capacity: str
    confirmed: str
    waiting: str


POOLS = {ONLINE: Pool(ONLINE, "capacity", "confirmed_count", "waitlist_count"),
         IN_PERSON: Pool(IN_PERSON, "in_person_capacity", "in_person_confirmed_count", "in_person_waitlist_count")}

# Check-in codes: letters and digits that cannot be taken for one another (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V).
CHECK_IN_ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CHECK_IN_LENGTH = 6


@dataclass(frozen=True)
class Place:
    """A resident's registration as they see it: confirmed, or waiting at a place in line (1 = next)."""

    id: int
    session_id: int
    status: RegistrationStatus
    position: int | None
    mode: SeatMode = ONLINE
    check_in_code: str | None = None


def is_invited(db_session: Session, majlis_session, user: User) -> bool:
    """Tell whether the user is invited by name, or through the government body they belong to (and not declined)."""
    conditions = [Invitation.user_id == user.id]
    if user.body_id is not None:
        conditions.append(Invitation.body_id == user.body_id)
    return db_session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.session_id == majlis_session.id, or_(*conditions),
        Invitation.response != InvitationResponse.DECLINED)) > 0


class NotOpenYet(Conflict):
    """Registration opens later (the contract's code for any time outside the window)."""

    code = "registration_closed"
    default_message = _l("Registration for this session has not opened yet.")

    def __init__(self, opens_at: datetime):
        super().__init__()
        self.opens_at = opens_at


def _check_open(majlis_session, now: datetime) -> None:
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    if now < majlis_session.registration_opens_at:
        raise NotOpenYet(majlis_session.registration_opens_at)
    if now >= majlis_session.registration_closes_at:
        raise Conflict(_l("Registration for this session is not open now."), code="registration_closed")


def _registration_refusal(db_session: Session, majlis_session, user: User | None, registered: bool,
                          now: datetime) -> MajlisError | None:
    """Why the user may not register for the session now, or None: the one rule for `register` and `offer`.

    `majlis_session` is anything with the session's visibility, status and registration window (the ORM row, or
    the row `register` reads under its lock).
    """
    if user is None:
        return Unauthorized(_l("Sign in to register."), code="sign_in")
    if not permissions.is_resident(user):
        return Forbidden(_l("Only residents register for sessions; staff and officials are invited."),
                         code="residents_only")
    if majlis_session.visibility == Visibility.INVITED and not is_invited(db_session, majlis_session, user):
        return NotFound()  # as for a session that does not exist: nothing tells an outsider it does
    try:
        _check_open(majlis_session, now)
    except Conflict as exc:
        return exc
    if registered:
        return Conflict(_l("You are already registered for this session."), code="already_registered")
    return None


def position_in_line(db_session: Session, registration: Registration) -> int | None:
    """Return the registration's place in its pool's waiting line (1 first), or None if not waiting."""
    if registration.status != WAITLISTED:
        return None
    ahead = db_session.scalar(select(func.count()).select_from(Registration).where(
        Registration.session_id == registration.session_id,
        Registration.status == WAITLISTED, Registration.mode == registration.mode,
        or_(Registration.queued_at < registration.queued_at,
            and_(Registration.queued_at == registration.queued_at, Registration.id < registration.id)),
    ))
    return ahead + 1


def own_registration(db_session: Session, session_id: int, user_id: int) -> Registration | None:
    """Return the user's registration for the session unless cancelled (the identity map serves a second call)."""
    registration = db_session.scalar(_statements().registration, {"b_session": session_id, "b_user": user_id})
    return registration if registration is not None and registration.status != CANCELLED else None


def place_of(db_session: Session, majlis_session: MajlisSession, user: User) -> Place | None:
    """Return the user's place for the session (seat or line), or None."""
    registration = own_registration(db_session, majlis_session.id, user.id)
    if registration is None:
        return None
    return Place(registration.id, registration.session_id, registration.status,
                 position_in_line(db_session, registration), registration.mode, registration.check_in_code)


def place_in(db_session: Session, session_id: int, user: User) -> Place | None:
    """Return the user's place for the session by its id (None: no such session, or not registered)."""
    majlis_session = db_session.get(MajlisSession, session_id)
    return place_of(db_session, majlis_session, user) if majlis_session is not None else None


def pools_of(session_format: SessionFormat) -> tuple[SeatMode, ...]:
    """List the seat pools a session of this format has: the video room's, the hall's, or both."""
    return {SessionFormat.ONLINE: (ONLINE,), SessionFormat.IN_PERSON: (IN_PERSON,),
            SessionFormat.HYBRID: (ONLINE, IN_PERSON)}[SessionFormat(session_format)]


def seat_mode(session_format: SessionFormat, asked: str | None) -> SeatMode:
    """Return the pool a registration asks for: online unless said otherwise; the hall's for an in-person session."""
    pools = pools_of(session_format)
    if asked is None or asked == "":
        return pools[0]
    try:
        mode = SeatMode(asked)
    except ValueError:
        raise InvalidInput(_l("Choose one of: %(allowed)s.", allowed=", ".join(m.value for m in pools)),
                           field="mode") from None
    if mode not in pools:
        raise InvalidInput(_l("This session has no seats of this kind."), field="mode")
    return mode


def _new_check_in_code(connection, statements, session_id: int) -> str:
    """A code no other registration of the session holds (the caller holds the session's lock)."""
    while True:
        code = "".join(secrets.choice(CHECK_IN_ALPHABET) for _ in range(CHECK_IN_LENGTH))
        if connection.execute(statements.code_taken, {"b_session": session_id, "b_code": code}).first() is None:
            return code


def normalize_code(value) -> str:
    """Normalise a code as typed or scanned: case, spaces and dashes do not matter."""
    return "".join(str(value or "").split()).replace("-", "").upper()


def _after(last: datetime | None, now: datetime) -> datetime:
    """An arrival time after everyone already in line (also after an earlier cancellation).

    `now` was read before the lock was granted, so a request that waited could carry an earlier time than one that
    was served first; the line follows the order in which the lock served them.
    """
    return now if last is None or last < now else last + timedelta(microseconds=1)


def register(db_session: Session, session_id: int, resident: User, *, now: datetime,
             mode: str | None = None) -> Place:
    """Give the resident a seat in the pool asked for (`mode`: online or in person), or a place at the back of that
    pool's line when its seats are gone. An in-person registration gets its check-in code.

    The hottest write of the product (thousands a minute when registration opens), so it runs as statements built
    once on the unit of work's connection: the session row locked with the resident's registration read in the same
    statement, the back of the line read after the lock, then the row, the counters and the notice.
    """
    statements = _statements()
    connection = db_session.connection()
    row = connection.execute(statements.lock_for_registration,
                             {"b_session": session_id, "b_user": resident.id}).one_or_none()
    if row is None:
        raise NotFound()
    registered = row.registration_id is not None and row.registration_status != CANCELLED
    refusal = _registration_refusal(db_session, row, resident, registered, now)
    if refusal is not None:
        raise refusal
    mode = seat_mode(row.format, mode)
    pool = POOLS[mode]
    last = connection.execute(statements.back_of_line, {"b_session": session_id}).scalar()
    confirmed = getattr(row, pool.confirmed) < getattr(row, pool.capacity)
    code = _new_check_in_code(connection, statements, session_id) if mode == IN_PERSON else None
    values = {"b_session": session_id, "b_user": resident.id, "b_status": CONFIRMED if confirmed else WAITLISTED,
              "b_queued_at": _after(last, now), "b_confirmed_at": now if confirmed else None, "b_now": now,
              "b_mode": mode, "b_code": code}
    try:
        if row.registration_id is None:  # a first registration
            registration_id = connection.execute(statements.insert_registration, values).scalar_one()
        else:  # back after a cancellation: the same row, at the back of the line
            registration_id = row.registration_id
            connection.execute(statements.requeue_registration, {**values, "b_id": registration_id})
    except IntegrityError:
        # The same resident registered at the same moment in another request (its row was committed after this
        # request's lock statement read the registrations): as a second click would be answered.
        raise Conflict(_l("You are already registered for this session."), code="already_registered") from None
    online, hall = mode == ONLINE, mode == IN_PERSON
    connection.execute(statements.count_seat, {
        "b_session": session_id, "b_confirmed": int(confirmed and online), "b_waiting": int(not confirmed and online),
        "b_hall_confirmed": int(confirmed and hall), "b_hall_waiting": int(not confirmed and hall)})
    cache.raise_versions(db_session, (cache.SESSIONS,))  # the list shows the seats; no calendar does
    # At the back of the line everyone else waiting is ahead: the place is the counter just raised (no count).
    place = Place(registration_id, session_id, CONFIRMED if confirmed else WAITLISTED,
                  None if confirmed else getattr(row, pool.waiting) + 1, mode, code)
    from majlis.registration import notices

    notices.registered(db_session, row, resident, place, now=now)
    return place


@dataclass(frozen=True)
class Choice:
    """One thing a viewer may or may not do now; when not, why (the refusal the action itself would give)."""

    refusal: MajlisError | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def code(self) -> str | None:
        return None if self.refusal is None else self.refusal.code

    @property
    def message(self) -> str | None:
        return None if self.refusal is None else str(self.refusal.message)

    @property
    def opens_at(self) -> datetime | None:
        """When the refusal is only "not yet": the moment it opens."""
        return getattr(self.refusal, "opens_at", None)


@dataclass(frozen=True)
class Offer:
    """What a viewer may do with a session now: register (for a seat or a place in line), cancel, enter the room
    (as a moderator, a participant or a view-only visitor; `called_in` when their question is on air), or watch the
    session's live stream."""

    place: Place | None
    invitation: InvitationResponse | None
    register: Choice
    seat_free: bool  # registering now gives an online seat (else a place in line)
    cancel: Choice
    join: Choice
    join_role: str | None = None  # "moderator", "participant" or "visitor" when join is allowed
    called_in: bool = False
    watch: Choice = Choice(NotFound())
    pools: tuple[SeatMode, ...] = (ONLINE,)  # the seat pools the session has (the choice of a hybrid one)
    hall_seat_free: bool = False  # registering now gives a seat in the hall

    @property
    def state(self) -> str:
        """A short digest of what the viewer's part of the page shows (the page's live refresh compares it)."""
        place = (self.place.status.value, self.place.position) if self.place else None
        return repr((place, self.join.code, self.join_role, self.called_in, self.watch.code))


def offer(db_session: Session, majlis_session: MajlisSession, viewer: User | None, *, now: datetime,
          room_settings) -> Offer:
    """Tell what the viewer may do with the session now, each refusal with its reason (the same rules as the
    actions: `register`, `cancel`, `jitsi.services.join`)."""
    from majlis.jitsi import services as jitsi
    from majlis.registration.invitations import invitation_state

    place = place_of(db_session, majlis_session, viewer) if viewer is not None else None
    invitation = invitation_state(db_session, majlis_session, viewer) \
        if viewer is not None and majlis_session.visibility == Visibility.INVITED else None
    register_refusal = _registration_refusal(db_session, majlis_session, viewer, place is not None, now)
    if place is None:
        cancel_refusal = NotFound(_l("You are not registered for this session."), code="not_registered")
    else:
        cancel_refusal = _cancel_refusal(majlis_session, now)
    room = jitsi.entry(db_session, majlis_session, viewer, settings=room_settings, now=now)
    return Offer(place=place, invitation=invitation, register=Choice(register_refusal),
                 seat_free=majlis_session.confirmed_count < majlis_session.capacity,
                 pools=pools_of(majlis_session.format),
                 hall_seat_free=majlis_session.in_person_confirmed_count < majlis_session.in_person_capacity,
                 cancel=Choice(cancel_refusal), join=Choice(room.refusal),
                 join_role=room.role if room.refusal is None else None, called_in=room.called_in,
                 watch=Choice(_watch_refusal(majlis_session, viewer, room, room_settings, now)))


def _watch_refusal(majlis_session: MajlisSession, viewer: User | None, room, room_settings,
                   now: datetime) -> MajlisError | None:
    """Why the viewer may not watch the session's live stream now: it is for followers (without a seat), where the
    deployment has no visitors, while the room is open (an anonymous reader where the public may follow is asked
    to sign in)."""
    from majlis.jitsi import services as jitsi

    try:
        jitsi.check_window(majlis_session, room_settings, now)
    except Conflict as exc:
        return exc
    if viewer is None and majlis_session.public_viewing and (majlis_session.stream_url or room_settings.visitors):
        return Unauthorized(_l("Sign in to follow the session."), code="sign_in")  # as a viewer or on the stream
    if not majlis_session.stream_url or room_settings.visitors:
        return NotFound(_l("This session has no live stream."), code="no_stream")
    if viewer is None or not room.follower or room.called_in:
        return Forbidden(_l("The live stream is for residents waiting for a seat."), code="not_registered")
    return None


@dataclass(frozen=True)
class CancelConsequence:
    """What giving up a place means, said before it is given up."""

    is_final: bool  # registration has closed: a cancelled place cannot be taken back
    seat_goes_to_line: bool  # a confirmed seat passes at once to the first person waiting
    closes_at: datetime  # until when the resident could register again


def cancel_consequence(majlis_session: MajlisSession, place: Place, now: datetime) -> CancelConsequence:
    """Tell what cancelling the place means now: whether registering again is still possible, and who gets the seat."""
    return CancelConsequence(
        is_final=now >= majlis_session.registration_closes_at,
        seat_goes_to_line=place.status == CONFIRMED and majlis_session.waitlist_count > 0,
        closes_at=majlis_session.registration_closes_at)


def _cancel_refusal(majlis_session, now: datetime) -> MajlisError | None:
    if majlis_session.starts_at <= now:
        return Conflict(_l("The session has already started."), code="session_started")
    return None


@dataclass(frozen=True)
class _Statements:
    registration: object
    lock_for_registration: object
    back_of_line: object
    insert_registration: object
    requeue_registration: object
    count_seat: object
    code_taken: object


@functools.cache
def _statements() -> _Statements:
    """The registration path's statements, built once (building one costs more than SQLite takes to run it)."""
    sessions, registrations = MajlisSession.__table__, Registration.__table__
    c, r = sessions.c, registrations.c
    return _Statements(
        registration=select(Registration).where(Registration.session_id == bindparam("b_session"),
                                                Registration.user_id == bindparam("b_user")),
        # The session as the rules and the notice need it, locked against other changes to its seats, with the
        # resident's own registration. (PostgreSQL: a statement that waited for the lock reads the session as it is
        # now; the registration as it was when the statement began, which the unique key backs up.)
        lock_for_registration=select(
            c.id, c.title_ar, c.title_en, c.starts_at, c.status, c.visibility, c.registration_opens_at,
            c.registration_closes_at, c.capacity, c.confirmed_count, c.waitlist_count, c.format,
            c.in_person_capacity, c.in_person_confirmed_count, c.in_person_waitlist_count,
            r.id.label("registration_id"), r.status.label("registration_status"),
        ).select_from(sessions.outerjoin(registrations, and_(r.session_id == c.id, r.user_id == bindparam("b_user"))))
        .where(c.id == bindparam("b_session")).with_for_update(of=sessions),
        back_of_line=select(func.max(r.queued_at)).where(r.session_id == bindparam("b_session")),
        insert_registration=insert(registrations).values(
            session_id=bindparam("b_session"), user_id=bindparam("b_user"), status=bindparam("b_status"),
            queued_at=bindparam("b_queued_at"), confirmed_at=bindparam("b_confirmed_at"),
            created_at=bindparam("b_now"), updated_at=bindparam("b_now"), mode=bindparam("b_mode"),
            check_in_code=bindparam("b_code")).returning(r.id),
        requeue_registration=update(registrations).where(r.id == bindparam("b_id")).values(
            status=bindparam("b_status"), queued_at=bindparam("b_queued_at"),
            confirmed_at=bindparam("b_confirmed_at"), cancelled_at=None, updated_at=bindparam("b_now"),
            mode=bindparam("b_mode"), check_in_code=bindparam("b_code"), checked_in_at=None),
        # Both pools' counters in one statement: only the pool taken moves (by 1, the others by 0).
        count_seat=update(sessions).where(c.id == bindparam("b_session")).values(
            confirmed_count=c.confirmed_count + bindparam("b_confirmed"),
            waitlist_count=c.waitlist_count + bindparam("b_waiting"),
            in_person_confirmed_count=c.in_person_confirmed_count + bindparam("b_hall_confirmed"),
            in_person_waitlist_count=c.in_person_waitlist_count + bindparam("b_hall_waiting")),
        code_taken=select(r.id).where(r.session_id == bindparam("b_session"), r.check_in_code == bindparam("b_code")),
    )


def cancel(db_session: Session, session_id: int, resident: User, *, now: datetime) -> list[Registration]:
    """Give up a seat or a place in line; the head of the line takes a freed seat at once."""
    majlis_session = lock_session(db_session, session_id)
    registration = db_session.scalar(select(Registration).where(
        Registration.session_id == session_id, Registration.user_id == resident.id, Registration.status != CANCELLED))
    if registration is None:
        raise NotFound(_l("You are not registered for this session."), code="not_registered")
    refusal = _cancel_refusal(majlis_session, now)
    if refusal is not None:
        raise refusal
    pool = POOLS[registration.mode]
    counter = pool.confirmed if registration.status == CONFIRMED else pool.waiting
    setattr(majlis_session, counter, getattr(majlis_session, counter) - 1)
    registration.status = CANCELLED
    registration.cancelled_at = now
    registration.updated_at = now
    majlis_session.live_version += 1
    db_session.flush()
    return promote_from_line(db_session, majlis_session, now=now)


def promote_from_line(db_session: Session, majlis_session: MajlisSession, *, now: datetime) -> list[Registration]:
    """Fill free seats of each pool from the head of that pool's line, in arrival order; the caller holds the
    session lock."""
    promoted: list[Registration] = []
    if majlis_session.status == SessionStatus.CANCELLED:
        return promoted
    from majlis.registration import notices

    for pool in POOLS.values():
        free = getattr(majlis_session, pool.capacity) - getattr(majlis_session, pool.confirmed)
        if free <= 0 or not getattr(majlis_session, pool.waiting):
            continue
        heads = db_session.scalars(select(Registration).where(
            Registration.session_id == majlis_session.id, Registration.status == WAITLISTED,
            Registration.mode == pool.mode).order_by(Registration.queued_at, Registration.id).limit(free))
        for registration in heads:
            registration.status = CONFIRMED
            registration.confirmed_at = now
            registration.updated_at = now
            setattr(majlis_session, pool.confirmed, getattr(majlis_session, pool.confirmed) + 1)
            setattr(majlis_session, pool.waiting, getattr(majlis_session, pool.waiting) - 1)
            promoted.append(registration)
            notices.promoted(db_session, majlis_session, registration.user, now=now)
    if promoted:
        # The promoted see it at once on the session page (a seat, the room as a participant), even mid-session.
        majlis_session.live_version += 1
        db_session.flush()
        from majlis.sessions import live

        live.announce(db_session, majlis_session.id)
    return promoted


def active_registrations(db_session: Session, majlis_session: MajlisSession) -> list[tuple[Registration, int | None]]:
    """List the confirmed registrants, then the line in order, each with their place in line."""
    rows = list(db_session.scalars(select(Registration).where(
        Registration.session_id == majlis_session.id, Registration.status != CANCELLED)
        .options(selectinload(Registration.user).selectinload(User.area))
        .order_by(Registration.status, Registration.queued_at, Registration.id)))
    confirmed = [r for r in rows if r.status == CONFIRMED]
    lines = []
    for mode in POOLS:  # each pool has its own line
        waiting = [r for r in rows if r.status == WAITLISTED and r.mode == mode]
        lines += [(r, i) for i, r in enumerate(waiting, start=1)]
    return [(r, None) for r in confirmed] + lines


def record_attendance(db_session: Session, majlis_session: MajlisSession, user: User, *, now: datetime) -> bool:
    """Mark a confirmed registrant as attended (first join during the session); True when newly marked."""
    own = own_registration(db_session, majlis_session.id, user.id)
    return own is not None and mark_attended(db_session, own.id, now=now)


def mark_attended(executor, registration_id: int, *, now: datetime) -> bool:
    """Record the first join, as one guarded UPDATE on a session or a connection in a write transaction.

    False when there is nothing to record: already attended (a second join, or two at once), or no longer a
    confirmed registrant (cancelled since it was read), which a caller must then check again.
    """
    done = executor.execute(_mark_attended(), {"b_id": registration_id, "b_now": now})
    return done.rowcount > 0


@functools.cache
def _mark_attended():
    # Built once, a Core statement on the table, by primary key (why: bench/ANALYSIS.md, 7).
    table = Registration.__table__
    return update(table).where(
        table.c.id == bindparam("b_id"), table.c.status == CONFIRMED, table.c.attended_at.is_(None),
    ).values(attended_at=bindparam("b_now"), updated_at=bindparam("b_now"))


@dataclass(frozen=True)
class Attendance:
    """Who came. `attended` counts confirmed registrants checked in at the door or in the room (each once): in the
    room by the video service's events when it sent any for the session (`from_room`), else by a join token obtained
    during the join window."""

    registered: int
    attended: int
    waitlisted: int
    from_room: bool = False
    joined: int = 0  # confirmed registrants seen in the room
    stayed: int = 0  # of them, still in the room at the scheduled end (or when it closed after it)
    median_minutes: int | None = None  # of those who joined
    visitors: int = 0  # followed the room without a seat
    checked_in: int = 0  # confirmed registrants checked in at the door

    @property
    def no_shows(self) -> int:
        return self.registered - self.attended


def attended(registration: Registration, from_room: bool) -> bool:
    """Tell whether a registrant attended, by the one rule of "attended".

    Checked in at the door, or in the room by the video service's events when the session has them, else a join
    token obtained during the join window."""
    if registration.checked_in_at is not None:
        return True
    return registration.joined_at is not None if from_room else registration.attended_at is not None


def _attended_condition(from_room: bool):
    """`attended` as a condition on registrations (one row counts once, however it came)."""
    online = Registration.joined_at.is_not(None) if from_room else Registration.attended_at.is_not(None)
    return or_(Registration.checked_in_at.is_not(None), online)


def attendance_from_room(db_session: Session, majlis_session: MajlisSession) -> bool:
    """Tell whether the session's attendance is read from the room's events (see `attended`)."""
    from majlis.jitsi import events

    return events.has_room_events(db_session, majlis_session.id)


def attendance(db_session: Session, majlis_session: MajlisSession) -> Attendance:
    """Count the session's registrations by status and how many attended."""
    from majlis.jitsi import events

    counts = dict(db_session.execute(select(Registration.status, func.count()).where(
        Registration.session_id == majlis_session.id).group_by(Registration.status)).all())
    from_room = attendance_from_room(db_session, majlis_session)
    count, checked_in = db_session.execute(select(
        func.count().filter(_attended_condition(from_room)),
        func.count().filter(Registration.checked_in_at.is_not(None))).where(
        Registration.session_id == majlis_session.id, Registration.status == CONFIRMED)).one()
    if not from_room:
        return Attendance(registered=counts.get(CONFIRMED, 0), attended=count, waitlisted=counts.get(WAITLISTED, 0),
                          checked_in=checked_in)
    present = db_session.execute(select(Registration.left_at, Registration.seconds_present).where(
        Registration.session_id == majlis_session.id, Registration.status == CONFIRMED,
        Registration.joined_at.is_not(None))).all()
    stayed = sum(1 for row in present if row.left_at is None or row.left_at >= majlis_session.ends_at)
    minutes = sorted(row.seconds_present // 60 for row in present)
    return Attendance(registered=counts.get(CONFIRMED, 0), attended=count,
                      waitlisted=counts.get(WAITLISTED, 0), from_room=True, joined=len(present), stayed=stayed,
                      median_minutes=minutes[len(minutes) // 2] if minutes else None,
                      visitors=events.visitors(db_session, majlis_session.id), checked_in=checked_in)


def check_in(db_session: Session, majlis_session: MajlisSession, code, *, actor: User, now: datetime
             ) -> Registration:
    """Check a resident in at the door by the code of their in-person registration.

    Refused: a code no registration of the session holds (`unknown_code`), a resident still waiting for a hall seat
    (`not_confirmed`), one already checked in (`already_checked_in`), a cancelled session.
    """
    if not permissions.is_office(actor):
        raise Forbidden()
    normalized = normalize_code(code)
    if not normalized:
        raise InvalidInput(_l("Enter the check-in code."), field="code")
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    registration = db_session.scalar(select(Registration).where(
        Registration.session_id == majlis_session.id, Registration.check_in_code == normalized[:12],
        Registration.status != CANCELLED).options(selectinload(Registration.user)))
    if registration is None:
        raise NotFound(_l("No registration for this session has this code."), code="unknown_code")
    if registration.status != CONFIRMED:
        raise Conflict(_l("This resident is still waiting for a seat in the hall."), code="not_confirmed")
    # One guarded UPDATE: two scans of the same code at once check the resident in once.
    table = Registration.__table__
    done = db_session.execute(update(table).where(
        table.c.id == registration.id, table.c.status == CONFIRMED, table.c.checked_in_at.is_(None),
    ).values(checked_in_at=now, updated_at=now))
    if done.rowcount == 0:
        raise Conflict(_l("This resident is already checked in."), code="already_checked_in")
    db_session.refresh(registration)
    audit.record(db_session, actor_id=actor.id, action="registration.check_in", object_type="registration",
                 object_id=registration.id, now=now)
    return registration


def registered_users(db_session: Session, majlis_session: MajlisSession) -> list[User]:
    """List the users registered (not cancelled) for the session."""
    return list(db_session.scalars(select(User).join(Registration, Registration.user_id == User.id).where(
        Registration.session_id == majlis_session.id, Registration.status != CANCELLED).order_by(User.id)))


def audit_registration(db_session: Session, actor: User, registration: Registration, action: str,
                       now: datetime) -> None:
    """Record a registration's change in the audit log."""
    audit.record(db_session, actor_id=actor.id, action=action, object_type="registration",
                 object_id=registration.id, to_state=registration.status.value, now=now)


def has_registrations(db_session: Session, majlis_session: MajlisSession) -> bool:
    """Return whether anyone holds a seat or a place in line for the session (a cancelled one does not count)."""
    return bool(db_session.scalar(select(exists().where(
        Registration.session_id == majlis_session.id, Registration.status != RegistrationStatus.CANCELLED))))


def export_account_data(db_session: Session, user: User) -> dict:
    """Export the user's registrations for their data download."""
    return {"registrations": [
        {"session_id": r.session_id, "status": r.status.value, "queued_at": _iso(r.queued_at),
         "attended_at": _iso(r.attended_at)}
        for r in db_session.scalars(select(Registration).where(Registration.user_id == user.id))]}


def erase_account_data(db_session: Session, user: User, *, now: datetime) -> None:
    """Cancel the user's registrations for sessions still to come, so their seats go to the waiting line."""
    future = db_session.scalars(select(Registration.session_id).join(
        MajlisSession, MajlisSession.id == Registration.session_id).where(
        Registration.user_id == user.id, Registration.status != "cancelled", MajlisSession.starts_at > now)).all()
    for session_id in future:
        cancel(db_session, session_id, user, now=now)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
