"""Signing in and out on the pages: sessions, CSRF, redirects, throttling, languages."""

import pytest

from tests import factories
from tests.conftest import form_post


def test_login_with_the_right_password_opens_the_account(client, make_user, login_as):
    user = make_user(name="Maryam Hasan")
    login_as(user)
    assert "Maryam Hasan" in client.get("/account").get_data(as_text=True)


def test_login_with_a_wrong_password_is_refused(client, make_user):
    user = make_user()
    response = form_post(client, "/login", {"email": user.email, "password": "Wrong-password-1"})
    assert response.status_code == 401
    assert client.get("/account").status_code == 302  # still signed out


def test_login_for_unknown_email_looks_the_same_as_a_wrong_password(client, make_user):
    user = make_user()
    wrong = form_post(client, "/login", {"email": user.email, "password": "Wrong-password-1"})
    unknown = form_post(client, "/login", {"email": "nobody@example.com", "password": "Wrong-password-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data(as_text=True).count("flash-error") == unknown.get_data(as_text=True).count("flash-error")


def test_forms_without_csrf_token_are_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_disabled_account_cannot_sign_in(client, make_user):
    user = make_user(is_disabled=True)
    response = form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("target, expected", [
    ("/account", "/account"),
    ("https://evil.example.com/", "/"),
    ("//evil.example.com/", "/"),
    ("/\\evil.example.com", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirects_only_to_local_paths(client, make_user, target, expected):
    user = make_user()
    response = form_post(client, f"/login?next={target}", {"email": user.email, "password": factories.PASSWORD},
                         page="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_account_page_requires_login_and_comes_back_after(client, make_user):
    response = client.get("/account")
    assert response.status_code == 302 and "/login?next=%2Faccount" in response.headers["Location"]


def test_logout_ends_the_session_server_side(client, make_user, login_as, app):
    user = make_user()
    login_as(user)
    stolen = client.get_cookie("session").value
    response = form_post(client, "/logout", {}, page="/account")
    assert response.status_code == 302, response.get_data(as_text=True)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/account").status_code == 302  # the copied cookie no longer works


def test_password_change_signs_out_other_devices(client, make_user, login_as, app):
    user = make_user()
    login_as(user)
    other = app.test_client()
    form_post(other, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert other.get("/account").status_code == 200
    response = form_post(client, "/account/password",
                         {"current_password": factories.PASSWORD, "new_password": "Brand-new-secret-8"},
                         page="/account")
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this device stays signed in
    assert other.get("/account").status_code == 302
    fresh = app.test_client()
    assert form_post(fresh, "/login", {"email": user.email, "password": "Brand-new-secret-8"}).status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user, login_as):
    user = make_user()
    html = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "csrf_token": csrf_token_from(html)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_remember_me_is_off_unless_chosen(client, make_user):
    user = make_user()
    response = form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert not any("remember_token" in c for c in response.headers.getlist("Set-Cookie"))


def test_repeated_failed_logins_are_throttled_before_hashing(client, make_user):
    user = make_user()
    # Spread over several addresses: this is the per-client limit (tests/auth/test_throttle.py has the per-account one).
    statuses = [form_post(client, "/login", {"email": f"guess{i % 4}@example.com", "password": f"Wrong-{i}-pass"}
                          ).status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Even the right password waits until the window passes.
    assert form_post(client, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 429


def test_language_choice_is_remembered(client):
    assert 'lang="en" dir="ltr"' in client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en" dir="ltr"' in client.get("/login").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in client.get("/login?lang=ar").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in client.get("/").get_data(as_text=True)


def test_staff_page_is_forbidden_to_residents_and_open_to_staff(client, make_user, login_as, app):
    login_as(make_user())
    assert client.get("/staff/").status_code == 403
    staff_client = app.test_client()
    from majlis.enums import Role

    staff = make_user(role=Role.STAFF)
    form_post(staff_client, "/login", {"email": staff.email, "password": factories.PASSWORD})
    assert staff_client.get("/staff/").status_code == 200


def test_staff_page_sends_anonymous_visitors_to_sign_in(client):
    assert client.get("/staff/").status_code == 401
