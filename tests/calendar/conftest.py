"""A year of planned sessions, built through the services: moved, cancelled, split and one-off."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from majlis.db import unit_of_work
from majlis.sessions import services
from majlis.sessions.models import MajlisSession, Series

BAHRAIN = ZoneInfo("Asia/Bahrain")
NOW = datetime(2027, 1, 3, 9, 0, tzinfo=UTC)  # a Sunday
HORIZON = timedelta(weeks=60)

TITLE_AR = "المجلس الأسبوعي، لمحافظ العاصمة; مفتوح, للجميع"
DESCRIPTION_AR = "لقاء مفتوح مع الأهالي.\nسطر ثانٍ: الجهات; الحكومية, والأهالي"


@dataclass
class Plan:
    weekly: Series
    weekly_after_split: Series
    coordinating: Series
    moved: MajlisSession
    cancelled: MajlisSession
    one_off: MajlisSession
    cancelled_one_off: MajlisSession


def _series(db, **changes):
    data = {"kind": "weekly", "title_ar": TITLE_AR, "title_en": "Weekly majlis, open; to all",
            "description_ar": DESCRIPTION_AR, "description_en": "Open meeting", "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "first_start": "2027-01-05T19:00", "duration_minutes": 90, "capacity": 100, "visibility": "public"}
    data.update(changes)
    return services.create_series(db, data, actor=None, zone=BAHRAIN, now=NOW, horizon=HORIZON)


def _occurrence(db, series, local_day: str) -> MajlisSession:
    from sqlalchemy import select

    rows = db.scalars(select(MajlisSession).where(MajlisSession.series_id == series.id)).all()
    return next(r for r in rows if r.original_starts_at.astimezone(BAHRAIN).date().isoformat() == local_day)


@pytest.fixture
def plan(app, db) -> Plan:
    app.config["MAJLIS_HORIZON_WEEKS"] = 60
    with app.app_context(), unit_of_work(db):
        weekly = _series(db)
        moved = _occurrence(db, weekly, "2027-01-26")
        services.update_session(db, moved, {"starts_at": "2027-01-27T18:00"}, actor=None, zone=BAHRAIN, now=NOW)
        cancelled = _occurrence(db, weekly, "2027-02-09")
        services.cancel_session(db, cancelled, reason="عطلة رسمية، تأجيل; للأسبوع القادم", actor=None, now=NOW)
        # From June the weekly majlis moves to Wednesdays at 20:00: the series splits.
        after_split = services.edit_series_from(
            db, weekly, {"rrule": "FREQ=WEEKLY;BYDAY=WE", "first_start": "2027-06-01T20:00"},
            from_day=datetime(2027, 6, 1).date(), actor=None, now=NOW, horizon=HORIZON)
        coordinating = _series(db, kind="coordinating", title_ar="المجلس التنسيقي", title_en="Coordinating majlis",
                               rrule="FREQ=MONTHLY;BYDAY=1WE", first_start="2027-01-06T10:00",
                               duration_minutes=120, visibility="invited")
        one_off = services.create_one_off(db, {"title_ar": "مجلس خاص", "title_en": "Special majlis",
                                               "starts_at": "2027-03-15T17:30", "duration_minutes": 60,
                                               "capacity": 30}, actor=None, zone=BAHRAIN, now=NOW)
        cancelled_one_off = services.create_one_off(db, {"title_ar": "مجلس ملغى", "title_en": "Cancelled majlis",
                                                         "starts_at": "2027-04-15T17:30", "duration_minutes": 60,
                                                         "capacity": 30}, actor=None, zone=BAHRAIN, now=NOW)
        services.cancel_session(db, cancelled_one_off, reason="ظرف طارئ", actor=None, now=NOW)
    return Plan(weekly, after_split, coordinating, moved, cancelled, one_off, cancelled_one_off)
