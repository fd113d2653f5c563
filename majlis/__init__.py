"""Majlis: the governorate's virtual majlis."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from flask import Flask

from majlis import cache, db, hooks
from majlis import config as config_module
from majlis.errors import register_error_handlers
from majlis.extensions import babel, login_manager, select_locale
from majlis.sessions import live

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("majlis")


class RequestIdFilter(logging.Filter):
    """Put the request id on every log record (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = hooks.current_request_id() if has_request_context() else "-"
        return True


def _configure_logging(app: Flask) -> None:
    majlis_logger = logging.getLogger("majlis")
    if not any(getattr(h, "majlis_handler", False) for h in majlis_logger.handlers):
        handler = logging.StreamHandler()
        handler.majlis_handler = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
        handler.addFilter(RequestIdFilter())
        majlis_logger.addHandler(handler)
    majlis_logger.setLevel(logging.INFO)
    # Tests read records through the root logger (caplog); elsewhere one handler prints each line once.
    majlis_logger.propagate = bool(app.config.get("TESTING"))


@functools.lru_cache(maxsize=8)
def _jitsi_sources_for(values: tuple) -> dict[str, str]:
    """The origins the join page loads the IFrame API from and frames the room from (for the CSP).

    Cached on the settings themselves: computed once per configuration, not on every response."""
    domain, external_api, jaas_app_id, jaas_kid, key_file = values
    profile_jaas = bool(jaas_app_id and jaas_kid and key_file)
    meeting_domain = "8x8.vc" if profile_jaas else domain
    if external_api:
        script_url = external_api
    elif profile_jaas:
        script_url = f"https://8x8.vc/{jaas_app_id}/external_api.js"
    else:
        script_url = f"https://{domain}/external_api.js"
    from majlis.jitsi.services import script_origin

    frame = f"https://{meeting_domain}"
    return {"script": " ".join(sorted({script_origin(script_url), frame})), "frame": frame}


def security_headers(app: Flask) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (a route may set its own Referrer-Policy or CSP first)."""
    keys = ("JITSI_DOMAIN", "JITSI_EXTERNAL_API_URL", "JITSI_JAAS_APP_ID", "JITSI_JAAS_KID", "JITSI_PRIVATE_KEY_FILE")
    return _security_headers_for(tuple(app.config.get(key) for key in keys), app.config.get("MAJLIS_HSTS"))


@functools.lru_cache(maxsize=8)
def _security_headers_for(jitsi_settings: tuple, hsts: str | None = None) -> tuple[tuple[str, str], ...]:
    jitsi_sources = _jitsi_sources_for(jitsi_settings)
    # Production only (config.MAJLIS_HSTS): browsers then keep to HTTPS for a year.
    transport = (("Strict-Transport-Security", hsts),) if hsts else ()
    return transport + (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy",
         "default-src 'self'; "
         f"script-src 'self' {jitsi_sources['script']}; frame-src {jitsi_sources['frame']}; "
         "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
         "form-action 'self'; frame-ancestors 'none'"),
    )


def csp_framing(app: Flask, origin: str) -> str:
    """The app's Content-Security-Policy with frames allowed from one origin only (a page that embeds a stream)."""
    return _csp_framing(security_headers(app), origin)


@functools.lru_cache(maxsize=64)
def _csp_framing(headers: tuple, origin: str) -> str:
    import re

    policy = dict(headers)["Content-Security-Policy"]
    return re.sub(r"frame-src [^;]*;", lambda _: f"frame-src {origin};", policy)


def _bound_int_converter(app: Flask) -> None:
    """Path ids beyond the databases' integer range are simply not found (not a database error)."""
    from werkzeug.routing import IntegerConverter

    from majlis.errors import MAX_ID

    class BoundedInt(IntegerConverter):
        def to_python(self, value: str) -> int:
            number = super().to_python(value)
            return number if number <= MAX_ID else 0  # no row has id 0: the view answers 404

    app.url_map.converters["int"] = BoundedInt


class Majlis(Flask):
    """Flask, with one addition: a view is run once more when the database dropped its connection under it."""

    def dispatch_request(self):
        from majlis.db import dispatch_once_more_after_a_dropped_connection
        from majlis.extensions import limits_counted

        return dispatch_once_more_after_a_dropped_connection(super().dispatch_request, before_again=limits_counted)


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the Majlis app (configuration is read from the environment once, here)."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("MAJLIS_INSTANCE_PATH") or str(
        ROOT / "instance"
    )
    app = Majlis(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.from_env(app.instance_path))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("MAJLIS_FAST_PASSWORD_HASH", bool(app.config.get("TESTING")))

    _configure_logging(app)
    if app.config["MAJLIS_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["MAJLIS_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    database = db.init_app(app)
    cache.init_app(app, database)  # every writer keeps the cached reads' versions honest
    live.install(database.session_factory, app.config.get("REDIS_URL"))
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    hooks.install(app, lambda: security_headers(app))
    from majlis.auth.cookies import CookieSessionInterface

    app.session_interface = CookieSessionInterface()

    from majlis.api import bp as api_bp
    _bound_int_converter(app)
    from majlis import ops
    from majlis.auth import views as auth_views
    from majlis.calendar import views as calendar_views
    from majlis.followups import views as followup_views
    from majlis.jitsi import views as jitsi_views
    from majlis.minutes import views as minutes_views
    from majlis.notifications import views as notification_views
    from majlis.open311 import views as open311_views
    from majlis.questions import views as question_views
    from majlis.registration import views as registration_views
    from majlis.sessions import views as planning_views

    auth_views.init_login_manager(login_manager)
    app.register_blueprint(ops.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(jitsi_views.bp)
    app.register_blueprint(followup_views.bp)
    app.register_blueprint(open311_views.bp)
    app.register_blueprint(open311_views.data_bp)
    app.register_blueprint(minutes_views.bp)
    app.register_blueprint(question_views.bp)
    app.register_blueprint(planning_views.bp)
    app.register_blueprint(planning_views.public)
    app.register_blueprint(registration_views.bp)
    app.register_blueprint(notification_views.bp)
    app.register_blueprint(api_bp)
    register_error_handlers(app)
    _register_account_data()
    _connect_capabilities()

    from majlis import templating

    templating.init_app(app)

    from majlis import cli

    cli.register(app)
    return app


def _connect_capabilities() -> None:
    """Register each higher capability's part in the lower one's hooks, so the lower one never imports the higher."""
    from majlis.auth import hooks as auth_hooks
    from majlis.followups import services as followup_services
    from majlis.notifications import verification
    from majlis.questions import hooks as question_hooks
    from majlis.questions import services as question_services
    from majlis.registration import invitations, notices
    from majlis.registration import services as registration_services
    from majlis.sessions import hooks as session_hooks

    auth_hooks.provide_code_sender(verification.enqueue_verification_code)
    session_hooks.on_session_changed("registration", notices.session_changed)
    session_hooks.on_seats_added("registration", registration_services.promote_from_line)
    session_hooks.on_occurrence_created("invitations", invitations.copy_series_invitations)
    session_hooks.in_use_check("registration", registration_services.has_registrations)
    session_hooks.in_use_check("questions", question_services.has_questions)
    session_hooks.sight_grant("invitations", invitations.is_invited)
    question_hooks.provide_case_links(followup_services.case_ids_by_question)


def _register_account_data() -> None:
    """Wire each capability's part of a resident's data (download and deletion), in the download's key order."""
    from majlis.auth import account_data
    from majlis.auth import services as auth_services
    from majlis.calendar import services as calendar_services
    from majlis.followups import services as followup_services
    from majlis.notifications import services as notification_services
    from majlis.questions import services as question_services
    from majlis.registration import services as registration_services

    # Registrations go first: cancelling a future seat hands it to the waiting line while the account is intact.
    account_data.register("registrations", export=registration_services.export_account_data,
                          erase=registration_services.erase_account_data)
    account_data.register("questions", export=question_services.export_account_data,
                          erase=question_services.erase_account_data)
    account_data.register("cases", export=followup_services.export_account_data)
    account_data.register("api_tokens", export=auth_services.export_account_data,
                          erase=auth_services.erase_account_data)
    account_data.register("notifications", export=notification_services.export_account_data,
                          erase=notification_services.erase_account_data)
    account_data.register("calendar", erase=calendar_services.erase_account_data)
