"""Sign-up through the API and the page, and e-mail verification."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from majlis.auth.models import User
from majlis.enums import Role
from majlis.notifications.models import OutboxMessage
from tests.conftest import form_post

GOOD = {"email": "Fatima.Ali@Example.com", "name": "فاطمة علي", "password": "Sanabis-garden-42"}


def count_users(db):
    db.rollback()
    return db.scalar(select(func.count()).select_from(User))


def test_api_signup_creates_a_verified_resident(client, db):
    response = client.post("/api/v1/auth/signup", json={**GOOD, "phone": "+973 3312 3456"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "fatima.ali@example.com"
    assert body["role"] == "resident" and body["verified"] is True
    user = db.get(User, body["id"])
    assert user.phone == "+97333123456"
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in user.password_hash


def test_api_signup_with_an_area_code(client, db, make_user):
    from majlis.db import unit_of_work
    from tests import factories

    with unit_of_work(db):
        area = factories.area(db, code="sanabis")
    response = client.post("/api/v1/auth/signup", json={**GOOD, "area": "sanabis"})
    assert response.status_code == 201
    assert db.get(User, response.get_json()["id"]).area_id == area.id


def test_duplicate_email_is_409_email_taken_whatever_the_case(client, db):
    assert client.post("/api/v1/auth/signup", json=GOOD).status_code == 201
    response = client.post("/api/v1/auth/signup", json={**GOOD, "email": "FATIMA.ALI@example.com"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("email_taken", "email")
    assert count_users(db) == 1


@pytest.mark.parametrize("changes, field", [
    ({"password": "short1"}, "password"),
    ({"password": "password123"}, "password"),
    ({"password": "12345678"}, "password"),
    ({"password": "fatima.ali-2026"}, "password"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"email": ""}, "email"),
    ({"name": "x"}, "name"),
    ({"phone": "call me"}, "phone"),
    ({"area": "atlantis"}, "area"),
    ({"password": 12345678}, "password"),
    # Values that are not text at all (only JSON can send them): refused on their own field, never a crash.
    ({"email": 5}, "email"),
    ({"name": ["فاطمة"]}, "name"),
    ({"phone": 97333123456}, "phone"),
    ({"email": None}, "email"),
])
def test_bad_signup_is_400_with_the_field_named_and_creates_nothing(client, db, changes, field):
    response = client.post("/api/v1/auth/signup", json={**GOOD, **changes})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"]
    assert count_users(db) == 0


def test_signup_needs_a_json_object(client, db):
    response = client.post("/api/v1/auth/signup", data="email=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_error_messages_follow_accept_language(client):
    arabic = client.post("/api/v1/auth/signup", json={**GOOD, "email": "bad"}).get_json()["error"]["message"]
    english = client.post("/api/v1/auth/signup", json={**GOOD, "email": "bad"},
                          headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert english == "Enter a valid e-mail address."
    assert arabic != english and re.search("[\u0600-\u06ff]", arabic)


def test_signup_page_creates_the_account_and_signs_in(client, db):
    response = form_post(client, "/signup", {**GOOD, "confirm": GOOD["password"]})
    assert response.status_code == 302
    assert count_users(db) == 1
    assert "fatima.ali@example.com" in client.get("/account").get_data(as_text=True)


def test_signup_page_shows_errors_next_to_fields_and_keeps_nothing(client, db):
    response = form_post(client, "/signup", {**GOOD, "password": "12345678", "confirm": "12345678"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html
    assert count_users(db) == 0


def test_signup_page_refuses_mismatched_passwords(client, db):
    response = form_post(client, "/signup", {**GOOD, "confirm": "Something-else-9"})
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.get_data(as_text=True)
    assert count_users(db) == 0


def test_signup_page_duplicate_email(client, db, make_user):
    make_user(email="fatima.ali@example.com")
    response = form_post(client, "/signup", {**GOOD, "confirm": GOOD["password"]})
    assert response.status_code == 400
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert count_users(db) == 1


@pytest.fixture
def verifying_app(app):
    app.config["MAJLIS_EMAIL_VERIFICATION"] = "required"
    return app


def _mailed_code(db, email: str) -> str:
    db.rollback()
    notice = db.scalars(select(OutboxMessage).join(User, User.id == OutboxMessage.user_id)
                        .where(User.email == email, OutboxMessage.kind == "email_verification")
                        .order_by(OutboxMessage.id.desc())).first()
    assert notice.body_text is None  # written as kind and parameters, rendered at delivery
    return notice.params["code"]


@pytest.mark.parametrize("lang, words", [("ar", "رمز التحقق"), ("en", "Your verification code is")])
def test_the_code_is_mailed_in_the_language_it_was_asked_in(verifying_app, client, db, lang, words):
    from datetime import UTC, datetime

    from tests.mailbox import Recorder, deliver

    response = client.post("/api/v1/auth/signup", json=GOOD, headers={"Accept-Language": lang})
    assert response.status_code == 201
    code = _mailed_code(db, "fatima.ali@example.com")
    recorder = Recorder()
    assert deliver(verifying_app, db, now=datetime.now(UTC), senders={"email": recorder}) == 1
    [(to, message)] = recorder.sent
    assert to == "fatima.ali@example.com" and code in message.text and words in message.text


def test_verification_by_mailed_code(verifying_app, client, db):
    response = client.post("/api/v1/auth/signup", json=GOOD)
    assert response.status_code == 201 and response.get_json()["verified"] is False
    credentials = {"email": GOOD["email"], "password": GOOD["password"]}
    refused = client.post("/api/v1/auth/token", json=credentials)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "email_unverified"

    code = _mailed_code(db, "fatima.ali@example.com")
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/api/v1/auth/verify", json={"email": GOOD["email"], "code": wrong})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "code"

    ok = client.post("/api/v1/auth/verify", json={"email": GOOD["email"], "code": code})
    assert ok.status_code == 200 and ok.get_json()["verified"] is True
    assert client.post("/api/v1/auth/token", json=credentials).status_code == 201


def test_verification_code_stops_working_after_five_wrong_tries(verifying_app, client, db):
    client.post("/api/v1/auth/signup", json=GOOD)
    code = _mailed_code(db, "fatima.ali@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/api/v1/auth/verify", json={"email": GOOD["email"], "code": wrong})
    # The account's throttle now asks to wait (tests/auth/test_throttle.py); once that has passed, the code is spent.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        response = client.post("/api/v1/auth/verify", json={"email": GOOD["email"], "code": code})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_code"
    db.rollback()
    assert db.scalar(select(User.is_verified)) is False


def test_verification_page_flow(verifying_app, client, db):
    response = form_post(client, "/signup", {**GOOD, "confirm": GOOD["password"]})
    assert response.status_code == 302 and "/verify" in response.headers["Location"]
    code = _mailed_code(db, "fatima.ali@example.com")
    response = form_post(client, "/verify", {"email": GOOD["email"], "code": code})
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(User.is_verified)) is True
    assert db.scalar(select(User.role)) == Role.RESIDENT


def test_the_signup_page_says_every_problem_at_once(client, db):
    response = form_post(client, "/signup?lang=en", {**GOOD, "email": "not-an-address", "password": "12345678",
                                                    "confirm": "12345678", "phone": "call me"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field in ("email", "password", "phone"):  # the form's checks and the service's, in one answer
        assert f'id="{field}-error"' in html, field
    assert count_users(db) == 0


def test_stock_form_messages_are_said_in_the_catalogs_arabic(client, db):
    html = form_post(client, "/signup", {**GOOD, "name": "ع", "confirm": GOOD["password"]}).get_data(as_text=True)
    assert "يجب على طول الحقل" not in html  # WTForms' own wording
    assert "يجب أن يكون طول النص بين 2 و120 حرفًا." in html
