"""The outbox: notices written as kind and parameters, rendered and delivered by the scheduler, each once."""

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import event, select

from majlis import create_app
from majlis.auth.models import User
from majlis.db import Base, get_database, make_engine, unit_of_work
from majlis.enums import OutboxStatus, RegistrationStatus
from majlis.notifications import services as outbox
from majlis.notifications.models import OutboxMessage
from majlis.notifications.preferences import stop_token
from majlis.registration import notices
from majlis.registration import services as registration
from majlis.registration.models import Registration
from majlis.sessions.models import MajlisSession
from tests import factories
from tests.mailbox import Down, Recorder, deliver, free_port, smtp_server, text_of, use_smtp

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def majlis_session(db):
    """A session with one seat, two days after NOW, open for registration."""
    with unit_of_work(db):
        return factories.majlis_session(db, starts_at=NOW + timedelta(days=2), capacity=1,
                                        registration_opens_at=NOW - timedelta(days=1))


def register(app, db, majlis_session, user):
    with app.app_context(), unit_of_work(db):
        return registration.register(db, majlis_session.id, db.get(User, user.id), now=NOW)


def rows(db):
    db.rollback()  # a fresh snapshot (SQLite keeps a read transaction's), and objects read again
    db.expire_all()
    return db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def code_notices(db, user, codes):
    """Verification-code notices for an unverified user: their text is just the code, easy to follow in order."""
    with unit_of_work(db):
        for code in codes:
            outbox.enqueue(db, kind="email_verification", user=db.get(User, user.id), params={"code": code},
                           now=NOW)


def test_a_registration_writes_one_small_row_and_renders_nothing(app, db, majlis_session, make_user, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("rendered while registering")

    # Building the .ics or the text under the session's lock is what this design removes.
    monkeypatch.setattr("majlis.calendar.services.session_feed", never)
    monkeypatch.setattr("majlis.notifications.rendering.renderer_for", never)
    first, second = make_user(), make_user()
    statements = []
    engine = get_database(app).engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        register(app, db, majlis_session, first)
        register(app, db, majlis_session, second)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [s for s in statements if "outbox" in s] == [s for s in statements if s.startswith("INSERT INTO outbox")]
    assert len([s for s in statements if "outbox" in s]) == 2  # one insert per registration, nothing read
    confirmed, waitlisted = rows(db)
    assert (confirmed.kind, confirmed.params, confirmed.user_id) == (
        "registration_confirmed", {"session_id": majlis_session.id}, first.id)
    assert (waitlisted.kind, waitlisted.params, waitlisted.user_id) == (
        "registration_waitlisted", {"session_id": majlis_session.id, "position": 1}, second.id)
    for row in (confirmed, waitlisted):
        assert row.channel == "email" and row.status == OutboxStatus.PENDING and row.created_at == NOW
        assert (row.to_address, row.subject, row.body_text, row.ics) == (None, None, None, None)


def test_delivery_renders_in_the_recipients_language_with_the_ics(app, db, majlis_session, make_user):
    english, arabic = make_user(email="sara@example.com", locale="en"), make_user(email="ali@example.com")
    register(app, db, majlis_session, english)
    register(app, db, majlis_session, arabic)
    with smtp_server() as (port, inbox):
        use_smtp(app, port)
        assert deliver(app, db, now=NOW) == 2
    [to_sara], [to_ali] = inbox.to("sara@example.com"), inbox.to("ali@example.com")
    assert to_sara["Subject"] == "Your seat is confirmed — Weekly majlis"
    stop = f"http://127.0.0.1:5000/stop/{stop_token(app.config['SECRET_KEY'], english.id, 'registration_confirmed')}"
    page = f"http://127.0.0.1:5000/sessions/{majlis_session.id}"
    assert text_of(to_sara) == (  # the date in both calendars, the time, the join link, the link that stops these
        "Your seat in the majlis is confirmed. The join link opens 15 minutes before the start.\n\n"
        "Weekly majlis\nDate: Thursday, December 3, 2026 (23 Jumada al-Akhirah 1448 AH)\n"
        "Time: 12:00\u202fPM – 1:30\u202fPM (Bahrain Time)\n"
        f"Join the video room: {page}/join\nThe session's page: {page}\n\n-- \n"
        f"To stop messages of this kind: {stop}\n")
    assert (to_sara["List-Unsubscribe"], to_sara["List-Unsubscribe-Post"]) == (f"<{stop}>",
                                                                              "List-Unsubscribe=One-Click")
    assert to_ali["Subject"] == "أنت في قائمة الانتظار — المجلس الأسبوعي"
    assert " 1 " in text_of(to_ali) and "هـ)" in text_of(to_ali)  # number 1 in line; the Hijri date
    for message, title in ((to_sara, "Weekly majlis"), (to_ali, "المجلس الأسبوعي")):
        attachment = next(part for part in message.walk() if part.get_content_type() == "text/calendar")
        calendar = Calendar.from_ical(attachment.get_payload(decode=True))
        [session_event] = calendar.walk("VEVENT")
        assert session_event.DTSTART.astimezone(UTC) == majlis_session.starts_at
        assert str(calendar["X-WR-CALNAME"]) == title
    sent = rows(db)
    assert [row.status for row in sent] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert sent[0].subject == "Your seat is confirmed — Weekly majlis" and sent[0].sent_at == NOW
    assert sent[0].ics is None  # the record keeps the text; the .ics is the session's, built again on demand


def test_rendering_reads_the_session_as_it_is_at_delivery(app, db, majlis_session, make_user):
    resident = make_user(locale="en")
    register(app, db, majlis_session, resident)
    with unit_of_work(db):
        db.get(MajlisSession, majlis_session.id).title_en = "Weekly majlis (new hall)"
    recorder = Recorder()
    deliver(app, db, now=NOW, senders={"email": recorder})
    [(_, message)] = recorder.sent
    assert message.subject == "Your seat is confirmed — Weekly majlis (new hall)"


def test_a_reminder_is_skipped_when_its_registration_or_time_changed(app, db, majlis_session, make_user):
    kept, withdrawn = make_user(), make_user()
    with unit_of_work(db):
        majlis_session = db.get(MajlisSession, majlis_session.id)
        majlis_session.capacity = 2
    register(app, db, majlis_session, kept)
    register(app, db, majlis_session, withdrawn)
    before = majlis_session.starts_at - timedelta(hours=20)
    with app.app_context(), unit_of_work(db):
        assert notices.send_reminders(db, now=before) == 2
        db.scalar(select(Registration).where(Registration.user_id == withdrawn.id)).status = \
            RegistrationStatus.CANCELLED
    recorder = Recorder()
    deliver(app, db, now=before, senders={"email": recorder})
    reminders = {row.user_id: row for row in rows(db) if row.kind == "reminder"}
    assert {row.params["lead_minutes"] for row in reminders.values()} == {24 * 60}
    assert reminders[kept.id].status == OutboxStatus.SENT
    assert reminders[kept.id].params["registration_id"] and reminders[kept.id].params["session_id"] == \
        majlis_session.id
    assert (reminders[withdrawn.id].status, reminders[withdrawn.id].last_error) == (
        OutboxStatus.SKIPPED, "the registration was withdrawn")

    with unit_of_work(db):  # a reminder queued for one time, and the session moves before it goes out
        moved = db.get(MajlisSession, majlis_session.id)
        outbox.enqueue(db, kind="reminder_1h", user=db.get(User, kept.id), now=NOW,
                       params={**reminders[kept.id].params, "starts_at": int(moved.starts_at.timestamp())})
        moved.starts_at += timedelta(hours=2)
        moved.ends_at += timedelta(hours=2)
    deliver(app, db, now=before, senders={"email": recorder})
    last = rows(db)[-1]
    assert (last.status, last.last_error) == (OutboxStatus.SKIPPED,
                                              "the session moved: a reminder for the new time follows")
    assert len(recorder.sent) == 3  # the two confirmations and one reminder


def test_notices_whose_subject_is_gone_are_skipped_with_a_reason_and_the_rest_go_out(app, db, make_user):
    resident, disabled, deleted = make_user(), make_user(is_disabled=True), make_user(is_verified=False)
    with unit_of_work(db):
        for user in (resident, disabled):
            outbox.enqueue(db, kind="registration_confirmed", user=user, params={"session_id": 999_999}, now=NOW)
        outbox.enqueue(db, kind="case_update", user=resident, params={"case_id": 999_999, "update_id": 1}, now=NOW)
        outbox.enqueue(db, kind="no_such_kind", user=resident, params={}, now=NOW)
        outbox.enqueue(db, kind="email_verification", user=deleted, params={"code": "123456"}, now=NOW)
        outbox.enqueue(db, kind="email_verification", user=resident, params={"code": "123456"}, now=NOW)
    with unit_of_work(db):
        db.delete(db.get(User, deleted.id))  # the outbox keeps the row, without its recipient
    recorder = Recorder()
    assert deliver(app, db, now=NOW, senders={"email": recorder}) == 0
    assert [(row.status, row.last_error) for row in rows(db)] == [
        (OutboxStatus.SKIPPED, "the session no longer exists"),
        (OutboxStatus.SKIPPED, "the recipient's account is disabled"),
        (OutboxStatus.SKIPPED, "the case no longer exists"),
        (OutboxStatus.FAILED, "no renderer for notices of kind 'no_such_kind'"),
        (OutboxStatus.SKIPPED, "the recipient's account no longer exists"),
        (OutboxStatus.SKIPPED, "the account is verified already"),
    ]
    assert recorder.sent == []


def test_smtp_down_for_an_hour_loses_nothing_and_keeps_each_users_order(app, db, make_user):
    first, second = make_user(is_verified=False, email="a@example.com"), make_user(is_verified=False,
                                                                                    email="b@example.com")
    code_notices(db, first, ["100001", "100002"])
    code_notices(db, second, ["200001"])
    code_notices(db, first, ["100003"])
    code_notices(db, second, ["200002", "200003"])
    port = free_port()
    use_smtp(app, port)  # nothing listens there yet
    for minute in range(61):  # the scheduler runs on, every minute, for an hour
        assert deliver(app, db, now=NOW + timedelta(minutes=minute)) == 0
    down = rows(db)
    assert {row.status for row in down} == {OutboxStatus.PENDING}
    assert sum(row.attempts for row in down) <= 61  # one try per run while the channel is down, not one per row
    assert max(row.attempts for row in down) < outbox.MAX_ATTEMPTS and down[0].last_error
    with smtp_server(port) as (_, inbox):  # back
        minute = 61
        while any(row.status == OutboxStatus.PENDING for row in rows(db)):
            deliver(app, db, now=NOW + timedelta(minutes=minute))
            minute += 1
            # Each row waits at most its longest retry delay: all out within the hour after the server is back.
            assert minute <= 61 + 60, "still not delivered an hour after the server came back"
    assert {row.status for row in rows(db)} == {OutboxStatus.SENT}
    for address, codes in (("a@example.com", ["100001", "100002", "100003"]),
                           ("b@example.com", ["200001", "200002", "200003"])):
        received = [text_of(message) for message in inbox.to(address)]
        assert len(received) == 3 and all(code in text for code, text in zip(codes, received, strict=True))


def test_a_failing_channel_does_not_hold_back_the_others(app, db, make_user, monkeypatch):
    monkeypatch.setattr("majlis.notifications.services.channels_for", lambda db, user, kind: ("email", "sms"))
    resident = make_user(is_verified=False, phone="+97333000000")
    code_notices(db, resident, ["111111", "222222"])
    with unit_of_work(db):  # a notice that exists once: once per channel
        outbox.enqueue(db, kind="email_verification", user=db.get(User, resident.id), params={"code": "333333"},
                       now=NOW, dedupe_key="once")
    assert [row.channel for row in rows(db)] == ["email", "sms"] * 3
    email, sms = Recorder(), Down()
    assert deliver(app, db, now=NOW, senders={"email": email, "sms": sms}) == 3
    assert sms.tries == 1  # the gateway failed once: not tried again in this run
    sms_rows = [row for row in rows(db) if row.channel == "sms"]
    assert [(row.status, row.attempts) for row in sms_rows] == [(OutboxStatus.PENDING, 1), (OutboxStatus.PENDING, 0),
                                                                (OutboxStatus.PENDING, 0)]
    assert sms_rows[0].send_after == NOW + outbox.retry_delay(1)
    # Half a minute on, the first waits for its retry and the user's later ones wait behind it, in order.
    assert deliver(app, db, now=NOW + timedelta(seconds=30), senders={"email": email, "sms": sms}) == 0
    assert sms.tries == 1
    assert deliver(app, db, now=NOW + timedelta(minutes=1), senders={"email": email, "sms": Recorder()}) == 3


class SlowRecorder(Recorder):
    def send(self, message, to):
        time.sleep(0.005)  # long enough for the other scheduler to reach the same rows
        super().send(message, to)


def test_two_deliveries_at_once_send_each_row_once(app, db, make_user):
    users = [make_user(is_verified=False) for _ in range(8)]
    for n, user in enumerate(users):
        code_notices(db, user, [f"{n}00001", f"{n}00002", f"{n}00003"])
    recorder, barrier, counts = SlowRecorder(), threading.Barrier(2), []

    def scheduler():
        db_session = get_database(app).session_factory()
        try:
            barrier.wait()
            with app.app_context():
                counts.append(outbox.deliver_pending(db_session, config=app.config, now=NOW,
                                                     channel_senders={"email": recorder}))
        finally:
            db_session.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = [message.text for _, message in recorder.sent]
    assert sorted(sent) == sorted(set(sent)) and sum(counts) == len(sent)
    deliver(app, db, now=NOW, senders={"email": recorder})  # whatever one user's order held back
    assert len(recorder.sent) == 24 and len({message.text for _, message in recorder.sent}) == 24
    for n, user in enumerate(users):  # and each user's in order
        codes = [message.text for to, message in recorder.sent if to == user.email]
        assert [f"{n}0000{i}" in text for i, text in enumerate(codes, start=1)] == [True] * 3


@pytest.fixture
def sqlite_app(tmp_path):
    """An app on a SQLite file whose writers give up after 100 ms instead of 15 s."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url)
    import majlis.models  # noqa: F401

    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "MAJLIS_FAST_PASSWORD_HASH": True, "MAIL_BACKEND": "null"})
    yield app, str(tmp_path / "busy.db")
    get_database(app).engine.dispose()


def test_a_busy_sqlite_database_is_a_retry_on_the_next_run_not_a_traceback(sqlite_app, monkeypatch, caplog):
    app, path = sqlite_app
    monkeypatch.setattr("majlis.db.SQLITE_BUSY_TIMEOUT_MS", 100)
    db = get_database(app).session_factory()
    with unit_of_work(db):
        code_notices(db, factories.user(db, is_verified=False), ["123456"])
    other = sqlite3.connect(path, isolation_level=None)  # another program holds the write lock
    other.execute("BEGIN IMMEDIATE")
    recorder = Recorder()
    with caplog.at_level(logging.WARNING):
        assert deliver(app, db, now=NOW, senders={"email": recorder}) == 0
    [warning] = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert "database is busy" in warning.getMessage() and warning.exc_info is None
    other.rollback()
    other.close()
    [row] = rows(db)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert deliver(app, db, now=NOW + timedelta(seconds=10), senders={"email": recorder}) == 1
    db.close()


def test_scheduler_status_shows_the_backlog_per_channel(app, db, runner, make_user):
    resident = make_user()
    real_now = datetime.now(UTC)
    with unit_of_work(db):
        for channel, status, attempts, age in (("email", OutboxStatus.PENDING, 0, timedelta(hours=3)),
                                               ("email", OutboxStatus.PENDING, 2, timedelta(minutes=5)),
                                               ("email", OutboxStatus.FAILED, 10, timedelta(days=1)),
                                               ("email", OutboxStatus.SENT, 1, timedelta(days=2)),
                                               ("sms", OutboxStatus.PENDING, 1, timedelta(minutes=10))):
            db.add(OutboxMessage(kind="registration_confirmed", params={"session_id": 1}, channel=channel,
                                 user_id=resident.id, status=status, attempts=attempts,
                                 created_at=real_now - age, send_after=real_now))
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    assert "Outbox by channel:\n" in result.output
    assert "  email: 2 pending (1 waiting to retry), oldest 3.0 h old, 1 failed\n" in result.output
    assert "  sms: 1 pending (1 waiting to retry), oldest 10 min old, 0 failed\n" in result.output
