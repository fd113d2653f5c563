"""The video service's events turned into attendance and attachments: one door, verified before it, idempotent.

Each event is stored once under its key (a replay changes nothing). A participant's joins and leaves, read back in
the order of the service's timestamps (the truth: deliveries come out of order), give their registration's first
join, last leave and time in the room; a destroyed room closes everyone's time. Uploads queue a download.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from majlis.enums import RegistrationStatus
from majlis.jitsi.models import RoomEvent
from majlis.jitsi.webhooks import JOINED, LEFT, ROOM_DESTROYED, UPLOADS, VideoEvent
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession

RECORDED, DUPLICATE, IGNORED = "recorded", "duplicate", "ignored"


def receive(db_session: Session, event: VideoEvent, *, now: datetime) -> str:
    """Store an event once and apply it; "duplicate" for a key seen before, "ignored" for a room Majlis does not
    know (still stored, so its replay is recognised)."""
    session_id = db_session.scalar(select(MajlisSession.id).where(MajlisSession.room_name == event.room)) \
        if event.room else None
    user_id = _known_user(db_session, event.user_id)
    is_visitor = event.is_visitor or (event.kind == JOINED and session_id is not None and user_id is not None
                                      and _without_a_seat(db_session, session_id, user_id))
    connection = db_session.connection()
    inserted = connection.execute(_insert_event(connection.dialect.name), {
        "b_key": event.key, "b_source": event.source, "b_kind": event.kind, "b_session": session_id,
        "b_user": user_id, "b_participant": event.participant, "b_visitor": is_visitor, "b_at": event.occurred_at,
        "b_now": now,
    }).first()
    if inserted is None:
        return DUPLICATE
    if session_id is None:
        return IGNORED
    if event.kind in (JOINED, LEFT) and event.user_id is not None:
        recompute_presence(db_session, session_id, event.user_id)
    elif event.kind == ROOM_DESTROYED:
        for user_id in db_session.scalars(select(RoomEvent.user_id).where(
                RoomEvent.session_id == session_id, RoomEvent.kind == JOINED,
                RoomEvent.user_id.is_not(None)).distinct()):
            recompute_presence(db_session, session_id, user_id)
    elif event.kind in UPLOADS and event.link:
        from majlis.minutes import attachments

        attachments.queue_download(db_session, session_id, kind=UPLOADS[event.kind], link=event.link,
                                   received_at=event.occurred_at, now=now)
    return RECORDED


def _without_a_seat(db_session: Session, session_id: int, user_id: int) -> bool:
    """Whether a user in the room follows without a seat (the line, or public viewing): a self-hosted deployment's
    events do not say who came in as a visitor, Majlis's own records do."""
    from majlis.auth.models import User
    from majlis.jitsi.services import entitlement

    user = db_session.get(User, user_id)
    majlis_session = db_session.get(MajlisSession, session_id)
    return entitlement(db_session, majlis_session, user)[0] is None  # no seat, no invitation, not the office


def _known_user(db_session: Session, user_id: int | None) -> int | None:
    from majlis.auth.models import User

    if user_id is None:
        return None
    return db_session.scalar(select(User.id).where(User.id == user_id))


@functools.cache
def _insert_event(dialect: str):
    module = postgresql if dialect == "postgresql" else sqlite
    table = RoomEvent.__table__
    return module.insert(table).values(
        idempotency_key=bindparam("b_key"), source=bindparam("b_source"), kind=bindparam("b_kind"),
        session_id=bindparam("b_session"), user_id=bindparam("b_user"), participant=bindparam("b_participant"),
        is_visitor=bindparam("b_visitor"), occurred_at=bindparam("b_at"), received_at=bindparam("b_now"),
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)


@dataclass(frozen=True)
class Presence:
    joined_at: datetime | None
    left_at: datetime | None  # None while still in the room
    seconds: int


def presence(events: list[tuple[datetime, str]]) -> Presence:
    """First join, last leave and time inside from one person's joins, leaves and the room's ends, in any order.

    Two devices at once count once (inside from the first join until the last of them leaves); a leave without a
    join before it is ignored; the room's end closes whatever is open.
    """
    order = {JOINED: 0, LEFT: 1, ROOM_DESTROYED: 2}
    inside, since, total = 0, None, 0.0
    joined_at = left_at = None
    for at, kind in sorted(events, key=lambda item: (item[0], order.get(item[1], 3))):
        if kind == JOINED:
            if inside == 0:
                since = at
            inside += 1
            joined_at = joined_at or at
        elif inside and (kind == ROOM_DESTROYED or (kind == LEFT and inside == 1)):
            total += (at - since).total_seconds()
            inside, left_at = 0, at
        elif kind == LEFT and inside:
            inside -= 1
    return Presence(joined_at, None if inside else left_at, int(total))


def recompute_presence(db_session: Session, session_id: int, user_id: int) -> None:
    """Write a user's time in the session's room onto their registration (if they have one)."""
    rows = db_session.execute(select(RoomEvent.occurred_at, RoomEvent.kind).where(
        RoomEvent.session_id == session_id,
        or_((RoomEvent.user_id == user_id) & RoomEvent.kind.in_([JOINED, LEFT]), RoomEvent.kind == ROOM_DESTROYED),
    )).all()
    found = presence([(row.occurred_at, row.kind) for row in rows])
    db_session.execute(update(Registration).where(
        Registration.session_id == session_id, Registration.user_id == user_id,
        Registration.status != RegistrationStatus.CANCELLED,
    ).values(joined_at=found.joined_at, left_at=found.left_at, seconds_present=found.seconds))


def has_room_events(db_session: Session, session_id: int) -> bool:
    """Whether the video service reported anyone joining this session's room (then attendance is read from it)."""
    return db_session.scalar(select(func.count()).select_from(RoomEvent).where(
        RoomEvent.session_id == session_id, RoomEvent.kind == JOINED)) > 0


def visitors(db_session: Session, session_id: int) -> int:
    """How many people followed the session's room as visitors (each counted once, however often they came)."""
    who = func.coalesce(cast(RoomEvent.user_id, String(20)), RoomEvent.participant)
    return db_session.scalar(select(func.count(func.distinct(who))).where(
        RoomEvent.session_id == session_id, RoomEvent.kind == JOINED, RoomEvent.is_visitor.is_(True)))
