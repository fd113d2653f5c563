"""The account page's notification settings, the one-click stop links, the web app manifest and the service worker."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from majlis.auth import services as auth_services
from majlis.auth.decorators import login_required
from majlis.auth.forms import EmptyForm
from majlis.auth.models import User
from majlis.db import get_db, unit_of_work
from majlis.errors import MajlisError, NotFound
from majlis.extensions import LOCALES, csrf, rate_limit
from majlis.notifications import phone, preferences, push
from majlis.notifications.models import CHANNELS
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("notifications", __name__)

STATIC = Path(__file__).resolve().parents[2] / "static"
SETTINGS_ANCHOR = "#notifications-heading"
# The reminders a resident may add, in minutes before the start (the page offers these; the API takes any in range).
OWN_REMINDER_CHOICES = (15, 30, 60, 120, 180, 360, 720, 1440, 2880)
PHONE_CODE_LIMIT = "3 per 10 minutes; 10 per day"


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr or "-"


def account_context(user: User) -> dict:
    """Gather what the account page's notification section shows."""
    from majlis.registration.notices import lead_in_words

    db_session, config, lang = get_db(), current_app.config, current_lang()
    return {
        "notice_choices": preferences.choices_of(db_session, user),
        "notice_reach": preferences.reach(db_session, user),
        "notice_kinds": [(kind, str(preferences.KIND_LABELS[kind])) for kind in preferences.CHOICE_KINDS],
        "notice_channels": [(name, str(preferences.CHANNEL_LABELS[name])) for name in CHANNELS],
        "own_reminder": preferences.own_reminder(db_session, user),
        "own_reminder_choices": [(minutes, lead_in_words(minutes, lang)) for minutes in OWN_REMINDER_CHOICES],
        "push_subscriptions": push.subscriptions_of(db_session, user),
        "vapid_public_key": config["MAJLIS_VAPID_PUBLIC_KEY"] if push.is_configured(config) else None,
        "pending_phone": phone.pending_number(db_session, user, now=utcnow()),
    }


def _back():
    return redirect(url_for("auth.account") + SETTINGS_ANCHOR)


@bp.post("/account/notifications")
@login_required
def save_choices():
    """Save the user's choice of channels for each kind of notice."""
    if not EmptyForm().validate_on_submit():
        return _back()
    chosen = {kind: [c for c in request.form.getlist(kind) if c in CHANNELS] for kind in preferences.CHOICE_KINDS}
    try:
        with unit_of_work() as db_session:
            user = current_user._get_current_object()
            preferences.set_choices(db_session, user, chosen, now=utcnow())
            preferences.set_own_reminder(db_session, user, request.form.get("reminder_minutes") or None, now=utcnow())
    except MajlisError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("Your notification choices are saved."), "success")
    return _back()


@bp.post("/account/phone")
@login_required
@rate_limit(PHONE_CODE_LIMIT, key_func=_user_key)
def request_phone_code():
    """Send a code to confirm the user's mobile number."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                number = phone.request_code(db_session, current_user._get_current_object(),
                                            request.form.get("phone", ""), secret=current_app.config["SECRET_KEY"],
                                            lang=current_lang(), now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("We sent a 6-digit code to %(phone)s. Enter it below.", phone=number), "info")
    return redirect(url_for("auth.account") + "#phone-heading")


@bp.post("/account/phone/verify")
@login_required
@rate_limit("10 per 10 minutes", key_func=_user_key, deduct_when=lambda _r: g.get("code_failed", False))
def verify_phone():
    """Confirm the user's mobile number with the code sent to it."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                phone.verify_code(db_session, current_user._get_current_object(), request.form.get("code", ""),
                                  secret=current_app.config["SECRET_KEY"], now=utcnow())
        except MajlisError as exc:
            g.code_failed = True
            flash(str(exc.message), "error")
        else:
            flash(_("Your mobile number is verified: you can receive SMS now."), "success")
    return redirect(url_for("auth.account") + "#phone-heading")


@bp.post("/account/push/<int:subscription_id>/delete")
@login_required
def remove_device(subscription_id: int):
    """Stop push notifications to one of the user's devices."""
    if EmptyForm().validate_on_submit():
        with unit_of_work() as db_session:
            if not push.remove_subscription(db_session, current_user._get_current_object(), subscription_id):
                raise NotFound()
        flash(_("That device will no longer receive notifications."), "success")
    return redirect(url_for("auth.account") + "#push-heading")


# --- stop links: no sign-in, the link itself is the credential ------------------------------------------------------


def _stop_target(token: str) -> tuple[User, str]:
    found = preferences.read_stop_token(current_app.config["SECRET_KEY"], token)
    user = auth_services.get_user(get_db(), found[0]) if found else None
    if user is None or user.is_disabled:
        raise NotFound()
    return user, found[1]


@bp.route("/stop/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the credential; mail programs POST to it with one click (RFC 8058)
def stop(token: str):
    """Show what the link stops (GET: a link scanner changes nothing), and stop it (POST)."""
    user, kind = _stop_target(token)
    lang = request.args.get("lang") if request.args.get("lang") in LOCALES else user.locale or "ar"
    if request.method == "POST":
        with unit_of_work() as db_session:
            preferences.stop_kind(db_session, auth_services.get_user(db_session, user.id), kind, now=utcnow())
    with force_locale(lang if lang in LOCALES else "ar"):
        response = Response(render_template("notifications/stop.html", token=token, done=request.method == "POST",
                                            kind_label=preferences.KIND_LABELS[kind]))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- the installable web app ------------------------------------------------------------------------------------------


@bp.get("/manifest-<language>.webmanifest")
def manifest(language: str):
    """Serve the web app manifest in the given language."""
    if language not in LOCALES:
        raise NotFound()
    lang = language
    with force_locale(lang):
        data = {
            "name": _("The Majlis — Capital Governorate"),
            "short_name": _("The Majlis"),
            "description": _("The Governor's virtual majlis: sessions, questions, follow-up cases."),
            "lang": lang, "dir": "rtl" if lang == "ar" else "ltr",
            "id": "/", "start_url": "/", "scope": "/", "display": "standalone",
            "background_color": "#f4f6f5", "theme_color": "#0b5d3b",
            "icons": [
                {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": url_for("static", filename="icons/icon-maskable-512.png"), "sizes": "512x512",
                 "type": "image/png", "purpose": "maskable"},
            ],
        }
    response = Response(json.dumps(data, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/sw.js")
def service_worker():
    # Served from the site's root so that its scope is the whole site.
    """Serve the service worker from the site's root, never cached."""
    response = send_file(STATIC / "js" / "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
