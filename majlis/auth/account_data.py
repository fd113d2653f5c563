"""The resident's data across capabilities: each capability exports and erases its own part.

Auth owns the account but not the registrations, questions or cases hanging off it, so it does not read other
capabilities' models. Each capability offers an ``export_account_data(db_session, user) -> dict`` and an
``erase_account_data(db_session, user, *, now)`` in its services module; the app factory registers them here, in the
order their keys appear in the download. Registering a name again replaces the earlier entry (tests build many apps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from majlis.auth.models import User

Exporter = Callable[[Session, User], dict]
Eraser = Callable[..., None]


@dataclass(frozen=True)
class Part:
    """One capability's share of a resident's data."""

    name: str
    export: Exporter | None
    erase: Eraser | None


_parts: dict[str, Part] = {}


def register(name: str, *, export: Exporter | None = None, erase: Eraser | None = None) -> None:
    """Register (or replace) a capability's exporter and eraser under its name."""
    _parts[name] = Part(name, export, erase)


def parts() -> list[Part]:
    """Return the registered parts in registration order."""
    return list(_parts.values())


def export_all(db_session: Session, user: User) -> dict:
    """Collect every capability's export for the user, in registration order."""
    data: dict = {}
    for part in _parts.values():
        if part.export is not None:
            data.update(part.export(db_session, user))
    return data


def erase_all(db_session: Session, user: User, *, now: datetime) -> None:
    """Run every capability's eraser for the user, in registration order."""
    for part in _parts.values():
        if part.erase is not None:
            part.erase(db_session, user, now=now)
