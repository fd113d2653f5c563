"""/api/v1/auth/* and /api/v1/me."""

from __future__ import annotations

from flask import current_app, g, jsonify, url_for

from majlis.api import api_user, bp, json_body
from majlis.api.spec import ANY_USER, ANYONE, NO_CONTENT, documented, ok
from majlis.auth import schemas, services
from majlis.auth.services import AccountPolicy
from majlis.auth.views import LOGIN_LIMIT, RESEND_LIMIT, SIGNUP_LIMIT, sign_in_again
from majlis.db import unit_of_work
from majlis.errors import InvalidInput
from majlis.schema_types import N_
from majlis.timeutil import utcnow


def _policy() -> AccountPolicy:
    return AccountPolicy.from_config(current_app.config)


@bp.post("/auth/signup")
@documented(N_("Create a resident account"), who=ANYONE, tag="accounts", public=True, rate_limit=SIGNUP_LIMIT,
            body=schemas.SignUpInput,
            responses=ok(schemas.User, "The new account (verified unless e-mail verification is required)",
                         status=201, location=True),
            description="An address held by an account that was never confirmed is not taken: the new sign-up "
                        "replaces that account and a fresh code goes to the address.",
            errors={400: ["invalid_input", "weak_password", "invalid_name", "name_reserved"], 409: ["email_taken"]},
            refusals=("email", "name", "password", "phone", "area"))
def signup():
    data = json_body()
    with unit_of_work() as db_session:
        user = services.sign_up(
            db_session,
            email=data.get("email"),
            name=data.get("name"),
            password=data.get("password"),
            phone=data.get("phone"),
            area=data.get("area"),
            policy=_policy(),
            now=utcnow(),
        )
    return jsonify(schemas.User.dump(user)), 201, {"Location": url_for("api.me")}


@bp.post("/auth/verify")
@documented(N_("Confirm an e-mail address with the mailed code"), who=ANYONE, tag="accounts", public=True,
            rate_limit=LOGIN_LIMIT, limit_deduct=lambda response: response.status_code >= 400,
            description="Needed only when MAJLIS_EMAIL_VERIFICATION=required. An unknown address, an account already "
                        "confirmed and a wrong code get the same answer; every failure counts toward the account's "
                        "throttle, shared with sign-in.",
            body=schemas.VerifyInput, responses=ok(schemas.User, "The account, now verified"),
            errors={400: ["invalid_input", "bad_code"], 429: ["too_many_attempts"]},
            refusals=("email", "code"))
def verify():
    data = json_body()
    with unit_of_work() as db_session:
        user = services.verify_email(db_session, email=data.get("email"), code=data.get("code"),
                                     policy=_policy(), now=utcnow())
    return jsonify(schemas.User.dump(user))


@bp.post("/auth/verify/resend")
@documented(N_("Send a new verification code"), who=ANYONE, tag="accounts", public=True, rate_limit=RESEND_LIMIT,
            description="Accepted whatever the address: a code goes out only to an account waiting for confirmation, "
                        "at most once a minute and five times a day.",
            body=schemas.ResendInput,
            responses=ok(None, "Accepted; a code is sent if an account is waiting for one", status=202),
            errors={400: ["invalid_input"]},
            refusals=("email",))
def resend_code():
    data = json_body()
    with unit_of_work() as db_session:
        services.resend_verification_code(db_session, email=data.get("email"), policy=_policy(),
                                          now=utcnow())
    # Accepted whether or not a code went out: the answer says nothing about the address.
    return "", 202


@bp.post("/auth/token")
@documented(N_("Sign in and get a bearer token"), who=ANYONE, tag="accounts", public=True, rate_limit=LOGIN_LIMIT,
            limit_deduct=lambda response: response.status_code in (401, 403),
            body=schemas.TokenInput,
            description="After repeated failures the account is locked for a growing delay (429 `too_many_attempts` "
                        "with Retry-After), whatever the client's address.",
            responses=ok(schemas.Token, "The token", status=201),
            errors={400: ["invalid_input"], 401: ["bad_credentials"], 403: ["account_disabled", "email_unverified"],
                    429: ["too_many_attempts"]},
            refusals=("label",))
def create_token():
    data = json_body()
    with unit_of_work() as db_session:
        user = services.authenticate(db_session, email=data.get("email"), password=data.get("password"),
                                     policy=_policy(), now=utcnow())
        token, record = services.issue_api_token(db_session, user, label=data.get("label"), policy=_policy(),
                                                 now=utcnow())
    return jsonify({"token": token, "expires_at": record.expires_at.isoformat()}), 201


@bp.delete("/auth/token")
@documented(N_("Revoke the bearer token used for this request"), who=ANY_USER, tag="accounts",
            responses=NO_CONTENT, errors={400: ["no_bearer_token"]})
def revoke_token():
    user = api_user()
    if g.api_token is None:
        raise InvalidInput("This request was not made with a bearer token.", code="no_bearer_token")
    with unit_of_work() as db_session:
        record = services.own_api_token(db_session, user, g.api_token.id)
        services.revoke_api_token(db_session, record, actor=user, now=utcnow())
    return "", 204


@bp.get("/me")
@documented(N_("Read the signed-in account"), who=ANY_USER, tag="accounts", responses=ok(schemas.User))
def me():
    return jsonify(schemas.User.dump(api_user()))


@bp.post("/me/password")
@documented(N_("Change the password"), who=ANY_USER, tag="accounts", rate_limit=LOGIN_LIMIT,
            limit_deduct=lambda response: response.status_code in (400, 429),
            description="Every other session and API token of the account ends; the token (or browser session) "
                        "making the change stays valid.",
            body=schemas.PasswordInput, responses=NO_CONTENT,
            errors={400: ["invalid_input", "weak_password", "wrong_password"], 429: ["too_many_attempts"]},
            refusals=("current_password", "new_password"))
def change_password():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        services.change_password(db_session, user, current=data.get("current_password"),
                                 new=data.get("new_password"), policy=_policy(), now=utcnow(),
                                 keep_token=g.api_token)
    if g.api_token is None:  # a browser session made the change: it alone continues, under the new session token
        sign_in_again(user)
    return "", 204
