"""/api/v1/me/notifications, /me/push-subscriptions and /me/phone: by which channels, and where, a user is reached."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from majlis.api import api_user, bp, json_body
from majlis.api.spec import ANY_USER, NO_CONTENT, documented, ok
from majlis.db import get_db, unit_of_work
from majlis.notifications import phone, preferences, push, schemas
from majlis.schema_types import N_
from majlis.templating import current_lang
from majlis.timeutil import utcnow

# A code costs an SMS: few per user (the service counts them per hour too), and few failed guesses.
PHONE_CODE_LIMIT = "3 per 10 minutes; 10 per day"
PHONE_VERIFY_LIMIT = "10 per 10 minutes"


def _user_key() -> str:
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


@bp.get("/me/notifications")
@documented(N_("Read my notification choices: each kind of notice and its channels"), who=ANY_USER, tag="notifications",
            responses=ok(schemas.NotificationChoices),
            description="A kind the user never set shows the default: e-mail, plus push and SMS once set up.")
def get_notification_choices():
    return jsonify(preferences.choices_of(get_db(), api_user()))


@bp.put("/me/notifications")
@documented(N_("Choose the channels of kinds of notice"), who=ANY_USER, tag="notifications",
            description="The kinds given are set, the others keep theirs. A channel not set up yet (no push "
                        "subscription, no verified number) may be chosen: it carries the notices once it is.",
            body=schemas.ChoicesInput, responses=ok(schemas.NotificationChoices, "Every kind with its channels"),
            errors={400: ["invalid_input"]})
def put_notification_choices():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        choices = preferences.set_choices(db_session, user, data, now=utcnow())
    return jsonify(choices)


@bp.get("/me/push-subscriptions")
@documented(N_("List my Web Push subscriptions"), who=ANY_USER, tag="notifications",
            responses=ok(schemas.PushSubscriptionList))
def list_push_subscriptions():
    subscriptions = push.subscriptions_of(get_db(), api_user())
    return jsonify({"subscriptions": [schemas.PushSubscription.dump(s) for s in subscriptions]})


@bp.post("/me/push-subscriptions")
@documented(N_("Register a Web Push subscription (a browser's or the app's)"), who=ANY_USER, tag="notifications",
            description="The subscription as the Push API gives it (`PushSubscription.toJSON()`), for the server's "
                        "key (MAJLIS_VAPID_PUBLIC_KEY). The endpoint must be https:// (http only on a loopback "
                        "address, outside production). The same endpoint again replaces its keys.",
            body=schemas.SubscriptionInput, responses=ok(schemas.PushSubscription, "The subscription", status=201),
            errors={400: ["invalid_input"], 503: ["push_not_configured"]},
            refusals=("endpoint", "keys", "p256dh", "auth"))
def add_push_subscription():
    user = api_user()
    data = json_body()
    config = current_app.config
    with unit_of_work() as db_session:
        subscription = push.subscribe(db_session, user, data, production=config["MAJLIS_ENV"] == "production",
                                      configured=push.is_configured(config), now=utcnow())
    return jsonify(schemas.PushSubscription.dump(subscription)), 201


@bp.delete("/me/push-subscriptions")
@documented(N_("Remove a Web Push subscription"), who=ANY_USER, tag="notifications", body=schemas.EndpointInput,
            responses=NO_CONTENT, errors={400: ["invalid_input"]},
            refusals=("endpoint",))
def remove_push_subscription():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        push.unsubscribe(db_session, user, data.get("endpoint"))
    return "", 204


@bp.post("/me/phone")
@documented(N_("Send a code by SMS to a mobile number"), who=ANY_USER, tag="notifications",
            rate_limit=PHONE_CODE_LIMIT, limit_key=_user_key,
            description="A 6-digit code, valid 10 minutes; at most five codes an hour.",
            body=schemas.PhoneInput, responses=ok(schemas.PhoneCodeSent, "The code is on its way", status=202),
            errors={400: ["invalid_input"], 429: ["too_many_codes"]},
            refusals=("phone",))
def request_phone_code():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        number = phone.request_code(db_session, user, data.get("phone"), secret=current_app.config["SECRET_KEY"],
                                    lang=current_lang(), now=utcnow())
    return jsonify({"phone": number, "expires_in": int(phone.CODE_TTL.total_seconds())}), 202


@bp.post("/me/phone/verify")
@documented(N_("Verify my mobile number with the code sent"), who=ANY_USER, tag="notifications",
            rate_limit=PHONE_VERIFY_LIMIT, limit_key=_user_key,
            limit_deduct=lambda response: response.status_code >= 400,
            body=schemas.PhoneCodeInput, responses=NO_CONTENT, errors={400: ["invalid_input", "bad_code"]},
            refusals=("code",))
def verify_phone():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        phone.verify_code(db_session, user, data.get("code"),
                          secret=current_app.config["SECRET_KEY"], now=utcnow())
    return "", 204
