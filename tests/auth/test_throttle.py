"""The per-account throttle: kept in the database, shared by the form login, the token endpoint, verification and
password checks, whatever address the attempts come from; other accounts unaffected; a success clears it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from majlis import create_app
from majlis.auth import throttle
from tests import factories
from tests.conftest import form_post

WRONG = "Wrong-password-1"


def from_address(n: int) -> dict:
    """A different client address for every attempt: the per-address limit never comes into play."""
    return {"environ_base": {"REMOTE_ADDR": f"203.0.113.{n}"}}


def token_attempt(client, email, password, n):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password}, **from_address(n))


def lock(client, email, start=0):
    for n in range(start, start + throttle.FREE_FAILURES):
        assert token_attempt(client, email, WRONG, n).status_code == 401


def retry_after(response) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    return int(response.headers["Retry-After"])


def test_repeated_failures_lock_the_account_whatever_the_client_address(client, make_user):
    user = make_user()
    lock(client, user.email)
    response = token_attempt(client, user.email, factories.PASSWORD, 99)  # even the right password waits
    assert 0 < retry_after(response) <= throttle.FIRST_DELAY.total_seconds()
    error = response.get_json()["error"]
    assert error["code"] == "too_many_attempts" and error["message"]


def test_form_login_token_endpoint_and_verification_share_one_count(client, app, make_user):
    user = make_user()
    other_browser = app.test_client()
    for n in range(2):
        assert form_post(client, "/login", {"email": user.email, "password": WRONG}, **from_address(n)
                         ).status_code == 401
    for n in range(2, 4):
        assert token_attempt(client, user.email, WRONG, n).status_code == 401
    verify = client.post("/api/v1/auth/verify", json={"email": user.email, "code": "123456"}, **from_address(4))
    assert verify.status_code == 400
    page = form_post(other_browser, "/login", {"email": user.email, "password": factories.PASSWORD},
                     **from_address(5))
    assert retry_after(page) > 0
    assert page.mimetype == "text/html"


def test_the_delay_grows_with_each_failure_after_the_lock(client, make_user):
    user = make_user()
    lock(client, user.email)
    delays = [retry_after(token_attempt(client, user.email, WRONG, 50))]
    moment = datetime.now(UTC)
    for n in range(3):
        moment += timedelta(seconds=delays[-1] + 1)  # wait it out, then fail once more
        with time_machine.travel(moment, tick=False):
            assert token_attempt(client, user.email, WRONG, 60 + n).status_code == 401
            delays.append(retry_after(token_attempt(client, user.email, factories.PASSWORD, 70 + n)))
    assert delays == sorted(delays) and len(set(delays)) == len(delays)


def test_other_accounts_are_unaffected(client, make_user):
    locked, other = make_user(), make_user()
    lock(client, locked.email)
    assert token_attempt(client, locked.email, factories.PASSWORD, 20).status_code == 429
    assert token_attempt(client, other.email, factories.PASSWORD, 21).status_code == 201


def test_a_success_clears_the_count(client, make_user):
    user = make_user()
    for n in range(throttle.FREE_FAILURES - 1):
        assert token_attempt(client, user.email, WRONG, n).status_code == 401
    assert token_attempt(client, user.email, factories.PASSWORD, 10).status_code == 201
    for n in range(throttle.FREE_FAILURES - 1):
        assert token_attempt(client, user.email, WRONG, 20 + n).status_code == 401
    assert token_attempt(client, user.email, factories.PASSWORD, 30).status_code == 201


def test_addresses_without_an_account_are_throttled_alike(client, make_user):
    """A 429 must not tell which addresses have accounts."""
    lock(client, "nobody@example.com")
    assert retry_after(token_attempt(client, "nobody@example.com", WRONG, 40)) > 0


def test_the_count_holds_across_workers_without_redis(app_config, make_user):
    """Two app instances (two workers, or two hosts) on one database, each with its own in-memory rate limits."""
    user = make_user()
    workers = [create_app(app_config).test_client(), create_app(app_config).test_client()]
    for n in range(throttle.FREE_FAILURES):
        assert token_attempt(workers[n % 2], user.email, WRONG, n).status_code == 401
    assert token_attempt(workers[1], user.email, factories.PASSWORD, 9).status_code == 429
    assert token_attempt(workers[0], user.email, factories.PASSWORD, 10).status_code == 429


def test_a_locked_account_is_refused_before_any_password_is_hashed(client, make_user, monkeypatch):
    from majlis.auth import services

    user = make_user()
    lock(client, user.email)
    checked = []
    monkeypatch.setattr(services, "verify_password", lambda *args: checked.append(args) or True)
    assert token_attempt(client, user.email, factories.PASSWORD, 30).status_code == 429
    assert checked == []


@pytest.mark.parametrize("route", ["/api/v1/me/password", "/account/delete"])
def test_wrong_current_passwords_count_too(app, client, make_user, login_as, api_token, route):
    """A stolen session or token must not become a way to guess the account's password."""
    user = make_user()
    headers = api_token(user)
    login_as(user)
    for _attempt in range(throttle.FREE_FAILURES):
        if route.startswith("/api/"):
            response = client.post(route, json={"current_password": WRONG, "new_password": "Brand-new-secret-8"},
                                   headers=headers)
            assert response.status_code == 400
        else:
            assert form_post(client, route, {"password": WRONG}, page="/account").status_code == 302
    assert token_attempt(app.test_client(), user.email, factories.PASSWORD, 50).status_code == 429
    assert client.get("/account").status_code == 200  # the lock stops guesses; it does not end the session
