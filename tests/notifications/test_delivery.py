"""One delivery pipeline for every channel: a promotion during a burst reaches the resident once by each channel
they chose, and a channel down for an hour loses nothing while the others go on."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from majlis.auth.models import User
from majlis.db import get_database, unit_of_work
from majlis.enums import OutboxStatus, RegistrationStatus
from majlis.notifications import preferences, push
from majlis.notifications import services as outbox
from majlis.notifications.channels import senders
from majlis.notifications.models import OutboxMessage, PushSubscription
from majlis.registration import services as registration
from majlis.registration.models import Registration
from tests import factories
from tests.mailbox import Recorder, deliver
from tests.notifications.fakes import fake_server
from tests.notifications.test_push import Device

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Counting(Recorder):
    """A recording sender safe for threads (two schedulers deliver at once)."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def send(self, message, to):
        with self.lock:
            self.sent.append((to, message))


def run_all(functions) -> None:
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            barrier.wait()
            function()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_a_promotion_during_a_burst_reaches_the_resident_once_by_each_chosen_channel(app, db, make_user):
    database = get_database(app)
    resident = make_user(phone="+97333123456", phone_verified_at=NOW)
    with unit_of_work(db):
        db.add(PushSubscription(user_id=resident.id, endpoint="https://push.example.com/send/1",
                                p256dh="B" + "A" * 86, auth="A" * 22, created_at=NOW))
        preferences.set_choices(db, db.get(User, resident.id), {"promoted": ["email", "push", "sms"]}, now=NOW)
        row = factories.majlis_session(db, starts_at=NOW + timedelta(days=1), capacity=3,
                                       registration_opens_at=NOW - timedelta(days=1))
        holders = [factories.user(db) for _ in range(3)]
        latecomers = [factories.user(db) for _ in range(6)]
    for user in [*holders, resident]:
        with unit_of_work(db):
            registration.register(db, row.id, db.get(User, user.id), now=NOW)

    def act(action, user):
        def run():
            db_session = database.session_factory()
            try:
                with app.app_context(), unit_of_work(db_session):
                    action(db_session, row.id, db_session.get(User, user.id), now=NOW + timedelta(minutes=1))
            finally:
                db_session.close()
        return run

    # The three seat holders give up at once while others rush in: three seats free, three promotions.
    run_all([act(registration.cancel, user) for user in holders] +
            [act(registration.register, user) for user in latecomers])
    db.expire_all()
    mine = db.scalar(select(Registration).where(Registration.user_id == resident.id))
    assert mine.status == RegistrationStatus.CONFIRMED
    promoted = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == resident.id,
                                                      OutboxMessage.kind == "registration_promoted")).all()
    assert sorted(message.channel for message in promoted) == ["email", "push", "sms"]

    senders = {channel: Counting() for channel in ("email", "push", "sms")}

    def scheduler():
        db_session = database.session_factory()
        try:
            with app.app_context():
                outbox.deliver_pending(db_session, config=app.config, now=NOW + timedelta(minutes=2),
                                       channel_senders=senders)
        finally:
            db_session.close()

    run_all([scheduler, scheduler])  # two schedulers at once (a standby that thinks it leads, a job run twice)
    deliver(app, db, now=NOW + timedelta(minutes=3), senders=senders)  # whatever one user's order held back
    for channel, sender in senders.items():  # besides the earlier "you are on the waiting list"
        headlines = [message.headline for to, message in sender.sent if to == resident.email]
        assert headlines.count("أصبح لك مقعد في المجلس") == 1, (channel, headlines)


def test_a_channel_down_for_an_hour_loses_nothing_and_holds_back_no_other(app, db, make_user):
    public, private = push.new_vapid_keys()
    app.config.update(MAJLIS_VAPID_PUBLIC_KEY=public, MAJLIS_VAPID_PRIVATE_KEY=private)
    resident = make_user(phone="+97333123456", phone_verified_at=NOW)
    email = Recorder()
    with fake_server(status=503) as push_service, fake_server(status=503) as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/send"
        device = Device(push_service.base + "/send/phone")
        with unit_of_work(db):
            user = db.get(User, resident.id)
            push.subscribe(db, user, device.subscription(), production=False, configured=True, now=NOW)
            preferences.set_choices(db, user, {"registration_confirmed": ["email", "push", "sms"]}, now=NOW)
            for day in (2, 3, 4):
                row = factories.majlis_session(db, starts_at=NOW + timedelta(days=day), title_ar=f"مجلس اليوم {day}")
                outbox.enqueue(db, kind="registration_confirmed", user=user, params={"session_id": row.id}, now=NOW)
        channels = {**senders(app.config), "email": email}  # push and SMS for real, to the servers above

        def run(minute):
            return deliver(app, db, now=NOW + timedelta(minutes=minute), senders=channels)

        for minute in range(61):  # the scheduler runs every minute for an hour; push and SMS answer 503
            run(minute)
        db.expire_all()
        waiting = db.scalars(select(OutboxMessage).where(OutboxMessage.channel != "email")).all()
        assert [message.headline for _, message in email.sent] == ["تم تأكيد مقعدك"] * 3  # held back by nothing
        assert {row.status for row in waiting} == {OutboxStatus.PENDING} and len(waiting) == 6
        assert max(row.attempts for row in waiting) < outbox.MAX_ATTEMPTS  # far from giving up
        tried = len(push_service.received), len(gateway.received)
        assert max(tried) <= 61  # one try per run while a channel is down, not one per row

        push_service.status, gateway.status = 201, 200  # both back
        minute = 61
        while db.scalar(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING)):
            run(minute)
            db.expire_all()
            minute += 1
            assert minute < 4 * 60, "still not delivered hours after the services came back"

    assert {row.status for row in db.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}
    # Each notice once by each channel after the outage, in the order they were written.
    pushed = [device.decrypt(request.body)["body"].split("\n")[1] for request in push_service.received[tried[0]:]]
    texted = [json.loads(request.body)["text"].split("\n")[1] for request in gateway.received[tried[1]:]]
    assert pushed == texted == ["مجلس اليوم 2", "مجلس اليوم 3", "مجلس اليوم 4"]
