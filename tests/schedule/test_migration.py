"""Migration 0012: series made before it are online; in-person series (no online seats) fit after."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from majlis import migrations

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SERIES_COLUMNS = ("kind, title_ar, title_en, description_ar, description_en, rrule, timezone, first_start_local, "
                  "duration_minutes, capacity, registration_opens_days, registration_closes_minutes, visibility, "
                  "sequence, created_at, updated_at")


def test_series_before_the_migration_are_online_and_in_person_series_fit_after(empty_database):
    engine = empty_database
    at = NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW
    values = {"at": at, "first": datetime(2027, 1, 5, 19, 0)}  # the rule's local wall time
    insert = f"INSERT INTO series (id, {SERIES_COLUMNS}"  # noqa: S608 - constant text
    migrations.upgrade(engine, "0011")
    with engine.begin() as connection:
        connection.execute(text(f"{insert}) VALUES (1, 'weekly', 'م', 'M', '', '', 'FREQ=WEEKLY;BYDAY=TU', "
                                "'Asia/Bahrain', :first, 90, 100, 7, 60, 'public', 0, :at, :at)"), values)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        before = connection.execute(text("SELECT format, capacity, in_person_capacity, place_name_ar, place_area_id, "
                                         "latitude, longitude FROM series WHERE id = 1")).one()
        assert tuple(before) == ("online", 100, 0, None, None, None, None)
        # A field visit in person: hall seats, a place, no online seats (capacity 0).
        connection.execute(text(f"{insert}, format, in_person_capacity, place_name_ar, place_name_en, latitude, "
                                "longitude) VALUES (2, 'field_visit', 'ز', 'V', '', '', 'FREQ=MONTHLY;BYDAY=1SU', "
                                "'Asia/Bahrain', :first, 120, 0, 7, 60, 'public', 0, :at, :at, 'in_person', 30, "
                                "'قاعة', 'Hall', 26.2, 50.6)"), values)
    for bad in ("UPDATE series SET latitude = 91 WHERE id = 2",
                "UPDATE series SET longitude = -181 WHERE id = 2",
                "UPDATE series SET format = 'by_pigeon' WHERE id = 2",
                "UPDATE series SET in_person_capacity = -1 WHERE id = 2",
                "UPDATE series SET capacity = -1 WHERE id = 1",
                "UPDATE series SET place_area_id = 999 WHERE id = 2"):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(bad))
