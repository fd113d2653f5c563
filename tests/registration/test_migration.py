"""Migration 0009: sessions and registrations made before it stay online; field visits and hall seats fit after."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from majlis import migrations

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_sessions_before_the_migration_are_online_and_field_visits_fit_after(empty_database):
    engine = empty_database
    at = NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW
    session_columns = ("kind, title_ar, title_en, description_ar, description_en, visibility, starts_at, ends_at, "
                       "status, capacity, confirmed_count, waitlist_count, registration_opens_at, "
                       "registration_closes_at, room_name, sequence, live_version, public_viewing, created_at, "
                       "updated_at")
    migrations.upgrade(engine, "0008")
    with engine.begin() as connection:
        run = lambda sql, **values: connection.execute(text(sql), {"at": at, **values})  # noqa: E731
        run("INSERT INTO users (id, email, name, password_hash, role, is_verified, is_disabled, session_token, "
            "created_at, updated_at) VALUES (1, 'u1@example.com', 'x', 'x', 'resident', true, false, 't1', :at, "
            ":at)")
        run(f"INSERT INTO majlis_sessions (id, {session_columns}) VALUES"  # noqa: S608 - constant text
            " (1, 'weekly', 'م', 'M', '', '', "
            "'public', :at, :end, 'scheduled', 10, 1, 0, :at, :at, 'room-1', 0, 0, false, :at, :at)",
            end=at + timedelta(hours=1))
        run("INSERT INTO registrations (id, session_id, user_id, status, queued_at, created_at, updated_at) "
            "VALUES (1, 1, 1, 'confirmed', :at, :at, :at)")
    migrations.upgrade(engine)
    with engine.begin() as connection:
        run = lambda sql, **values: connection.execute(text(sql), {"at": at, **values})  # noqa: E731
        before = run("SELECT s.format, s.in_person_capacity, s.in_person_confirmed_count, r.mode, "
                     "r.check_in_code, r.checked_in_at FROM majlis_sessions s JOIN registrations r "
                     "ON r.session_id = s.id").one()
        assert tuple(before) == ("online", 0, 0, "online", None, None)
        # The new kind and format are accepted by the rebuilt constraints; an in-person session has no online
        # seats (capacity 0).
        run(f"INSERT INTO majlis_sessions (id, {session_columns}, format,"  # noqa: S608 - constant text
            " in_person_capacity, place_name_ar, "
            "place_name_en, latitude, longitude) VALUES (2, 'field_visit', 'ز', 'V', '', '', 'public', :at, "
            ":end, 'scheduled', 0, 0, 0, :at, :at, 'room-2', 0, 0, false, :at, :at, 'in_person', 30, 'قاعة', "
            "'Hall', 26.2, 50.6)", end=at + timedelta(hours=1))
        run("INSERT INTO registrations (id, session_id, user_id, status, queued_at, created_at, updated_at, "
            "mode, check_in_code) VALUES (2, 2, 1, 'confirmed', :at, :at, :at, 'in_person', 'ACD347')")
        kinds = run("SELECT count(*) FROM majlis_sessions WHERE kind = 'field_visit'").scalar()
    assert kinds == 1
    for bad in ("UPDATE majlis_sessions SET latitude = 91 WHERE id = 2",
                "UPDATE majlis_sessions SET format = 'by_pigeon' WHERE id = 2",
                "UPDATE registrations SET mode = 'telepathy' WHERE id = 2",
                "UPDATE majlis_sessions SET in_person_confirmed_count = -1 WHERE id = 2"):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(bad))
