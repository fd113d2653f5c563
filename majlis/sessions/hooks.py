"""What a session's change means to the capabilities built on sessions, which register their part here.

Registration and questions depend on sessions, not the reverse: sessions/services.py calls these hooks, and the app
factory (`_connect_capabilities` in majlis/__init__.py) registers each capability's function under its name, so the
scheduler and the CLI, which build the app too, always have them. Registering a name again replaces the earlier entry
(tests build many apps).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from majlis.auth.models import User
from majlis.sessions.models import MajlisSession

# (db_session, majlis_session, *, now, moved, relocated) -> None: staff moved the session to a new time (`moved`),
# to a new place or format (`relocated`), both in one edit, or cancelled it; tell its people.
Changed = Callable[..., object]
# (db_session, majlis_session, *, now) -> None: the session may have more seats; move the line up.
SeatsAdded = Callable[..., object]
# (db_session, occurrence) -> None: a series produced this occurrence; carry over what the series' last one had.
OccurrenceCreated = Callable[[Session, MajlisSession], object]
# (db_session, majlis_session) -> bool: whether residents used the session (then it is cancelled, never deleted).
InUse = Callable[[Session, MajlisSession], bool]

_changed: dict[str, Changed] = {}
_seats_added: dict[str, SeatsAdded] = {}
_occurrence_created: dict[str, OccurrenceCreated] = {}
# (db_session, majlis_session, user) -> bool: whether the user may see a session their role does not show them.
SightGrant = Callable[[Session, MajlisSession, User], bool]

_in_use: dict[str, InUse] = {}
_sight_grants: dict[str, SightGrant] = {}


def on_session_changed(name: str, hook: Changed) -> None:
    """Register (or replace) what to do when staff move, relocate or cancel a session."""
    _changed[name] = hook


def on_seats_added(name: str, hook: SeatsAdded) -> None:
    """Register (or replace) what to do when a session may have gained seats."""
    _seats_added[name] = hook


def on_occurrence_created(name: str, hook: OccurrenceCreated) -> None:
    """Register (or replace) what to do with each occurrence a series produces, in order."""
    _occurrence_created[name] = hook


def in_use_check(name: str, check: InUse) -> None:
    """Register (or replace) a check of whether residents used a session."""
    _in_use[name] = check


def sight_grant(name: str, grant: SightGrant) -> None:
    """Register (or replace) a way a user may see a session their role does not show them (an invitation)."""
    _sight_grants[name] = grant


def session_changed(db_session: Session, majlis_session: MajlisSession, *, now: datetime, moved: bool = False,
                    relocated: bool = False) -> None:
    """Run every hook for a session staff cancelled, or changed in one edit: to a new time (`moved`), a new place or
    format (`relocated`), or both."""
    for hook in _changed.values():
        hook(db_session, majlis_session, now=now, moved=moved, relocated=relocated)


def seats_added(db_session: Session, majlis_session: MajlisSession, *, now: datetime) -> None:
    """Run every hook for a session that may have gained seats."""
    for hook in _seats_added.values():
        hook(db_session, majlis_session, now=now)


def occurrence_created(db_session: Session, occurrence: MajlisSession) -> None:
    """Run every hook for an occurrence a series produced."""
    for hook in _occurrence_created.values():
        hook(db_session, occurrence)


def in_use(db_session: Session, majlis_session: MajlisSession) -> bool:
    """Whether any registered check finds that residents used the session (every check runs, in order)."""
    return any([check(db_session, majlis_session) for check in _in_use.values()])


def sight_granted(db_session: Session, majlis_session: MajlisSession, user: User) -> bool:
    """Whether a registered grant lets the user see the session (checked in order, up to the first that does)."""
    return any(grant(db_session, majlis_session, user) for grant in _sight_grants.values())
