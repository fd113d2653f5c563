"""Who may enter a session's video room, and when; attendance is recorded at the first join."""

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
from majlis.enums import InvitationResponse, RegistrationStatus, Role, SessionStatus
from majlis.errors import Conflict, Forbidden, MajlisError, Unauthorized
from majlis.jitsi.tokens import JitsiSettings, Participant, RoomToken, issue
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
                 "JITSI_TOKEN_EMAIL")


def settings_from_config(config) -> JitsiSettings:
    """The app's Jitsi settings, made once per configuration (every join asks for them)."""
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
    )


def external_api_url(config, settings: JitsiSettings) -> str:
    if config.get("JITSI_EXTERNAL_API_URL"):
        return config["JITSI_EXTERNAL_API_URL"]
    if settings.profile == "jaas":
        return f"https://8x8.vc/{settings.jaas_app_id}/external_api.js"
    return f"https://{settings.domain}/external_api.js"


def script_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def standing(role: Role, registration_status: RegistrationStatus | None) -> bool | None:
    """What role and registration alone decide: True (moderator), False (a confirmed registrant), or None (they do
    not let the user in; an invitation still may)."""
    if role in permissions.OFFICE_ROLES:
        return True
    if registration_status == RegistrationStatus.CONFIRMED:
        return False
    return None


def entitlement(db_session: Session, majlis_session: MajlisSession, user: User):
    """(None when the user may not enter, else whether they enter as a moderator; their registration, if any)."""
    own = registration.own_registration(db_session, majlis_session.id, user.id)
    decided = standing(user.role, own.status if own is not None else None)
    if decided is not None:
        return decided, own
    state = invitation_state(db_session, majlis_session, user)
    if state is not None and state != InvitationResponse.DECLINED:
        return False, own
    return None, own


def check_window(majlis_session, settings: JitsiSettings, now: datetime) -> None:
    """Conflict unless the room is open: anything with the session's `status`, `starts_at` and `ends_at`."""
    if majlis_session.status == SessionStatus.CANCELLED:
        raise Conflict(_l("This session is cancelled."), code="session_cancelled")
    if now < majlis_session.starts_at - settings.early_join:
        raise Conflict(_l("The room opens 15 minutes before the session starts."), code="not_open_yet")
    if now >= majlis_session.ends_at + settings.grace:
        raise Conflict(_l("This session has ended."), code="session_ended")


@dataclass(frozen=True)
class _Entry:
    moderator: bool | None
    refusal: MajlisError | None
    registration: object = None  # the user's own registration, if any


def _entry(db_session: Session, majlis_session: MajlisSession, user: User | None, settings: JitsiSettings,
           now: datetime) -> _Entry:
    """Whether the user enters as a moderator, and why they may not enter now: the rule of `join` and `offer`."""
    if user is None:
        return _Entry(None, Unauthorized(_l("Sign in to enter the video room."), code="sign_in"))
    moderator, own = entitlement(db_session, majlis_session, user)
    if moderator is None:
        return _Entry(None, Forbidden(_l("Only confirmed registrants and invitees can enter this session's room."),
                                      code="not_registered"), own)
    try:
        check_window(majlis_session, settings, now)
    except Conflict as exc:
        return _Entry(moderator, exc, own)
    return _Entry(moderator, None, own)


def join_refusal(db_session: Session, majlis_session: MajlisSession, user: User | None, *,
                 settings: JitsiSettings, now: datetime) -> MajlisError | None:
    """Why the user may not enter the session's room now, or None (the server's Jitsi settings aside)."""
    return _entry(db_session, majlis_session, user, settings, now).refusal


def join(db_session: Session, majlis_session: MajlisSession, user: User, *, settings: JitsiSettings,
         now: datetime) -> RoomToken:
    """Sign a room token for an entitled user during the join window, and record a confirmed registrant's first
    join (the one write, short and by itself; joins again never take the write lock)."""
    from majlis.db import unit_of_work

    entry = _entry(db_session, majlis_session, user, settings, now)
    if entry.refusal is not None:
        raise entry.refusal
    if settings.profile is None:
        raise NotConfigured()
    token = issue(settings, Participant(id=user.id, name=user.name, email=user.email, moderator=entry.moderator),
                  room=majlis_session.room_name, starts_at=majlis_session.starts_at, ends_at=majlis_session.ends_at,
                  now=now)
    own = entry.registration
    if own is not None and own.status == RegistrationStatus.CONFIRMED and own.attended_at is None:
        registration_id = own.id  # read now: the unit of work expires what was read before it
        with unit_of_work(db_session):
            registration.mark_attended(db_session, registration_id, now=now)
    return token
