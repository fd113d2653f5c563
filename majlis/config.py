"""Read Majlis's configuration from the environment, once, at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The environment describes a configuration Majlis refuses to run with."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in _TRUE


def from_env(instance_path: str, environ: os._Environ | dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables (CONTRACT.md's table)."""
    env = os.environ if environ is None else environ
    majlis_env = env.get("MAJLIS_ENV", "development").strip().lower() or "development"
    if majlis_env not in {"development", "production"}:
        raise ConfigError(f"MAJLIS_ENV must be 'development' or 'production', not {majlis_env!r}")
    production = majlis_env == "production"

    secret = env.get("SECRET_KEY") or DEV_SECRET_KEY
    if production and (secret == DEV_SECRET_KEY or len(secret) < 32):
        raise ConfigError(
            "MAJLIS_ENV=production needs SECRET_KEY set to a random value of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )

    tz_name = env.get("MAJLIS_TIMEZONE", "Asia/Bahrain")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"MAJLIS_TIMEZONE {tz_name!r} is not a known IANA time zone") from exc

    verification = env.get("MAJLIS_EMAIL_VERIFICATION", "required" if production else "off").strip().lower()
    if verification not in {"off", "required"}:
        raise ConfigError("MAJLIS_EMAIL_VERIFICATION must be 'off' or 'required'")

    default_db = "sqlite:///" + str(Path(instance_path) / "majlis.db")
    jitsi_domain = env.get("JITSI_DOMAIN", "meet.jit.si")
    redis_url = env.get("REDIS_URL") or None

    return {
        "MAJLIS_ENV": majlis_env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or default_db,
        "REDIS_URL": redis_url,
        "MAJLIS_TIMEZONE": tz_name,
        "MAJLIS_HIJRI_ADJUST_DAYS": int(env.get("MAJLIS_HIJRI_ADJUST_DAYS", "0")),
        # Occurrences of a series are stored as rows this far ahead.
        "MAJLIS_HORIZON_WEEKS": int(env.get("MAJLIS_HORIZON_WEEKS", "26")),
        # Days after a case is resolved that its resident is asked "was it fixed?".
        "MAJLIS_FEEDBACK_DELAY_DAYS": int(env.get("MAJLIS_FEEDBACK_DELAY_DAYS", "3")),
        "MAJLIS_BASE_URL": env.get("MAJLIS_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "JITSI_DOMAIN": jitsi_domain,
        "JITSI_APP_ID": env.get("JITSI_APP_ID") or None,
        "JITSI_APP_SECRET": env.get("JITSI_APP_SECRET") or None,
        "JITSI_SUB": env.get("JITSI_SUB") or jitsi_domain,
        "JITSI_JAAS_APP_ID": env.get("JITSI_JAAS_APP_ID") or None,
        "JITSI_JAAS_KID": env.get("JITSI_JAAS_KID") or None,
        "JITSI_PRIVATE_KEY_FILE": env.get("JITSI_PRIVATE_KEY_FILE") or None,
        # Where the IFrame API script comes from; by default the Jitsi domain's own (8x8.vc for JaaS).
        "JITSI_EXTERNAL_API_URL": env.get("JITSI_EXTERNAL_API_URL") or None,
        "JITSI_EARLY_JOIN_MINUTES": int(env.get("JITSI_EARLY_JOIN_MINUTES", "15")),
        "JITSI_GRACE_MINUTES": int(env.get("JITSI_GRACE_MINUTES", "30")),
        "MAJLIS_EMAIL_VERIFICATION": verification,
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "smtp" if env.get("MAIL_SERVER") else "console"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), False),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "majlis@localhost"),
        # Flask and extensions
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "BABEL_DEFAULT_LOCALE": "ar",
        "BABEL_DEFAULT_TIMEZONE": tz_name,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Several installations (or test runs) may share one Redis: each counts under its own prefix.
        "RATELIMIT_KEY_PREFIX": env.get("MAJLIS_RATELIMIT_PREFIX", "majlis"),
        "MAJLIS_PASSWORD_HASH": "argon2",
        "MAJLIS_API_TOKEN_DAYS": int(env.get("MAJLIS_API_TOKEN_DAYS", "90")),
        # How long one live-update stream stays open before the browser reconnects (seconds).
        "MAJLIS_LIVE_STREAM_SECONDS": int(env.get("MAJLIS_LIVE_STREAM_SECONDS", "25")),
        # Live streams one worker process serves at once (in all, and per client address): a stream holds a thread
        # for its lifetime, so keep the first at most half the worker's threads (docs/production.md).
        "MAJLIS_LIVE_STREAMS_PER_WORKER": int(env.get("MAJLIS_LIVE_STREAMS_PER_WORKER", "16")),
        "MAJLIS_LIVE_STREAMS_PER_CLIENT": int(env.get("MAJLIS_LIVE_STREAMS_PER_CLIENT", "4")),
        # How many reverse proxies in front of Majlis set X-Forwarded-For/-Proto; 0 trusts no such header.
        "MAJLIS_TRUSTED_PROXIES": int(env.get("MAJLIS_TRUSTED_PROXIES", "0")),
    }
