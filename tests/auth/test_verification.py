"""E-mail verification reveals no account; an unconfirmed sign-up does not hold its address; codes can be re-sent."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from majlis.auth import services
from majlis.auth.models import User
from majlis.notifications.models import OutboxMessage
from scheduler.runner import run_due
from tests.conftest import csrf_token_from, form_post

SQUATTER = {"email": "fatima.ali@example.com", "name": "Someone Else", "password": "Squatter-pass-91"}
OWNER = {"email": "Fatima.Ali@example.com", "name": "فاطمة علي", "password": "Sanabis-garden-42"}


@pytest.fixture
def verifying_app(app):
    app.config["MAJLIS_EMAIL_VERIFICATION"] = "required"
    return app


def codes_sent(db, email="fatima.ali@example.com") -> list[str]:
    """The verification codes queued for the account holding `email`, oldest first."""
    db.rollback()
    notices = db.scalars(select(OutboxMessage).join(User, User.id == OutboxMessage.user_id)
                         .where(User.email == email, OutboxMessage.kind == "email_verification")
                         .order_by(OutboxMessage.id)).all()
    return [_code_of(notice) for notice in notices]


def _code_of(notice) -> str:
    params = getattr(notice, "params", None)  # notices written as kind and parameters carry the code there
    if params and "code" in params:
        return params["code"]
    return re.search(r"\b(\d{6})\b", notice.body_text).group(1)


def users(db) -> list[User]:
    db.rollback()
    return db.scalars(select(User).order_by(User.id)).all()


def later(**delta):
    return time_machine.travel(datetime.now(UTC) + timedelta(**delta), tick=False)


# --- hole 1: verification reveals nothing ---------------------------------------------------------------------------


def test_verifying_a_confirmed_account_answers_like_a_wrong_code(client, make_user):
    user = make_user(name="Maryam Hasan")
    confirmed = client.post("/api/v1/auth/verify", json={"email": user.email, "code": "123456"})
    unknown = client.post("/api/v1/auth/verify", json={"email": "nobody@example.com", "code": "123456"})
    assert confirmed.status_code == unknown.status_code == 400
    assert confirmed.get_json() == unknown.get_json()
    assert confirmed.get_json()["error"]["code"] == "bad_code"
    assert "Maryam" not in confirmed.get_data(as_text=True) and "resident" not in confirmed.get_data(as_text=True)


def test_the_verify_page_answers_a_confirmed_account_like_a_wrong_code(client, make_user):
    user = make_user()
    confirmed = form_post(client, "/verify", {"email": user.email, "code": "123456"})
    unknown = form_post(client, "/verify", {"email": "nobody@example.com", "code": "123456"})
    assert confirmed.status_code == unknown.status_code == 400
    assert 'id="code-error"' in confirmed.get_data(as_text=True)


def test_verification_attempts_on_a_confirmed_account_are_throttled(client, make_user):
    user = make_user()
    statuses = [client.post("/api/v1/auth/verify", json={"email": user.email, "code": f"{n:06d}"},
                            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code for n in range(6)]
    assert statuses == [400] * 5 + [429]


# --- hole 4: an unconfirmed sign-up does not hold its address --------------------------------------------------------


def test_a_new_signup_replaces_an_unconfirmed_account_with_a_fresh_code(verifying_app, client, db):
    first = client.post("/api/v1/auth/signup", json=SQUATTER)
    assert first.status_code == 201
    [squatters_code] = codes_sent(db)
    second = client.post("/api/v1/auth/signup", json=OWNER, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert second.status_code == 201 and second.get_json()["verified"] is False
    [account] = users(db)
    assert account.name == "فاطمة علي"
    # a minute has not passed: the code already mailed to the address stays the one to use
    assert codes_sent(db) == [squatters_code]
    with later(minutes=2):
        assert client.post("/api/v1/auth/signup", json=OWNER).status_code == 201
        squatters, owners = codes_sent(db)
        assert squatters == squatters_code
        assert client.post("/api/v1/auth/verify", json={"email": OWNER["email"], "code": squatters}
                           ).status_code == 400
        assert client.post("/api/v1/auth/verify", json={"email": OWNER["email"], "code": owners}).status_code == 200
        assert client.post("/api/v1/auth/token", json={"email": OWNER["email"], "password": OWNER["password"]}
                           ).status_code == 201
        assert client.post("/api/v1/auth/token", json={"email": OWNER["email"], "password": SQUATTER["password"]}
                           ).status_code == 401
    assert len(users(db)) == 1


def test_a_confirmed_address_stays_taken(verifying_app, client, make_user):
    make_user(email="fatima.ali@example.com")
    response = client.post("/api/v1/auth/signup", json=OWNER)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "email_taken"


def test_the_signup_page_replaces_an_unconfirmed_account_too(verifying_app, client, db):
    assert client.post("/api/v1/auth/signup", json=SQUATTER).status_code == 201
    response = form_post(client, "/signup", {**OWNER, "confirm": OWNER["password"]})
    assert response.status_code == 302 and "/verify" in response.headers["Location"]
    assert [u.name for u in users(db)] == ["فاطمة علي"]


def test_unconfirmed_accounts_expire_after_the_configured_hours(verifying_app, client, db):
    verifying_app.config["MAJLIS_UNVERIFIED_HOURS"] = 2
    credentials = {"email": SQUATTER["email"], "password": SQUATTER["password"]}
    assert client.post("/api/v1/auth/signup", json=SQUATTER).status_code == 201
    within = client.post("/api/v1/auth/token", json=credentials)
    assert within.status_code == 403 and within.get_json()["error"]["code"] == "email_unverified"
    with later(hours=2, minutes=1):
        # past its time the account holds nothing: not its password, not a new code
        assert client.post("/api/v1/auth/token", json=credentials).status_code == 401
        assert client.post("/api/v1/auth/verify/resend", json={"email": SQUATTER["email"]}).status_code == 202
        assert len(codes_sent(db)) == 1
        run_due(verifying_app, now=datetime.now(UTC))
    assert users(db) == []


def test_expiry_keeps_confirmed_accounts_and_does_nothing_without_verification(app, db, make_user):
    old = datetime.now(UTC) - timedelta(days=30)
    make_user(is_verified=False, created_at=old)  # verification off: a real account that may sign in
    make_user(is_verified=True, created_at=old)
    run_due(app, now=datetime.now(UTC))
    assert len(users(db)) == 2
    app.config["MAJLIS_EMAIL_VERIFICATION"] = "required"
    run_due(app, now=datetime.now(UTC))
    assert [u.is_verified for u in users(db)] == [True]


# --- hole 4: codes can be re-sent, throttled -------------------------------------------------------------------------


def test_a_code_can_be_resent_at_most_once_a_minute(verifying_app, client, db):
    client.post("/api/v1/auth/signup", json=OWNER)
    resend = {"email": OWNER["email"]}
    assert client.post("/api/v1/auth/verify/resend", json=resend).status_code == 202
    assert len(codes_sent(db)) == 1  # the sign-up's code is less than a minute old
    with later(minutes=2):
        assert client.post("/api/v1/auth/verify/resend", json=resend).status_code == 202
        first, fresh = codes_sent(db)
        assert client.post("/api/v1/auth/verify", json={"email": OWNER["email"], "code": first}).status_code == 400
        assert client.post("/api/v1/auth/verify", json={"email": OWNER["email"], "code": fresh}).status_code == 200


def test_no_more_than_five_codes_a_day(verifying_app, client, db):
    client.post("/api/v1/auth/signup", json=OWNER)
    start = datetime.now(UTC)
    for n in range(1, 8):
        with time_machine.travel(start + timedelta(minutes=2 * n), tick=False):
            client.post("/api/v1/auth/verify/resend", json={"email": OWNER["email"]},
                        environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    assert len(codes_sent(db)) == services.CODES_PER_DAY


@pytest.mark.parametrize("email", ["nobody@example.com", "confirmed@example.com", "fatima.ali@example.com"])
def test_resend_answers_the_same_whatever_the_address(verifying_app, client, db, make_user, email):
    make_user(email="confirmed@example.com")
    client.post("/api/v1/auth/signup", json=OWNER)
    with later(minutes=2):
        response = client.post("/api/v1/auth/verify/resend", json={"email": email})
    assert response.status_code == 202 and response.data == b""
    assert len(codes_sent(db, email)) == (2 if email == "fatima.ali@example.com" else 0)


def test_resend_is_limited_per_client(verifying_app, client):
    statuses = [client.post("/api/v1/auth/verify/resend", json={"email": f"x{n}@example.com"}).status_code
                for n in range(11)]
    assert statuses == [202] * 10 + [429]


def test_the_verify_page_sends_a_new_code(verifying_app, client, db):
    client.get("/?lang=en")  # remembered: the flashed message is written in English
    form_post(client, "/signup", {**OWNER, "confirm": OWNER["password"]})
    page = client.get("/verify?email=fatima.ali%40example.com").get_data(as_text=True)
    assert 'action="/verify/resend"' in page
    with later(minutes=2):
        response = client.post("/verify/resend", data={"resend-email": OWNER["email"],
                                                      "resend-csrf_token": csrf_token_from(page)})
        assert response.status_code == 302 and "/verify" in response.headers["Location"]
        assert len(codes_sent(db)) == 2
        followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "a new code is on its way" in followed


def test_codes_counted_per_address_whoever_signs_up(verifying_app, client, db):
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    for n in range(3):
        client.post("/api/v1/auth/signup", json=OWNER, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    assert len(codes_sent(db)) == 1  # three sign-ups within a minute: one code, not three
