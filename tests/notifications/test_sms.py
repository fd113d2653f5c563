"""SMS: segment arithmetic, fitting a notice without cutting a word, an HTTP gateway served on loopback, and the
verified mobile number (a code by SMS, typed back)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from majlis.auth.models import User
from majlis.db import unit_of_work
from majlis.enums import OutboxStatus
from majlis.errors import InvalidInput
from majlis.notifications import phone
from majlis.notifications import services as outbox
from majlis.notifications.models import OutboxMessage
from majlis.notifications.preferences import set_choices, stop_token
from majlis.notifications.sms import encoding, fit, segments, shorten
from majlis.registration.models import Registration
from majlis.sessions import services as sessions
from tests import factories
from tests.conftest import form_post
from tests.mailbox import deliver
from tests.notifications.fakes import fake_server

TOKEN = "gateway-token-0123456789"
REASON = ("The main hall is closed for urgent repairs to its air conditioning system; we will announce a new date as "
          "soon as the repairs are done.")


@pytest.mark.parametrize("text, kind, count", [
    ("Your Majlis code is 123456. It is valid for 10 minutes.", "gsm7", 1),
    ("a" * 160, "gsm7", 1),
    ("a" * 161, "gsm7", 2),
    ("a" * 306, "gsm7", 2),  # 153 septets per part of a long message
    ("a" * 307, "gsm7", 3),
    ("a" * 159 + "€", "gsm7", 2),  # the euro sign is in the extension table: two septets
    ("a" * 80 + "\u00e9" * 80, "gsm7", 1),  # é is in the default alphabet
    ("ب" * 70, "ucs2", 1),
    ("ب" * 71, "ucs2", 2),
    ("ب" * 134, "ucs2", 2),  # 67 code units per part
    ("ب" * 135, "ucs2", 3),
    ("a" * 69 + "ب", "ucs2", 1),  # one Arabic letter makes the whole message UCS-2
    ("😀" * 35, "ucs2", 1),  # outside the BMP: two UTF-16 code units each
    ("😀" * 36, "ucs2", 2),
])
def test_segments_follow_gsm7_and_ucs2(text, kind, count):
    assert (encoding(text), segments(text)) == (kind, count)


WORDS = ("تعذّر عقد الجلسة في القاعة الكبرى لأعمال الصيانة الطارئة في نظام التكييف، وسنعلن موعدًا جديدًا قريبًا "
         "بعد التنسيق مع الجهات المعنية ومكتب المحافظ")


@pytest.mark.parametrize("detail", [
    WORDS,
    "The main hall is closed for urgent repairs to its air conditioning; a new date follows soon " * 3,
    "قصير",
    "Supercalifragilisticexpialidocious" * 8,  # one word longer than the room: dropped, not cut
])
def test_a_detail_is_shortened_at_a_word_to_the_segments_the_rest_needs(detail):
    headline, facts = "ألغيت الجلسة", ("المجلس الأسبوعي", "الخميس، 3 ديسمبر 2026", "23 جمادى الآخرة 1448 هـ",
                                       "12:00 م - 1:30 م", "https://majlis.capital.example/sessions/12")
    stop = "للإيقاف: https://majlis.capital.example/stop/AQer3GB4fmGRPhXn"
    without = fit(headline, facts, None, stop)
    text = fit(headline, facts, detail, stop)
    assert segments(text) == segments(without)
    lines = text.split("\n")
    assert lines[0] == headline and lines[-1] == stop and lines[-len(facts) - 1:-1] == list(facts)
    kept = [] if len(lines) == len(facts) + 2 else lines[1].removesuffix("…").removesuffix("...").split()
    original = detail.split()
    assert kept == original[:len(kept)]  # whole words, from the start: nothing cut mid-word
    if segments(fit(headline, facts, detail.split()[0], stop)) > segments(without):
        assert kept == []


def test_shorten_keeps_the_longest_run_of_whole_words_that_fits():
    assert shorten("one two three four", lambda text: len(text) <= 14) == "one two..."
    assert shorten("واحد اثنان ثلاثة", lambda text: len(text) <= 11) == "واحد اثنان…"
    assert shorten("one two", lambda text: True) == "one two"
    assert shorten("unbreakable", lambda text: len(text) < 5) == ""


@pytest.fixture
def sms_app(app):
    app.config.update(MAJLIS_SMS_TOKEN=TOKEN)
    return app


def verified(make_user, **overrides):
    return make_user(phone="+97333123456", phone_verified_at=datetime.now(UTC), **overrides)


def test_a_gateway_on_loopback_gets_the_notice_with_its_token_as_json(sms_app, db, make_user):
    app = sms_app
    resident = verified(make_user)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with unit_of_work(db):
        row = factories.majlis_session(db, starts_at=now + timedelta(days=2))
        set_choices(db, db.get(User, resident.id), {"registration_confirmed": ["sms"]}, now=now)
        outbox.enqueue(db, kind="registration_confirmed", user=db.get(User, resident.id),
                       params={"session_id": row.id}, now=now)
    with fake_server(status=202) as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/v1/messages"
        assert deliver(app, db, now=now) == 1
    [request] = gateway.received
    assert request.path == "/v1/messages" and request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    sent = json.loads(request.body)
    assert set(sent) == {"to", "text"} and sent["to"] == "+97333123456"
    page = f"http://127.0.0.1:5000/sessions/{row.id}"
    stop = f"http://127.0.0.1:5000/stop/{stop_token(app.config['SECRET_KEY'], resident.id, 'registration_confirmed')}"
    headline, title, day, hijri, hours, link, stop_line = sent["text"].split("\n")
    assert (headline, title, link, stop_line) == ("تم تأكيد مقعدك", "المجلس الأسبوعي", f"{page}/join",
                                                  f"للإيقاف: {stop}")
    assert (day, hijri, hours) == ("الخميس، 3 ديسمبر 2026", "23 جمادى الآخرة 1448 هـ",
                                   "12:00 م - 1:30 م (توقيت البحرين)")
    assert encoding(sent["text"]) == "ucs2" and segments(sent["text"]) == 3  # the two links alone take 80 units
    db.rollback()
    assert db.scalar(select(OutboxMessage.status)) == OutboxStatus.SENT


def test_a_long_reason_is_cut_at_a_word_and_english_stays_gsm7(sms_app, db, make_user):
    app = sms_app
    resident = verified(make_user, locale="en")
    now = datetime.now(UTC)
    with unit_of_work(db):
        staff = factories.user(db, role="staff")
        row = factories.majlis_session(db, starts_at=now + timedelta(days=2))
        set_choices(db, db.get(User, resident.id), {"session_cancelled": ["sms"]}, now=now)
        db.add(Registration(session_id=row.id, user_id=resident.id, status="confirmed", queued_at=now,
                                      confirmed_at=now, created_at=now, updated_at=now))
        db.flush()
        sessions.cancel_session(db, row, reason=REASON, actor=staff, now=now)
    with fake_server() as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/send"
        assert deliver(app, db, now=now) == 1
    text = json.loads(gateway.received[0].body)["text"]
    lines = text.split("\n")
    assert lines[0] == "The session is cancelled" and lines[1].endswith("...")
    kept = lines[1].removesuffix("...").split()
    assert 3 <= len(kept) < len(REASON.split()) and kept == REASON.split()[:len(kept)]  # whole words only
    assert encoding(text) == "gsm7"  # no narrow space before PM, no dash outside the GSM alphabet
    essentials = "\n".join([lines[0], *lines[2:]])
    assert segments(text) == segments(essentials)


def test_a_new_place_by_sms_names_the_place(sms_app, db, make_user):
    app = sms_app
    resident = verified(make_user, locale="en")
    now = datetime.now(UTC)
    with unit_of_work(db):
        staff = factories.user(db, role="staff")
        row = factories.majlis_session(db, starts_at=now + timedelta(days=2), format="in_person", capacity=0,
                                       in_person_capacity=20, place_name_ar="قاعة المحافظة",
                                       place_name_en="Governorate hall")
        set_choices(db, db.get(User, resident.id), {"session_changed": ["sms"]}, now=now)
        db.add(Registration(session_id=row.id, user_id=resident.id, status="confirmed", mode="in_person",
                            queued_at=now, confirmed_at=now, created_at=now, updated_at=now))
        db.flush()
        sessions.update_session(db, row, {"place": {"name_ar": "مركز سترة", "name_en": "Sitra centre",
                                                    "address": "Road 12"}},
                                actor=staff, zone=ZoneInfo("Asia/Bahrain"), now=now)
    with fake_server() as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/send"
        assert deliver(app, db, now=now) == 1
    lines = json.loads(gateway.received[0].body)["text"].split("\n")
    assert lines[0] == "The session has a new place"
    assert "Place: Sitra centre, Road 12" in lines


def test_a_gateway_error_is_retried_and_the_token_never_recorded(sms_app, db, make_user):
    app = sms_app
    resident = verified(make_user)
    now = datetime.now(UTC)
    with unit_of_work(db):
        outbox.enqueue(db, kind="phone_verification", user=db.get(User, resident.id), now=now,
                       params={"code": "424242", "to": "+97366000000"})
    with fake_server(status=500) as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/send"
        assert deliver(app, db, now=now) == 0
        db.rollback()
        row = db.scalar(select(OutboxMessage))
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 1,
                                                              "RuntimeError: the SMS gateway answered 500")
        gateway.status = 200
        assert deliver(app, db, now=now + timedelta(minutes=1)) == 1
    assert [json.loads(r.body)["to"] for r in gateway.received] == ["+97366000000"] * 2
    db.rollback()
    assert TOKEN not in (db.scalar(select(OutboxMessage.last_error)) or "")


def test_without_a_gateway_url_messages_are_printed(app, db, make_user, capsys):
    resident = verified(make_user, locale="en")
    now = datetime.now(UTC)
    with unit_of_work(db):
        outbox.enqueue(db, kind="phone_verification", user=db.get(User, resident.id), now=now,
                       params={"code": "424242", "to": "+97366000000"})
    assert deliver(app, db, now=now) == 1
    printed = capsys.readouterr().out
    assert "--- SMS to +97366000000 (1 segment(s)) ---\nYour Majlis code is 424242. It is valid for 10 minutes.\n" \
           in printed


# --- the verified number ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, stored", [
    ("+973 3312 3456", "+97333123456"),
    ("00973-3312-3456", "+97333123456"),
    ("+(973) 3312.3456", "+97333123456"),
    ("+٩٧٣٣٣١٢٣٤٥٦", "+97333123456"),  # typed on an Arabic keyboard
    ("33123456", None),  # no country code
    ("+0973331234", None),
    ("+97333", None),
    ("+9733312345678901", None),
    ("phone", None),
    (973, None),
])
def test_numbers_are_stored_in_e164(raw, stored):
    if stored is None:
        with pytest.raises(InvalidInput):
            phone.normalize_phone(raw)
    else:
        assert phone.normalize_phone(raw) == stored


def sms_codes(db):
    db.rollback()
    codes = select(OutboxMessage).where(OutboxMessage.kind == "phone_verification").order_by(OutboxMessage.id)
    return [(row.params["to"], row.params["code"], row.channel) for row in db.scalars(codes)]


def test_a_number_is_verified_with_the_code_sent_to_it(sms_app, client, db, make_user, api_token):
    app = sms_app
    resident = make_user(phone="+97339000000")  # given at sign-up, never verified: no SMS goes there
    headers = api_token(resident)
    assert client.get("/api/v1/me/notifications", headers=headers).get_json()["reminder"] == ["email"]
    response = client.post("/api/v1/me/phone", json={"phone": "+973 3312 3456"}, headers=headers)
    assert response.status_code == 202
    assert response.get_json() == {"phone": "+97333123456", "expires_in": 600}
    [(to, code, channel)] = sms_codes(db)
    assert (to, channel) == ("+97333123456", "sms") and re.fullmatch(r"\d{6}", code)
    with fake_server() as gateway:
        app.config["MAJLIS_SMS_URL"] = gateway.base + "/send"
        assert deliver(app, db, now=datetime.now(UTC)) == 1
    sent = json.loads(gateway.received[0].body)
    assert sent == {"to": "+97333123456", "text": f"رمز المجلس الخاص بك هو {code}، وهو صالح لمدة 10 دقائق."}
    assert segments(sent["text"]) == 1
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/api/v1/me/phone/verify", json={"code": wrong}, headers=headers)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "bad_code"
    assert client.post("/api/v1/me/phone/verify", json={"code": code}, headers=headers).status_code == 204
    db.rollback()
    db.expire_all()
    user = db.get(User, resident.id)
    assert user.phone == "+97333123456" and user.phone_verified_at is not None
    assert client.get("/api/v1/me/notifications", headers=headers).get_json()["reminder"] == ["email", "sms"]
    assert client.post("/api/v1/me/phone/verify", json={"code": code}, headers=headers).status_code == 400  # used


def test_codes_expire_allow_five_attempts_and_five_an_hour(app, db, make_user):
    resident = make_user()
    secret, now = app.config["SECRET_KEY"], datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def ask(at):
        with app.test_request_context(), unit_of_work(db):
            phone.request_code(db, db.get(User, resident.id), "+97333123456", secret=secret, lang="ar", now=at)
        return sms_codes(db)[-1][1]

    def verify(code, at):
        with unit_of_work(db):
            phone.verify_code(db, db.get(User, resident.id), code, secret=secret, now=at)

    code = ask(now)
    with pytest.raises(InvalidInput):
        verify(code, now + phone.CODE_TTL)  # expired
    code = ask(now + timedelta(minutes=11))
    for _ in range(phone.MAX_ATTEMPTS):
        with pytest.raises(InvalidInput):
            verify(str((int(code) + 1) % 1_000_000).zfill(6), now + timedelta(minutes=12))
    with pytest.raises(InvalidInput):
        verify(code, now + timedelta(minutes=12))  # the right code, after five wrong ones: too late
    for minute in (13, 14, 15):
        ask(now + timedelta(minutes=minute))
    with pytest.raises(phone.TooManyCodes):
        ask(now + timedelta(minutes=16))  # a sixth within the hour
    code = ask(now + timedelta(minutes=61))  # the first has left the hour
    earlier = sms_codes(db)[-2][1]
    with pytest.raises(InvalidInput):
        verify(earlier, now + timedelta(minutes=62))  # only the latest code works
    verify(code, now + timedelta(minutes=62))
    db.rollback()
    db.expire_all()
    assert db.get(User, resident.id).phone_verified_at == now + timedelta(minutes=62)


def test_the_account_page_verifies_a_number(sms_app, client, db, make_user, login_as):
    resident = make_user()
    login_as(resident)
    response = form_post(client, "/account/phone", {"phone": "+973 3312 3456"}, page="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account#phone-heading")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="phone-code"' in page and "+97333123456" in page
    [(_, code, _)] = sms_codes(db)
    form_post(client, "/account/phone/verify", {"code": code}, page="/account")
    page = client.get("/account").get_data(as_text=True)
    assert "تصل الرسائل النصية إلى رقمك الموثّق:" in page and 'id="phone-code"' not in page
