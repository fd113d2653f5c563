"""Who may enter a session's video room, as what, and when; a confirmed registrant's first join is recorded.

Roles: the governor's office enters as moderators; confirmed registrants and invitees as participants; the
session's followers (residents waiting in line, and any resident where the session allows public viewing) as
view-only visitors when the deployment has visitors (`JITSI_VISITORS=1`), or else on the session's live stream.
A follower whose question is on air enters as a participant until a few minutes after it is answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from majlis.auth import permissions
from majlis.auth.models import User
from majlis.enums import InvitationResponse, QuestionStatus, RegistrationStatus, Role, SessionStatus
from majlis.errors import Conflict, Forbidden, MajlisError, Unauthorized
from majlis.jitsi.tokens import MODERATOR, PARTICIPANT, VISITOR, JitsiSettings, Participant, RoomToken, issue
from majlis.registration import services as registration
from majlis.registration.invitations import invitation_state
from majlis.sessions.models import MajlisSession


class NotConfigured(MajlisError):
    status = 503
    code = "jitsi_not_configured"
    default_message = _l("Video rooms are not configured on this server yet (no Jitsi token settings).")


@lru_cache(maxsize=4)
def _read_key(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


SETTINGS_KEYS = ("JITSI_DOMAIN", "JITSI_APP_ID", "JITSI_APP_SECRET", "JITSI_SUB", "JITSI_JAAS_APP_ID",
                 "JITSI_JAAS_KID", "JITSI_PRIVATE_KEY_FILE", "JITSI_EARLY_JOIN_MINUTES", "JITSI_GRACE_MINUTES",
                 "JITSI_TOKEN_EMAIL", "JITSI_VISITORS")
# An on-air author speaks with a participant's token while their question is on air and this long after it is
# answered; each such token lasts at most CALL_IN_TOKEN (a kept one cannot bring them back as a speaker later).
CALL_IN_GRACE = timedelta(minutes=5)
CALL_IN_TOKEN = timedelta(minutes=15)


def settings_from_config(config) -> JitsiSettings:
    """Return the app's Jitsi settings, made once per configuration (every join asks for them)."""
    return _settings_for(tuple(config.get(key) for key in SETTINGS_KEYS))


@lru_cache(maxsize=8)
def _settings_for(values: tuple) -> JitsiSettings:
    config = dict(zip(SETTINGS_KEYS, values, strict=True))
    key_file = config["JITSI_PRIVATE_KEY_FILE"]
    early, grace = config["JITSI_EARLY_JOIN_MINUTES"], config["JITSI_GRACE_MINUTES"]
    return JitsiSettings(
        domain=config["JITSI_DOMAIN"],
        app_id=config["JITSI_APP_ID"],
        app_secret=config["JITSI_APP_SECRET"],
        sub=config["JITSI_SUB"],
        jaas_app_id=config["JITSI_JAAS_APP_ID"],
        jaas_kid=config["JITSI_JAAS_KID"],
        private_key=_read_key(key_file) if key_file else None,
        early_join=timedelta(minutes=15 if early is None else early),
        grace=timedelta(minutes=30 if grace is None else grace),
        token_email=bool(config["JITSI_TOKEN_EMAIL"]),
        visitors=bool(config["JITSI_VISITORS"]),
    )


def external_api_url(config, settings: JitsiSettings) -> str:
    """Return the URL of Jitsi's external_api.js for the configured profile."""
    if config.get("JITSI_EXTERNAL_API_URL"):
        return config["JITSI_EXTERNAL_API_URL"]
    if settings.profile == "jaas":
        return f"https://8x8.vc/{settings.jaas_app_id}/external_api.js"
    return f"https://{settings.domain}/external_api.js"


def script_origin(url: str) -> str:
    """Return the scheme and host of a URL (for the Content-Security-Policy)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def standing(role: Role, registration_status: RegistrationStatus | None) -> bool | None:
    """Tell what role and registration alone decide: True (moderator), False (a confirmed registrant), or None (they do
    not let the user in; an invitation still may)."""
    if role in permissions.OFFICE_ROLES:
        return True
    if registration_status == RegistrationStatus.CONFIRMED:
        return False
    return None


def entitlement(db_session: Session, majlis_session: MajlisSession, user: User):
    """Decide whether the user may enter the session's room.

    Return (None when they may not, else whether they enter as a moderator; their registration, if any)."""
    own = registration.own_registration(db_session, majlis_session.id, user.id)
    decided = standing(user.role, own.status if own is not None else None)
    if decided is not None:
        return decided, own
    state = invitation_state(db_session, majlis_session, user)
    if state is not None and state != InvitationResponse.DECLINED:
        return False, own
    return None, own


def follows(majlis_session: MajlisSession, user: User, own) -> bool:
    """Tell whether a user without a seat may follow the session: waiting in its line, or any resident where the session
    allows public viewing."""
    if own is not None and own.status == RegistrationStatus.WAITLISTED:
        return True
    return bool(majlis_session.public_viewing) and permissions.is_resident(user)


def call_in_until(db_session: Session, majlis_session: MajlisSession, user: User, now: datetime) -> datetime | None:
    """Tell until when the user speaks in the room because their question is on air (or was answered minutes ago)."""
    from sqlalchemy import or_, select

    from majlis.questions.models import Question

    question = db_session.execute(select(Question.status, Question.answered_at).where(
        Question.session_id == majlis_session.id, Question.author_id == user.id,
        or_(Question.status == QuestionStatus.ON_AIR,
            (Question.status == QuestionStatus.ANSWERED) & (Question.answered_at > now - CALL_IN_GRACE)))
        .order_by(Question.status.desc()).limit(1)).first()  # 'on_air' sorts after 'answered'
    if question is None:
        return None
    if question.status == QuestionStatus.ON_AIR:
        return now + CALL_IN_TOKEN
    return min(question.answered_at + CALL_IN_GRACE, now + CALL_IN_TOKEN)


def check_window(majlis_session, settings: JitsiSettings, now: datetime) -> None:
    """Raise Conflict unless the room is open: anything with the session's `status`, `starts_at` and `ends_at`."""
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    if now < majlis_session.starts_at - settings.early_join:
        raise Conflict(_l("The room opens 15 minutes before the session starts."), code="not_open_yet")
    if now >= majlis_session.ends_at + settings.grace:
        raise Conflict(_l("This session has ended."), code="session_ended")


@dataclass(frozen=True)
class _Entry:
    role: str | None  # moderator, participant or visitor; None when the user may not enter
    refusal: MajlisError | None
    registration: object = None  # the user's own registration, if any
    follower: bool = False  # without a seat, but following (as a visitor, or on the stream)
    not_after: datetime | None = None  # an on-air author's participant token ends then


_NOT_ENTITLED = _l("Only confirmed registrants and invitees can enter this session's room.")


def _entry(db_session: Session, majlis_session: MajlisSession, user: User | None, settings: JitsiSettings,
           now: datetime) -> _Entry:
    """As what the user enters, and why they may not enter now: the rule of `join` and `offer`."""
    if user is None:
        return _Entry(None, Unauthorized(_l("Sign in to enter the video room."), code="sign_in"))
    if not majlis_session.has_room:
        return _Entry(None, Conflict(_l("This session is held in person only: it has no video room."),
                                     code="no_room"))
    moderator, own = entitlement(db_session, majlis_session, user)
    role, follower, not_after = None, False, None
    if moderator is not None:
        role = MODERATOR if moderator else PARTICIPANT
    elif follows(majlis_session, user, own):
        follower = True
        not_after = call_in_until(db_session, majlis_session, user, now)
        if not_after is not None:
            role = PARTICIPANT
        elif settings.visitors:
            role = VISITOR
    if role is None:
        return _Entry(None, Forbidden(_NOT_ENTITLED, code="not_registered"), own, follower)
    try:
        check_window(majlis_session, settings, now)
    except Conflict as exc:
        return _Entry(role, exc, own, follower, not_after)
    return _Entry(role, None, own, follower, not_after)


@dataclass(frozen=True)
class Entry:
    """What the session page needs to know of a viewer and the room: as what they would enter (None: they may not,
    `refusal` says why), whether they follow without a seat, and whether they are called in to speak."""

    role: str | None
    refusal: MajlisError | None
    follower: bool
    called_in: bool


def entry(db_session: Session, majlis_session: MajlisSession, user: User | None, *, settings: JitsiSettings,
          now: datetime) -> Entry:
    """Tell as what the user would enter the session's room now, and why not."""
    found = _entry(db_session, majlis_session, user, settings, now)
    return Entry(found.role, found.refusal, found.follower, found.not_after is not None)


def join_refusal(db_session: Session, majlis_session: MajlisSession, user: User | None, *,
                 settings: JitsiSettings, now: datetime) -> MajlisError | None:
    """Tell why the user may not enter the session's room now, or None (the server's Jitsi settings aside)."""
    return _entry(db_session, majlis_session, user, settings, now).refusal


def join(db_session: Session, majlis_session: MajlisSession, user: User, *, settings: JitsiSettings,
         now: datetime) -> RoomToken:
    """Sign a room token for an entitled user during the join window (a moderator's, a participant's or a
    visitor's), and record a confirmed registrant's first join (the one write, short and by itself; joins again
    never take the write lock)."""
    from majlis.db import unit_of_work

    found = _entry(db_session, majlis_session, user, settings, now)
    if found.refusal is not None:
        raise found.refusal
    if settings.profile is None:
        raise NotConfigured()
    participant = Participant(id=user.id, name=user.name, email=user.email, moderator=found.role == MODERATOR,
                              visitor=found.role == VISITOR)
    token = issue(settings, participant, room=majlis_session.room_name, starts_at=majlis_session.starts_at,
                  ends_at=majlis_session.ends_at, now=now, not_after=found.not_after)
    own = found.registration
    if own is not None and own.status == RegistrationStatus.CONFIRMED and own.attended_at is None:
        registration_id = own.id  # read now: the unit of work expires what was read before it
        with unit_of_work(db_session):
            registration.mark_attended(db_session, registration_id, now=now)
    return token
