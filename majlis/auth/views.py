"""Account pages: sign-up, verification, sign-in and out, the account page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user

from majlis.auth import services
from majlis.auth.decorators import login_required, roles_required
from majlis.auth.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    ResendForm,
    SignupForm,
    TokenForm,
    VerifyForm,
)
from majlis.auth.models import User
from majlis.auth.services import AccountPolicy
from majlis.db import get_db, unit_of_work
from majlis.directory import services as directory
from majlis.errors import MajlisError
from majlis.extensions import rate_limit
from majlis.templating import current_lang
from majlis.timeutil import utcnow

bp = Blueprint("auth", __name__)

LOGIN_LIMIT = "10 per 5 minutes; 50 per day"
SIGNUP_LIMIT = "10 per hour"
# Asking for a new code: per client address, on top of the per-address cap in services.may_send_code.
RESEND_LIMIT = "10 per hour"


def init_login_manager(manager: LoginManager) -> None:
    """Configure Flask-Login: strong session protection, the sign-in view and the user loader."""
    manager.session_protection = "strong"
    manager.login_view = "auth.login"
    manager.login_message = None
    manager.needs_refresh_message = None

    # Flask-Login 0.6 builds the "strong" session identifier from a client-supplied X-Forwarded-For; use the
    # peer address instead, which ProxyFix corrects only for the proxies configured as trusted.
    manager._session_identifier_generator = _session_identifier

    @manager.user_loader
    def _load_user(session_token: str) -> User | None:
        return services.user_by_session_token(get_db(), session_token)


def _session_identifier() -> str:
    import hashlib

    agent = request.headers.get("User-Agent", "")
    return hashlib.sha512(f"{request.remote_addr}|{agent}".encode()).hexdigest()


def safe_next(target: str | None) -> str | None:
    """Accept only a local path for ?next=, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ch in target for ch in "\r\n\\"):
        return None
    return target


def _area_choices() -> list[tuple[str, str]]:
    areas = directory.list_areas(get_db())
    english = current_lang() == "en"
    return [("", _("— choose —"))] + [(area.code, area.name_en if english else area.name_ar) for area in areas]


def _apply_error(form, exc: MajlisError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


def sign_in_again(user: User) -> None:
    """Keep the browser session that changed the password, under the user's new session token."""
    _start_session(user, remember=False)


def _start_session(user: User, remember: bool) -> None:
    """Sign in with a fresh session (no fixation), keeping only the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user, remember=remember, duration=timedelta(days=14))


@bp.route("/signup", methods=["GET", "POST"])
@rate_limit(SIGNUP_LIMIT, methods=["POST"])
def signup():
    """Show the sign-up form and create the account from it."""
    if current_user.is_authenticated:
        return redirect(url_for("sessions.home"))
    form = SignupForm()
    form.area.choices = _area_choices()
    valid = form.validate_on_submit()
    if form.is_submitted():
        # Every problem at once: the service's checks of the fields the form found no fault with.
        for problem in services.signup_problems(get_db(), email=form.email.data, name=form.name.data,
                                                password=form.password.data, phone=form.phone.data,
                                                area=form.area.data):
            field = getattr(form, problem.field or "", None)
            if field is not None and not field.errors:
                field.errors = [str(problem.message)]
                valid = False
    if valid:
        try:
            with unit_of_work() as db_session:
                user = services.sign_up(
                    db_session, email=form.email.data, name=form.name.data, password=form.password.data,
                    phone=form.phone.data, area=form.area.data, policy=AccountPolicy.from_config(current_app.config),
                    now=utcnow(),
                )
        except MajlisError as exc:
            _apply_error(form, exc)
        else:
            if AccountPolicy.from_config(current_app.config).verification_required:
                flash(_("We sent a verification code to your e-mail. Enter it below."), "info")
                return redirect(url_for("auth.verify", email=user.email))
            _start_session(user, remember=False)
            flash(_("Welcome to the Majlis, %(name)s.", name=user.name), "success")
            return redirect(url_for("sessions.home"))
    status = 400 if form.errors else 200
    return render_template("auth/signup.html", form=form), status


@bp.route("/verify", methods=["GET", "POST"])
@rate_limit(LOGIN_LIMIT, methods=["POST"], deduct_when=lambda _r: g.get("auth_failed", False))
def verify():
    """Show the verification form and confirm the account's e-mail address with its code."""
    form = VerifyForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"]
    refusal = None
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.verify_email(db_session, email=form.email.data, code=form.code.data,
                                      policy=AccountPolicy.from_config(current_app.config), now=utcnow())
        except MajlisError as exc:
            g.auth_failed = True
            refusal = exc
            _apply_error(form, exc)
        else:
            flash(_("Your e-mail is confirmed. You can sign in now."), "success")
            return redirect(url_for("auth.login"))
    resend_form = ResendForm(prefix="resend", email=form.email.data)
    page = render_template("auth/verify.html", form=form, resend_form=resend_form)
    if refusal is not None and refusal.status == 429:
        return page, 429, refusal.headers
    return page, 400 if form.errors or refusal is not None else 200


@bp.post("/verify/resend")
@rate_limit(RESEND_LIMIT)
def resend_code():
    """Send a new verification code to an unconfirmed address."""
    form = ResendForm(prefix="resend")
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.resend_verification_code(db_session, email=form.email.data,
                                                  policy=AccountPolicy.from_config(current_app.config),
                                                  now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            # The same words whether or not the address has an account waiting: they reveal nothing.
            flash(_("If an account with this address is waiting for confirmation, a new code is on its way. "
                    "Codes go out at most once a minute."), "info")
        return redirect(url_for("auth.verify", email=form.email.data))
    flash(_("Enter a valid e-mail address."), "error")
    return redirect(url_for("auth.verify"))


@bp.route("/login", methods=["GET", "POST"])
@rate_limit(LOGIN_LIMIT, methods=["POST"], deduct_when=lambda _r: g.get("auth_failed", False))
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("sessions.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                user = services.authenticate(db_session, email=form.email.data, password=form.password.data,
                                             policy=AccountPolicy.from_config(current_app.config), now=utcnow())
        except MajlisError as exc:
            g.auth_failed = True
            flash(str(exc.message), "error")
            return render_template("auth/login.html", form=form), exc.status, exc.headers
        _start_session(user, remember=bool(form.remember.data))
        return redirect(safe_next(request.args.get("next")) or url_for("sessions.home"))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the user out and end the session on the server too."""
    with unit_of_work():
        # Rotating the token ends this session server-side: a copied cookie stops working.
        services.rotate_session_token(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("sessions.home"))


@bp.route("/account")
@login_required
def account():
    """Show the account page: details, tokens, calendar link, notifications and privacy."""
    from majlis.calendar import links
    from majlis.calendar import services as calendar_services
    from majlis.notifications.views import account_context

    db_session = get_db()
    tokens = services.active_tokens(db_session, current_user, now=utcnow())
    feed = calendar_services.current_feed(db_session, current_user)
    feed_url = None
    if feed is not None:
        feed_url = current_app.config["MAJLIS_BASE_URL"] + url_for("calendar.personal_feed", secret=feed.secret)
    return render_template(
        "auth/account.html", tokens=tokens, token_form=TokenForm(), password_form=ChangePasswordForm(),
        revoke_form=EmptyForm(), new_token=session.pop("new_token", None), feed_url=feed_url,
        feed_webcal=links.webcal(feed_url) if feed_url else None, **account_context(current_user),
    )


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    """Issue a new API token and show its secret once."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("The label must be at most 100 characters."), "error")
        return redirect(url_for("auth.account"))
    with unit_of_work() as db_session:
        token, _record = services.issue_api_token(db_session, current_user, label=form.label.data or "",
                                                  policy=AccountPolicy.from_config(current_app.config), now=utcnow())
    # Shown once on the next page view, then gone: only its hash is stored.
    session["new_token"] = token
    return redirect(url_for("auth.account"))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's API tokens."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    with unit_of_work() as db_session:
        record = services.own_api_token(db_session, current_user, token_id)
        services.revoke_api_token(db_session, record, actor=current_user, now=utcnow())
    flash(_("The token was revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.get("/account/data.json")
@login_required
def download_data():
    """Send the user everything Majlis holds about them as a JSON download."""
    import json

    from flask import Response

    data = services.export_data(get_db(), current_user)
    return Response(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), headers={
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": 'attachment; filename="my-majlis-data.json"', "Cache-Control": "no-store"})


@bp.post("/account/delete")
@login_required
def delete_account():
    """Delete the resident's account and personal data after checking their password."""
    if EmptyForm().validate_on_submit():
        try:
            with unit_of_work() as db_session:
                services.delete_account(db_session, current_user._get_current_object(),
                                        password=request.form.get("password", ""),
                                        policy=AccountPolicy.from_config(current_app.config),
                                        now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
            return redirect(url_for("auth.account") + "#privacy-heading")
        logout_user()
        session.clear()
        flash(_("Your account and personal data were deleted."), "info")
    return redirect(url_for("sessions.home"))


@bp.get("/admin/audit")
@roles_required()  # administrators only
def audit_log():
    """Show the audit log to administrators, filtered by object type and id."""
    from majlis.audit import services as audit

    entries = audit.recent_entries(get_db(), object_type=request.args.get("object_type") or None)
    actors = services.users_by_id(get_db(), {e.actor_id for e in entries})
    from majlis.audit import labels

    return render_template("auth/audit.html", entries=entries, actors=actors, label=labels.label,
                           actions=labels.ACTIONS, objects=labels.OBJECTS, states=labels.STATES)


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    """Change the user's password after checking the current one."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work() as db_session:
                user = current_user._get_current_object()
                services.change_password(db_session, user, current=form.current_password.data,
                                         new=form.new_password.data,
                                         policy=AccountPolicy.from_config(current_app.config),
                                         now=utcnow())
        except MajlisError as exc:
            flash(str(exc.message), "error")
        else:
            # Other sessions ended with the old token; this one continues under the new one.
            _start_session(user, remember=False)
            flash(_("Your password was changed. Your other devices have been signed out and all your API "
                    "tokens revoked."), "success")
    else:
        flash(_("Enter your current password and a new one."), "error")
    return redirect(url_for("auth.account"))
