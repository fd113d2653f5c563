"""/api/v1/me/notifications, /me/push-subscriptions and /me/phone: by which channels, and where, a user is reached."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from majlis.api import api_user, bp, json_body
from majlis.db import get_db, unit_of_work
from majlis.extensions import rate_limit
from majlis.notifications import phone, preferences, push
from majlis.templating import current_lang
from majlis.timeutil import utcnow

# A code costs an SMS: few per user (the service counts them per hour too), and few failed guesses.
PHONE_CODE_LIMIT = "3 per 10 minutes; 10 per day"
PHONE_VERIFY_LIMIT = "10 per 10 minutes"


def _user_key() -> str:
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else request.remote_addr or "anonymous"


def subscription_to_dict(subscription) -> dict:
    return {"id": subscription.id, "endpoint": subscription.endpoint, "created_at": subscription.created_at.isoformat()}


@bp.get("/me/notifications")
def get_notification_choices():
    return jsonify(preferences.choices_of(get_db(), api_user()))


@bp.put("/me/notifications")
def put_notification_choices():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        choices = preferences.set_choices(db_session, user, data, now=utcnow())
    return jsonify(choices)


@bp.get("/me/push-subscriptions")
def list_push_subscriptions():
    subscriptions = push.subscriptions_of(get_db(), api_user())
    return jsonify({"subscriptions": [subscription_to_dict(s) for s in subscriptions]})


@bp.post("/me/push-subscriptions")
def add_push_subscription():
    user = api_user()
    data = json_body()
    config = current_app.config
    with unit_of_work() as db_session:
        subscription = push.subscribe(db_session, user, data, production=config["MAJLIS_ENV"] == "production",
                                      configured=push.is_configured(config), now=utcnow())
    return jsonify(subscription_to_dict(subscription)), 201


@bp.delete("/me/push-subscriptions")
def remove_push_subscription():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        push.unsubscribe(db_session, user, data.get("endpoint"))
    return "", 204


@bp.post("/me/phone")
@rate_limit(PHONE_CODE_LIMIT, key_func=_user_key)
def request_phone_code():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        number = phone.request_code(db_session, user, data.get("phone"), secret=current_app.config["SECRET_KEY"],
                                    lang=current_lang(), now=utcnow())
    return jsonify({"phone": number, "expires_in": int(phone.CODE_TTL.total_seconds())}), 202


@bp.post("/me/phone/verify")
@rate_limit(PHONE_VERIFY_LIMIT, key_func=_user_key, deduct_when=lambda response: response.status_code >= 400)
def verify_phone():
    user = api_user()
    data = json_body()
    with unit_of_work() as db_session:
        phone.verify_code(db_session, user, data.get("code"),
                          secret=current_app.config["SECRET_KEY"], now=utcnow())
    return "", 204
