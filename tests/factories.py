"""Factories for test data: `user(db, role=..., **overrides)` style."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from majlis.auth.models import User
from majlis.directory.models import Area, GovernmentBody
from majlis.enums import Role, SeriesKind, Visibility
from majlis.security import hash_password, new_token
from majlis.sessions.models import MajlisSession
from majlis.sessions.services import new_room_name

PASSWORD = "Majlis-test-pass-7"
_counter = itertools.count(1)


def body(db_session, **overrides) -> GovernmentBody:
    n = next(_counter)
    now = datetime.now(UTC)
    values = {"code": f"body{n}", "name_ar": f"جهة {n}", "name_en": f"Body {n}", "sla_days": 30,
              "created_at": now, "updated_at": now}
    values.update(overrides)
    row = GovernmentBody(**values)
    db_session.add(row)
    db_session.flush()
    return row


def area(db_session, **overrides) -> Area:
    n = next(_counter)
    values = {"code": f"area{n}", "name_ar": f"منطقة {n}", "name_en": f"Area {n}"}
    values.update(overrides)
    row = Area(**values)
    db_session.add(row)
    db_session.flush()
    return row


def user(db_session, role: Role = Role.RESIDENT, password: str = PASSWORD, **overrides) -> User:
    n = next(_counter)
    now = datetime.now(UTC)
    values = {
        "email": f"user{n}@example.com",
        "name": f"مستخدم {n}",
        "role": Role(role),
        "password_hash": hash_password(password, fast=True),
        "is_verified": True,
        "session_token": new_token(),
        "created_at": now,
        "updated_at": now,
    }
    if Role(role) == Role.OFFICIAL and "body" not in overrides and "body_id" not in overrides:
        values["body"] = body(db_session)
    values.update(overrides)
    row = User(**values)
    db_session.add(row)
    db_session.flush()
    return row


def majlis_session(db_session, *, starts_at: datetime | None = None, **overrides) -> MajlisSession:
    now = datetime.now(UTC)
    starts_at = starts_at or now + timedelta(days=2)
    values = {
        "kind": SeriesKind.WEEKLY,
        "title_ar": "المجلس الأسبوعي",
        "title_en": "Weekly majlis",
        "visibility": Visibility.PUBLIC,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=90),
        "capacity": 50,
        "registration_opens_at": starts_at - timedelta(days=7),
        "registration_closes_at": starts_at - timedelta(hours=1),
        "room_name": new_room_name(),
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    row = MajlisSession(**values)
    db_session.add(row)
    db_session.flush()
    return row
