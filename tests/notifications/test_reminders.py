"""Reminders: the times each series sets (a day and an hour before by default), a resident's own lead, and only the
reminders still ahead when the seat became the resident's (issue 21, defect 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.notifications import preferences
from majlis.notifications.models import OutboxMessage
from majlis.registration import notices
from majlis.registration import services as registration
from majlis.sessions import services as sessions
from majlis.sessions.models import MajlisSession, Series
from tests import factories
from tests.conftest import form_post
from tests.mailbox import Recorder, deliver

START = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 19:00 in Bahrain
ZONE = ZoneInfo("Asia/Bahrain")


@pytest.fixture
def soon(db):
    """A one-off session at START, open for registration until it begins."""
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=START, registration_opens_at=START - timedelta(days=7),
                                        registration_closes_at=START)


def register(db, session_id, user, at):
    with unit_of_work(db):
        registration.register(db, session_id, db.get(User, user.id), now=at)


def run_scheduler(db, *, every: timedelta, start: datetime, end: datetime) -> None:
    """The reminder job as the scheduler runs it, every so often over a stretch of time."""
    at = start
    while at <= end:
        with unit_of_work(db):
            notices.send_reminders(db, now=at)
        at += every


def leads(db, user=None) -> list[int]:
    db.expire_all()
    query = select(OutboxMessage.params).where(OutboxMessage.kind == "reminder").order_by(OutboxMessage.id)
    if user is not None:
        query = query.where(OutboxMessage.user_id == user.id)
    return [params["lead_minutes"] for params in db.scalars(query)]


def test_registering_half_an_hour_before_brings_no_reminder_that_has_passed(db, soon, make_user):
    late = make_user()
    register(db, soon.id, late, START - timedelta(minutes=30))
    run_scheduler(db, every=timedelta(minutes=1), start=START - timedelta(minutes=30), end=START)
    assert leads(db) == []


def test_registering_ninety_minutes_before_brings_only_the_hour_reminder_at_its_time(db, soon, make_user):
    resident = make_user()
    register(db, soon.id, resident, START - timedelta(minutes=90))
    minute = timedelta(minutes=1)
    run_scheduler(db, every=minute, start=START - timedelta(minutes=90), end=START - timedelta(minutes=61))
    assert leads(db) == []
    run_scheduler(db, every=minute, start=START - timedelta(minutes=60), end=START)
    assert leads(db) == [60]


def test_registered_days_ahead_a_resident_gets_each_reminder_once(db, soon, make_user):
    resident = make_user()
    register(db, soon.id, resident, START - timedelta(days=3))
    run_scheduler(db, every=timedelta(minutes=10), start=START - timedelta(days=2), end=START)
    assert leads(db) == [24 * 60, 60]


def test_after_downtime_only_the_nearest_reminder_due_goes(db, soon, make_user):
    resident = make_user()
    register(db, soon.id, resident, START - timedelta(days=3))
    run_scheduler(db, every=timedelta(minutes=1), start=START - timedelta(minutes=40),
                  end=START - timedelta(minutes=38))
    assert leads(db) == [60]  # the day-before reminder was missed while the scheduler was down: not sent late


def test_a_resident_adds_a_reminder_of_their_own(db, soon, make_user):
    resident, other = make_user(), make_user()
    with unit_of_work(db):
        preferences.set_own_reminder(db, db.get(User, resident.id), 180, now=START - timedelta(days=5))
    for user in (resident, other):
        register(db, soon.id, user, START - timedelta(days=3))
    run_scheduler(db, every=timedelta(minutes=10), start=START - timedelta(days=2), end=START)
    assert leads(db, resident) == [24 * 60, 180, 60] and leads(db, other) == [24 * 60, 60]


def test_reminder_times_are_set_per_series(app, db, make_user):
    staff = make_user(role=Role.STAFF)
    resident, quiet = make_user(), make_user()
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with app.app_context(), unit_of_work(db):
        base = {"kind": "weekly", "title_ar": "المجلس", "title_en": "Majlis", "rrule": "FREQ=WEEKLY;COUNT=1",
                "duration_minutes": 60, "capacity": 10, "registration_opens_days": 7}
        three_hours = sessions.create_series(db, {**base, "first_start": "2026-12-03T19:00",
                                                  "reminder_minutes": [180]}, actor=staff, zone=ZONE, now=first)
        none = sessions.create_series(db, {**base, "first_start": "2026-12-04T19:00", "reminder_minutes": []},
                                      actor=staff, zone=ZONE, now=first)
    rows = {series: db.scalar(select(MajlisSession).where(MajlisSession.series_id == series))
            for series in (three_hours.id, none.id)}
    register(db, rows[three_hours.id].id, resident, first)
    register(db, rows[none.id].id, quiet, first)
    run_scheduler(db, every=timedelta(minutes=15), start=first, end=datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
    assert leads(db, resident) == [180] and leads(db, quiet) == []


def test_the_reminder_says_how_long_before_with_the_date_in_both_calendars(app, db, soon, make_user):
    resident = make_user(locale="en")
    register(db, soon.id, resident, START - timedelta(days=3))
    run_scheduler(db, every=timedelta(hours=1), start=START - timedelta(hours=23), end=START - timedelta(hours=23))
    recorder = Recorder()
    assert deliver(app, db, now=START - timedelta(hours=23), senders={"email": recorder}) == 2  # and the seat's
    [message] = [message for _, message in recorder.sent if message.subject.startswith("Reminder")]
    assert message.subject == "Reminder: your majlis session starts in 24 hours — Weekly majlis"
    assert ("Date: Thursday, December 3, 2026 (23 Jumada al-Akhirah 1448 AH)\n"
            "Time: 7:00\u202fPM – 8:30\u202fPM (Bahrain Time)\n") in message.text
    assert f"Join the video room: http://127.0.0.1:5000/sessions/{soon.id}/join\n" in message.text


def test_staff_set_reminders_on_the_series_form_and_the_api(client, db, make_user, login_as, api_token):
    staff = make_user(role=Role.STAFF)
    login_as(staff)
    form = {"kind": "weekly", "title_ar": "مجلس الأحياء", "title_en": "Neighbourhood majlis", "rrule": "FREQ=WEEKLY",
            "first_start": "2030-01-07T19:00", "duration_minutes": "90", "capacity": "40",
            "registration_opens_days": "7", "registration_closes_minutes": "60", "visibility": "public",
            "reminder_minutes": "24h, 2h, 30m"}
    response = form_post(client, "/staff/series/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    series = db.scalar(select(Series).where(Series.title_en == "Neighbourhood majlis"))
    assert series.reminder_minutes == [1440, 120, 30]
    page = client.get(f"/staff/series/{series.id}").get_data(as_text=True)
    assert 'value="24h, 2h, 30m"' in page
    bad = form_post(client, "/staff/series/new", {**form, "reminder_minutes": "tomorrow"}, page="/staff/series/new")
    assert bad.status_code == 400
    created = client.post("/api/v1/series", headers=api_token(staff), json={
        "kind": "weekly", "title_ar": "مجلس", "title_en": "API majlis", "rrule": "FREQ=WEEKLY",
        "first_start": "2030-01-08T19:00", "duration_minutes": 60, "capacity": 20, "reminder_minutes": [60, 1440]})
    assert created.status_code == 201 and created.get_json()["reminder_minutes"] == [1440, 60]
    listed = client.get("/api/v1/series", headers=api_token(staff)).get_json()["series"]
    assert {s["title_en"]: s["reminder_minutes"] for s in listed}["Neighbourhood majlis"] == [1440, 120, 30]
    refused = client.post("/api/v1/series", headers=api_token(staff), json={
        "kind": "weekly", "title_ar": "مجلس", "title_en": "Bad", "rrule": "FREQ=WEEKLY",
        "first_start": "2030-01-08T19:00", "duration_minutes": 60, "capacity": 20, "reminder_minutes": [1]})
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "reminder_minutes"
