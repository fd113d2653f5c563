"""A password change, on the account page or through POST /api/v1/me/password, ends every other session and API
token of the account; the one making the change continues."""

import pytest
from sqlalchemy import select

from majlis.auth.models import ApiToken
from tests import factories
from tests.conftest import csrf_token_from, form_post

NEW = "Brand-new-secret-8"


def me(client, headers=None):
    return client.get("/api/v1/me", headers=headers or {}).status_code


@pytest.fixture
def account(app, make_user, api_token):
    """A user with two API tokens and a browser signed in elsewhere."""
    user = make_user()
    elsewhere = app.test_client()
    assert form_post(elsewhere, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 302
    return user, api_token(user), api_token(user), elsewhere


def test_the_api_change_revokes_every_other_token_and_session(client, account):
    user, phone, tablet, elsewhere = account
    response = client.post("/api/v1/me/password", json={"current_password": factories.PASSWORD, "new_password": NEW},
                           headers=phone)
    assert response.status_code == 204 and response.data == b""
    assert me(client, phone) == 200  # the token that made the change
    assert me(client, tablet) == 401
    assert elsewhere.get("/account").status_code == 302
    assert client.post("/api/v1/auth/token", json={"email": user.email, "password": NEW}).status_code == 201
    assert client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD}
                       ).status_code == 401


def test_the_api_change_from_a_browser_session_keeps_that_session(client, account, login_as):
    user, phone, tablet, elsewhere = account
    login_as(user)
    csrf = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post("/api/v1/me/password", json={"current_password": factories.PASSWORD, "new_password": NEW},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 204
    assert client.get("/account").status_code == 200
    assert me(client, phone) == me(client, tablet) == 401
    assert elsewhere.get("/account").status_code == 302


@pytest.mark.parametrize("body, field, code", [
    ({"current_password": "Not-my-password-1", "new_password": NEW}, "current_password", "wrong_password"),
    ({"current_password": factories.PASSWORD, "new_password": "12345678"}, "new_password", "weak_password"),
    ({"new_password": NEW}, "current_password", "invalid_input"),
    ({"current_password": factories.PASSWORD}, "new_password", "invalid_input"),
])
def test_a_refused_change_changes_nothing(client, db, account, body, field, code):
    user, phone, tablet, elsewhere = account
    response = client.post("/api/v1/me/password", json=body, headers=phone)
    assert response.status_code == 400
    assert (response.get_json()["error"]["field"], response.get_json()["error"]["code"]) == (field, code)
    assert me(client, tablet) == 200 and elsewhere.get("/account").status_code == 200
    db.rollback()
    assert db.scalars(select(ApiToken.revoked_at)).all() == [None, None]


def test_the_api_change_needs_a_signed_in_caller(client):
    response = client.post("/api/v1/me/password", json={"current_password": "x", "new_password": NEW})
    assert response.status_code == 401


def test_the_page_change_revokes_every_api_token_and_says_so(client, account, login_as):
    user, phone, tablet, elsewhere = account
    login_as(user)
    assert "revokes all your API tokens" in client.get("/account?lang=en").get_data(as_text=True)
    response = form_post(client, "/account/password", {"current_password": factories.PASSWORD, "new_password": NEW},
                         page="/account")
    assert response.status_code == 302
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "all your API tokens revoked" in page and "You have no active tokens." in page
    assert me(client, phone) == me(client, tablet) == 401
    assert elsewhere.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
