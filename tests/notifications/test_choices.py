"""The resident's choices: which channels each kind of notice goes by, the defaults, the API and the page, and the
signed one-click links that stop a kind of message."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import Role
from majlis.followups import services as followups
from majlis.notifications import preferences
from majlis.notifications import services as outbox
from majlis.notifications.models import NotificationSettings, OutboxMessage, PushSubscription
from majlis.notifications.preferences import CHOICE_KINDS, CHOICE_OF, read_stop_token, stop_token
from majlis.questions import services as questions
from majlis.registration import notices
from majlis.registration import services as registration
from majlis.sessions import services as sessions
from tests import factories
from tests.conftest import form_post
from tests.mailbox import Recorder, deliver

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Bahrain")


def reachable(make_user, **overrides):
    """A resident with a push subscription and a verified mobile number: every channel is set up."""
    user = make_user(phone="+97333123456", phone_verified_at=NOW, **overrides)
    return user


def add_device(db, user):
    with unit_of_work(db):
        db.add(PushSubscription(user_id=user.id, endpoint=f"https://push.example.com/send/{user.id}",
                                p256dh="BOr" + "A" * 84, auth="A" * 22, created_at=NOW))


def channels_of(db, user, kind):
    with unit_of_work(db):
        return preferences.channels_for(db, db.get(User, user.id), kind)


def test_by_default_notices_go_by_every_channel_set_up(db, make_user):
    resident = make_user()
    assert channels_of(db, resident, "registration_confirmed") == ("email",)
    add_device(db, resident)
    assert channels_of(db, resident, "registration_confirmed") == ("email", "push")
    with unit_of_work(db):
        db.get(User, resident.id).phone, db.get(User, resident.id).phone_verified_at = "+97333123456", NOW
    assert channels_of(db, resident, "registration_confirmed") == ("email", "push", "sms")
    # Codes and officials' work are not a matter of choice.
    assert channels_of(db, resident, "email_verification") == ("email",)
    assert channels_of(db, resident, "phone_verification") == ("sms",)
    assert channels_of(db, resident, "case_overdue") == ("email",)


def test_a_choice_is_honoured_an_empty_one_sends_nothing_and_a_gone_channel_falls_back_to_email(db, make_user):
    resident = reachable(make_user)
    with unit_of_work(db):
        preferences.set_choices(db, db.get(User, resident.id), {"reminder": ["sms"], "promoted": [],
                                                                 "question_on_air": ["push", "sms"]}, now=NOW)
    assert channels_of(db, resident, "reminder") == ("sms",)
    assert channels_of(db, resident, "reminder_24h") == ("sms",)  # queued under the old name: the same choice
    assert channels_of(db, resident, "registration_promoted") == ()
    assert channels_of(db, resident, "question_on_air") == ("sms",)  # no device subscribed: push is skipped
    with unit_of_work(db):
        db.get(User, resident.id).phone_verified_at = None
    assert channels_of(db, resident, "question_on_air") == ("email",)  # nothing chosen is set up: e-mail


# One scenario per kind of choice: the real action that writes the notice, as it happens in the product.

def _open(db, capacity=5):
    return factories.majlis_session(db, starts_at=NOW + timedelta(days=2), capacity=capacity,
                                    registration_opens_at=NOW - timedelta(days=1))


def _confirmed(db, resident):
    registration.register(db, _open(db).id, resident, now=NOW)


def _waitlisted(db, resident):
    row = _open(db, capacity=1)
    registration.register(db, row.id, factories.user(db), now=NOW)
    registration.register(db, row.id, resident, now=NOW)


def _promoted(db, resident):
    row, holder = _open(db, capacity=1), factories.user(db)
    registration.register(db, row.id, holder, now=NOW)
    registration.register(db, row.id, resident, now=NOW)
    registration.cancel(db, row.id, holder, now=NOW)


def _reminded(db, resident):
    row = _open(db)
    registration.register(db, row.id, resident, now=NOW)
    notices.send_reminders(db, now=row.starts_at - timedelta(hours=23))


def _moved(db, resident):
    row = _open(db)
    registration.register(db, row.id, resident, now=NOW)
    sessions.update_session(db, row, {"starts_at": (row.starts_at + timedelta(days=1)).isoformat()}, actor=None,
                            zone=ZONE, now=NOW)


def _cancelled(db, resident):
    row = _open(db)
    registration.register(db, row.id, resident, now=NOW)
    sessions.cancel_session(db, row, reason="صيانة القاعة", actor=None, now=NOW)


def _asked(db, resident):
    row = _open(db)
    registration.register(db, row.id, resident, now=NOW)
    question = questions.ask(db, row, resident, body="متى تُفتح الحديقة؟", now=NOW)
    return question, factories.user(db, role=Role.MODERATOR)


def _on_air(db, resident):
    question, moderator = _asked(db, resident)
    questions.moderate(db, question, moderator, action="approve", now=NOW)
    questions.moderate(db, question, moderator, action="on_air", now=NOW)


def _case(db, resident):
    question, moderator = _asked(db, resident)
    questions.moderate(db, question, moderator, action="approve", now=NOW)
    body = factories.body(db)
    case = followups.open_case(db, question, moderator, body_id=body.id, now=NOW, zone=ZONE)
    return case, factories.user(db, role=Role.OFFICIAL, body=body)


def _case_updated(db, resident):
    case, official = _case(db, resident)
    followups.add_update(db, case, official, text="زار الفريق الموقع", status="in_progress", now=NOW)


def _case_resolved(db, resident):
    """Resolved, then asked "was it fixed?" by the job, some days later."""
    from datetime import timedelta

    case, official = _case(db, resident)
    followups.add_update(db, case, official, text="تم الإصلاح", status="resolved", now=NOW)
    followups.request_feedback(db, now=NOW + timedelta(days=3, hours=1), delay=timedelta(days=3))


SCENARIOS = {
    "registration_confirmed": (_confirmed, {"registration_confirmed"}),
    "registration_waitlisted": (_waitlisted, {"registration_waitlisted"}),
    "promoted": (_promoted, {"registration_promoted"}),
    "reminder": (_reminded, {"reminder"}),
    "session_changed": (_moved, {"session_moved"}),
    "session_cancelled": (_cancelled, {"session_cancelled"}),
    "question_on_air": (_on_air, {"question_on_air"}),
    "case_updated": (_case_updated, {"case_opened", "case_update"}),
    "case_feedback": (_case_resolved, {"case_feedback"}),
}


def test_every_kind_of_choice_has_a_scenario():
    assert set(SCENARIOS) == set(CHOICE_KINDS) and set(CHOICE_OF.values()) == set(CHOICE_KINDS)


@pytest.mark.parametrize("kind", CHOICE_KINDS)
def test_each_kind_of_notice_goes_only_by_the_channels_chosen_for_it(app, db, make_user, kind):
    resident = reachable(make_user)
    add_device(db, resident)
    scenario, written = SCENARIOS[kind]
    with unit_of_work(db):
        # This kind by push and SMS; every other kind by nothing at all.
        preferences.set_choices(db, db.get(User, resident.id), {other: [] for other in CHOICE_KINDS}, now=NOW)
        preferences.set_choices(db, db.get(User, resident.id), {kind: ["push", "sms"]}, now=NOW)
    with app.app_context(), unit_of_work(db):
        scenario(db, db.get(User, resident.id))
    db.expire_all()
    rows = db.execute(select(OutboxMessage.kind, OutboxMessage.channel).where(OutboxMessage.user_id == resident.id)
                      ).all()
    assert {row.kind for row in rows} == written
    for notice in written:
        assert sorted(row.channel for row in rows if row.kind == notice) == ["push", "sms"]


def test_the_api_reads_and_sets_choices_kind_by_kind(client, make_user, api_token):
    headers = api_token(make_user())
    everything = client.get("/api/v1/me/notifications", headers=headers).get_json()
    assert everything == {kind: ["email"] for kind in CHOICE_KINDS}
    changed = client.put("/api/v1/me/notifications", headers=headers,
                         json={"reminder": ["sms", "email", "sms"], "case_feedback": []})
    assert changed.status_code == 200
    assert changed.get_json() == {**everything, "reminder": ["email", "sms"], "case_feedback": []}
    again = client.put("/api/v1/me/notifications", headers=headers, json={"promoted": ["push"]}).get_json()
    assert (again["reminder"], again["case_feedback"], again["promoted"]) == (["email", "sms"], [], ["push"])
    assert client.get("/api/v1/me/notifications", headers=headers).get_json() == again


@pytest.mark.parametrize("body, field", [
    ({"newsletter": ["email"]}, "newsletter"),
    ({"reminder": ["fax"]}, "reminder"),
    ({"reminder": "email"}, "reminder"),
    ({"reminder": [None]}, "reminder"),
])
def test_the_api_refuses_unknown_kinds_and_channels(client, make_user, api_token, body, field):
    response = client.put("/api/v1/me/notifications", json=body, headers=api_token(make_user()))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def checked(page: str, kind: str) -> set[str]:
    """The channels ticked for a kind on the account page."""
    boxes = re.findall(rf'<input type="checkbox" name="{kind}" value="(\w+)"([^>]*)>', page)
    assert len(boxes) == 3
    return {channel for channel, rest in boxes if " checked" in rest}


def test_the_account_page_saves_choices_and_an_own_reminder(client, db, make_user, login_as):
    resident = make_user()
    login_as(resident)
    page = client.get("/account").get_data(as_text=True)
    assert checked(page, "reminder") == {"email"}
    form = {kind: "email" for kind in CHOICE_KINDS} | {"reminder": ["email", "sms"], "reminder_minutes": "180"}
    del form["case_updated"]  # every box of that kind left empty
    response = form_post(client, "/account/notifications", form, page="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("#notifications-heading")
    db.expire_all()
    settings = db.get(NotificationSettings, resident.id)
    assert settings.choices["reminder"] == ["email", "sms"] and settings.choices["case_updated"] == []
    assert settings.reminder_minutes == 180
    page = client.get("/account").get_data(as_text=True)
    assert checked(page, "reminder") == {"email", "sms"} and checked(page, "case_updated") == set()
    assert '<option value="180" selected>' in page
    refused = form_post(client, "/account/notifications", {"reminder_minutes": "99999"}, page="/account")
    assert refused.status_code == 302
    assert "اختر تذكيرًا بين 5 دقائق و7 أيام قبل الموعد." in client.get("/account").get_data(as_text=True)


# --- stop links ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", [1, 127, 128, 300_000, 2**31 - 1])
@pytest.mark.parametrize("kind", CHOICE_KINDS)
def test_stop_tokens_name_their_user_and_kind_and_nothing_else(user_id, kind):
    token = stop_token("secret-key", user_id, kind)
    assert read_stop_token("secret-key", token) == (user_id, kind)
    assert read_stop_token("another-key", token) is None
    assert len(token) <= 22 and token.isascii()


@pytest.mark.parametrize("token", ["", "x", "!" * 20, "AQdGb3JnZWRmb3JnZWQ", "A" * 41])
def test_forged_stop_tokens_are_not_read(token):
    assert read_stop_token("secret-key", token) is None


def test_a_tampered_stop_token_is_refused():
    token = stop_token("secret-key", 42, "reminder")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for position in range(len(raw)):
        for bit in range(8):
            changed = bytearray(raw)
            changed[position] ^= 1 << bit
            forged = base64.urlsafe_b64encode(bytes(changed)).rstrip(b"=").decode()
            assert read_stop_token("secret-key", forged) is None, (position, bit)


def test_a_stop_link_shows_what_it_stops_and_stops_it_without_signing_in(app, client, db, make_user):
    resident = make_user(locale="en")
    link = f"/stop/{stop_token(app.config['SECRET_KEY'], resident.id, 'reminder')}"
    shown = client.get(link)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Reminders before a session" in shown.get_data(as_text=True)
    assert db.get(NotificationSettings, resident.id) is None  # looking (or a link scanner) changes nothing
    stopped = client.post(link)  # no CSRF token, no session: the link is the credential
    assert stopped.status_code == 200 and "Done." in stopped.get_data(as_text=True)
    assert client.get("/api/v1/me/notifications").status_code == 401
    db.expire_all()
    assert db.get(NotificationSettings, resident.id).choices == {"reminder": []}
    with unit_of_work(db):
        assert preferences.channels_for(db, db.get(User, resident.id), "reminder") == ()
        assert preferences.channels_for(db, db.get(User, resident.id), "registration_confirmed") == ("email",)


def test_mail_programs_stop_with_one_post_as_rfc_8058_says(app, client, db, make_user):
    resident = make_user()
    link = f"/stop/{stop_token(app.config['SECRET_KEY'], resident.id, 'case_updated')}"
    response = client.post(link, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    db.expire_all()
    assert db.get(NotificationSettings, resident.id).choices == {"case_updated": []}


def test_stop_links_of_unknown_or_disabled_users_are_not_found(app, client, make_user):
    disabled = make_user(is_disabled=True)
    for token in (stop_token(app.config["SECRET_KEY"], disabled.id, "reminder"),
                  stop_token(app.config["SECRET_KEY"], 999_999, "reminder"), "AQdGb3JnZWRmb3JnZWQ"):
        assert client.get(f"/stop/{token}").status_code == 404
        assert client.post(f"/stop/{token}").status_code == 404


def test_every_message_carries_the_link_that_stops_its_own_kind(app, client, db, make_user):
    resident = make_user(locale="en")
    with unit_of_work(db):
        row = _open(db)
        for kind in ("registration_confirmed", "registration_promoted"):
            outbox.enqueue(db, kind=kind, user=db.get(User, resident.id), params={"session_id": row.id}, now=NOW)
    recorder = Recorder()
    assert deliver(app, db, now=NOW, senders={"email": recorder}) == 2
    (_, confirmed), (_, promoted) = recorder.sent
    assert confirmed.stop_url.endswith(stop_token(app.config["SECRET_KEY"], resident.id, "registration_confirmed"))
    assert promoted.stop_url.endswith(stop_token(app.config["SECRET_KEY"], resident.id, "promoted"))
    assert confirmed.text.endswith(f"To stop messages of this kind: {confirmed.stop_url}\n")
    client.post(promoted.stop_url.removeprefix("http://127.0.0.1:5000"))
    with unit_of_work(db):
        assert preferences.channels_for(db, db.get(User, resident.id), "registration_promoted") == ()
        assert preferences.channels_for(db, db.get(User, resident.id), "registration_confirmed") == ("email",)
