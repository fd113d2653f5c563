"""Editing a series from a day forward: splits keep what they should, and the past is never rewritten."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from majlis.db import unit_of_work
from majlis.enums import Visibility
from majlis.errors import InvalidInput
from majlis.sessions import services
from majlis.sessions.models import MajlisSession

BAHRAIN = ZoneInfo("Asia/Bahrain")
NOW = datetime(2027, 1, 3, 9, 0, tzinfo=UTC)
HORIZON = timedelta(weeks=30)


@pytest.fixture
def weekly(app, db):
    with app.app_context(), unit_of_work(db):
        return services.create_series(db, {
            "kind": "weekly", "title_ar": "المجلس", "title_en": "Majlis", "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "first_start": "2027-01-05T19:00", "duration_minutes": 90, "capacity": 50}, actor=None, zone=BAHRAIN,
            now=NOW, horizon=HORIZON)


def rows_of(db, series_id):
    db.expire_all()
    return db.scalars(select(MajlisSession).where(MajlisSession.series_id == series_id)
                      .order_by(MajlisSession.starts_at)).all()


def test_split_keeps_the_end_date(app, db, weekly):
    with app.app_context(), unit_of_work(db):
        services.end_series(db, weekly, last_day=date(2027, 3, 31), actor=None, now=NOW)
        new = services.edit_series_from(db, weekly, {"rrule": "FREQ=WEEKLY;BYDAY=WE"}, from_day=date(2027, 2, 1),
                                        actor=None, now=NOW, horizon=HORIZON)
    assert new.ends_on == date(2027, 3, 31)
    assert max(r.starts_at for r in rows_of(db, new.id)).astimezone(BAHRAIN).date() <= date(2027, 3, 31)


def test_kept_occurrences_take_every_new_value(app, db, weekly):
    with app.app_context(), unit_of_work(db):
        new = services.edit_series_from(
            db, weekly, {"rrule": "FREQ=WEEKLY;BYDAY=TU,WE", "visibility": "invited", "description_ar": "جديد",
                         "registration_closes_minutes": 30},
            from_day=date(2027, 2, 1), actor=None, now=NOW, horizon=HORIZON)
    later = rows_of(db, new.id)
    assert {r.visibility for r in later} == {Visibility.INVITED}
    assert {r.description_ar for r in later} == {"جديد"}
    assert all(r.starts_at - r.registration_closes_at == timedelta(minutes=30) for r in later)
    assert {r.visibility for r in rows_of(db, weekly.id)} == {Visibility.PUBLIC}  # January stays as it was


def test_a_new_start_dated_before_the_day_keeps_its_time(app, db, weekly):
    with app.app_context(), unit_of_work(db):
        new = services.edit_series_from(db, weekly, {"first_start": "2027-01-05T20:00"}, from_day=date(2027, 2, 1),
                                        actor=None, now=NOW, horizon=HORIZON)
    assert {r.starts_at.astimezone(BAHRAIN).hour for r in rows_of(db, new.id)} == {20}


def test_the_past_is_never_edited(app, db, weekly):
    with app.app_context(), pytest.raises(InvalidInput) as caught:
        services.edit_series_from(db, weekly, {"capacity": 5}, from_day=date(2027, 1, 1), actor=None, now=NOW)
    assert caught.value.field == "from_day"
    with app.app_context(), pytest.raises(InvalidInput) as caught:
        services.end_series(db, weekly, last_day=date(2026, 12, 1), actor=None, now=NOW)
    assert caught.value.field == "last_day"
