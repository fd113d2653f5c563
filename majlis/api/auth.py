"""/api/v1/auth/* and /api/v1/me."""

from __future__ import annotations

from flask import g, jsonify, url_for

from majlis.api import api_user, bp, json_body
from majlis.api.serializers import user_to_dict
from majlis.auth import services
from majlis.auth.views import LOGIN_LIMIT, RESEND_LIMIT, SIGNUP_LIMIT, account_policy, sign_in_again
from majlis.db import unit_of_work
from majlis.errors import InvalidInput, Unauthorized
from majlis.extensions import rate_limit
from majlis.timeutil import utcnow


def _string(data: dict, key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field=key)
    return value


@bp.post("/auth/signup")
@rate_limit(SIGNUP_LIMIT)
def signup():
    data = json_body()
    with unit_of_work() as db_session:
        user = services.sign_up(
            db_session,
            email=_string(data, "email"),
            name=_string(data, "name"),
            password=_string(data, "password"),
            phone=_string(data, "phone", required=False),
            area=data.get("area"),
            policy=account_policy(),
            now=utcnow(),
        )
    return jsonify(user_to_dict(user)), 201, {"Location": url_for("api.me")}


@bp.post("/auth/verify")
@rate_limit(LOGIN_LIMIT, deduct_when=lambda response: response.status_code >= 400)
def verify():
    data = json_body()
    with unit_of_work() as db_session:
        user = services.verify_email(db_session, email=_string(data, "email"), code=_string(data, "code"),
                                     policy=account_policy(), now=utcnow())
    return jsonify(user_to_dict(user))


@bp.post("/auth/verify/resend")
@rate_limit(RESEND_LIMIT)
def resend_code():
    data = json_body()
    with unit_of_work() as db_session:
        services.resend_verification_code(db_session, email=_string(data, "email"), policy=account_policy(),
                                          now=utcnow())
    # Accepted whether or not a code went out: the answer says nothing about the address.
    return "", 202


@bp.post("/auth/token")
@rate_limit(LOGIN_LIMIT, deduct_when=lambda response: response.status_code in (401, 403))
def create_token():
    data = json_body()
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise Unauthorized(code="bad_credentials")
    label = data.get("label") or ""
    if not isinstance(label, str):
        raise InvalidInput(field="label")
    with unit_of_work() as db_session:
        user = services.authenticate(db_session, email=email, password=password, policy=account_policy(),
                                     now=utcnow())
        token, record = services.issue_api_token(db_session, user, label=label, policy=account_policy(),
                                                 now=utcnow())
    return jsonify({"token": token, "expires_at": record.expires_at.isoformat()}), 201


@bp.delete("/auth/token")
def revoke_token():
    user = api_user()
    if g.api_token is None:
        raise InvalidInput("This request was not made with a bearer token.", code="no_bearer_token")
    with unit_of_work() as db_session:
        record = db_session.merge(g.api_token)
        services.revoke_api_token(db_session, record, actor=user, now=utcnow())
    return "", 204


@bp.get("/me")
def me():
    return jsonify(user_to_dict(api_user()))


@bp.post("/me/password")
@rate_limit(LOGIN_LIMIT, deduct_when=lambda response: response.status_code in (400, 429))
def change_password():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        services.change_password(db_session, user, current=_string(data, "current_password"),
                                 new=_string(data, "new_password"), policy=account_policy(), now=utcnow(),
                                 keep_token=g.api_token)
    if g.api_token is None:  # a browser session made the change: it alone continues, under the new session token
        sign_in_again(user)
    return "", 204
