"""Flask extensions, created once and bound to the app in create_app()."""

from functools import wraps

from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

LOCALES = ("ar", "en")
DEFAULT_LOCALE = "ar"  # Arabic first: a request that says nothing else gets Arabic

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def rate_limit(*args, **kwargs):
    """`limiter.limit` for one view, marked so that the limiter's hooks run for it (majlis/hooks.py). Majlis has no
    default or blueprint limits: a decorated view checks its own limit (Flask-Limiter does it in the decorator)."""
    decorator = limiter.limit(*args, **kwargs)

    def mark(view):
        limited = decorator(view)

        @wraps(view)
        def counted_once(*args, **kwargs):
            if g.get("majlis_limits_counted"):  # the same request, run once more (see limits_counted)
                return current_app.ensure_sync(view)(*args, **kwargs)
            return limited(*args, **kwargs)

        counted_once.majlis_rate_limited = True
        return counted_once

    return mark


def limits_counted() -> None:
    """Mark the request's rate limits as counted: a view run once more (after a dropped database connection) is
    still one request of the person's."""
    g.majlis_limits_counted = True


def select_locale() -> str:
    """Pick ?lang= (remembered), then the session, the account, else Arabic; the API honours Accept-Language."""
    if not has_request_context():
        return "en"  # CLI and scheduler output; messages to residents use force_locale
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LOCALES:
        return session["lang"]
    # Only a request with a session or remember-me cookie can be signed in: no anonymous user is loaded for nothing.
    maybe_signed_in = session or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    if maybe_signed_in and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


babel = Babel()
