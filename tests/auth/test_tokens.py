"""API bearer tokens: issuing, using, revoking; /api/v1/me; roles on the API."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from majlis.auth.models import ApiToken
from majlis.db import unit_of_work
from majlis.enums import Role
from tests import factories
from tests.conftest import form_post


def test_token_for_good_credentials_works_on_me(client, make_user):
    user = make_user(name="Ali Hasan")
    response = client.post("/api/v1/auth/token", json={"email": user.email.upper(), "password": factories.PASSWORD,
                                                       "label": "my phone"})
    assert response.status_code == 201
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    expected = {"id": user.id, "email": user.email, "name": "Ali Hasan", "role": "resident"}
    assert me.get_json().items() >= expected.items()


def test_only_a_hash_of_the_token_is_stored(client, make_user, db):
    user = make_user()
    token = client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD}
                        ).get_json()["token"]
    db.rollback()
    record = db.scalar(select(ApiToken))
    assert token not in (record.token_hash, record.prefix)
    assert len(record.token_hash) == 64


def test_wrong_password_is_401_bad_credentials(client, make_user):
    user = make_user()
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "Not-the-one-9"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_credentials"


def test_missing_credentials_are_401(client):
    response = client.post("/api/v1/auth/token", json={"email": 5})
    assert response.status_code == 401


def test_unknown_or_malformed_token_is_401(client):
    for header in ("Bearer mj_not-a-real-token", "Basic abc", "Bearer "):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]["code"] == "invalid_token"


def test_no_auth_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/bodies").status_code == 401


def test_revoked_token_is_401(client, make_user, api_token):
    headers = api_token(make_user())
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401


def test_expired_token_is_401(client, make_user, api_token, db):
    headers = api_token(make_user())
    with unit_of_work(db):
        db.scalar(select(ApiToken)).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_token_of_a_disabled_user_is_401(client, make_user, api_token, db):
    user = make_user()
    headers = api_token(user)
    with unit_of_work(db):
        db.merge(user).is_disabled = True
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_repeated_failed_token_requests_get_429(client, make_user):
    user = make_user()
    # Spread over several addresses: this is the per-client limit (tests/auth/test_throttle.py has the per-account one).
    statuses = [client.post("/api/v1/auth/token", json={"email": f"guess{i % 4}@example.com",
                                                        "password": f"Wrong-{i}-x"}).status_code for i in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response.headers


def test_bodies_lists_government_bodies(client, make_user, make_body, api_token):
    make_body(code="ewa", name_ar="هيئة الكهرباء والماء", name_en="Electricity and Water Authority")
    response = client.get("/api/v1/bodies", headers=api_token(make_user()))
    assert response.status_code == 200
    assert {"name_ar": "هيئة الكهرباء والماء", "name_en": "Electricity and Water Authority"}.items() <= \
        response.get_json()["bodies"][0].items()


def test_session_cookie_api_calls_need_csrf_for_changes(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/api/v1/me").status_code == 200
    response = client.delete("/api/v1/auth/token")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_account_page_creates_shows_once_and_revokes_tokens(client, make_user, login_as, db):
    login_as(make_user())
    response = form_post(client, "/account/tokens", {"label": "tablet"}, page="/account")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    import re

    token = re.search(r'class="token">(mj_[A-Za-z0-9_\-]+)<', page).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in client.get("/account").get_data(as_text=True)  # shown once only
    db.rollback()
    record = db.scalar(select(ApiToken))
    response = form_post(client, f"/account/tokens/{record.id}/revoke", {}, page="/account")
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cannot_revoke_another_users_token(client, make_user, login_as, api_token, db):
    owner_headers = api_token(make_user())
    login_as(make_user())
    record = db.scalar(select(ApiToken))
    response = form_post(client, f"/account/tokens/{record.id}/revoke", {}, page="/account")
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=owner_headers).status_code == 200


def test_official_must_belong_to_a_body(db, make_body):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with unit_of_work(db):
            factories.user(db, role=Role.OFFICIAL, body=None)
