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

    week_start = week_start_of(env.get("MAJLIS_LOCALE", "ar_BH"), env.get("MAJLIS_WEEK_START", ""))

    verification = env.get("MAJLIS_EMAIL_VERIFICATION", "required" if production else "off").strip().lower()
    if verification not in {"off", "required"}:
        raise ConfigError("MAJLIS_EMAIL_VERIFICATION must be 'off' or 'required'")

    jitsi_secret = env.get("JITSI_APP_SECRET") or None
    # The secret signs moderator rights in every room: PyJWT and RFC 7518 ask for at least 32 bytes for HS256.
    if production and jitsi_secret is not None and len(jitsi_secret.encode("utf-8")) < 32:
        raise ConfigError(
            "MAJLIS_ENV=production needs JITSI_APP_SECRET of at least 32 bytes (it signs moderator rights; "
            "for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )

    base_url = env.get("MAJLIS_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
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
        # The first day of the governorate's week in the calendars (0 = Monday ... 5 = Saturday, 6 = Sunday).
        "MAJLIS_WEEK_START": week_start,
        # Occurrences of a series are stored as rows this far ahead.
        "MAJLIS_HORIZON_WEEKS": int(env.get("MAJLIS_HORIZON_WEEKS", "26")),
        # Days after a case is resolved that its resident is asked "was it fixed?".
        "MAJLIS_FEEDBACK_DELAY_DAYS": int(env.get("MAJLIS_FEEDBACK_DELAY_DAYS", "3")),
        "MAJLIS_BASE_URL": base_url,
        # Production answers only requests addressed to its own host names; any other Host header is 400.
        "TRUSTED_HOSTS": trusted_hosts(base_url, env.get("MAJLIS_ALLOWED_HOSTS", "")) if production else None,
        "MAJLIS_HSTS": "max-age=31536000" if production else None,
        # Request bodies beyond this are refused with 413 before they are read (the largest legitimate body, the
        # minutes' 200,000 characters, is about 1.2 MB as a form or as escaped JSON).
        "MAX_CONTENT_LENGTH": int(env.get("MAJLIS_MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        "JITSI_DOMAIN": jitsi_domain,
        "JITSI_APP_ID": env.get("JITSI_APP_ID") or None,
        "JITSI_APP_SECRET": jitsi_secret,
        # The participant's e-mail reaches every other participant (presence) and 8x8: only when asked for.
        "JITSI_TOKEN_EMAIL": _bool(env.get("JITSI_TOKEN_EMAIL"), False),
        "JITSI_SUB": env.get("JITSI_SUB") or jitsi_domain,
        "JITSI_JAAS_APP_ID": env.get("JITSI_JAAS_APP_ID") or None,
        "JITSI_JAAS_KID": env.get("JITSI_JAAS_KID") or None,
        "JITSI_PRIVATE_KEY_FILE": env.get("JITSI_PRIVATE_KEY_FILE") or None,
        # Where the IFrame API script comes from; by default the Jitsi domain's own (8x8.vc for JaaS).
        "JITSI_EXTERNAL_API_URL": env.get("JITSI_EXTERNAL_API_URL") or None,
        "JITSI_EARLY_JOIN_MINUTES": int(env.get("JITSI_EARLY_JOIN_MINUTES", "15")),
        "JITSI_GRACE_MINUTES": int(env.get("JITSI_GRACE_MINUTES", "30")),
        # Issue 18: overflow audiences follow as Jitsi visitors (the deployment has visitors enabled)
        "JITSI_VISITORS": _bool(env.get("JITSI_VISITORS"), False),
        # The video service's events: JaaS webhooks are signed with this secret; Prosody's event-sync posts carry
        # the token as `Authorization: Bearer <token>`.
        "JITSI_WEBHOOK_SECRET": env.get("JITSI_WEBHOOK_SECRET") or None,
        "JITSI_EVENTS_TOKEN": env.get("JITSI_EVENTS_TOKEN") or None,
        # Where recordings and transcripts are kept: unset for a folder in the instance path, file:///path for
        # another folder, s3://bucket/prefix for an S3-compatible store (see majlis.storage).
        "MAJLIS_STORAGE_URL": env.get("MAJLIS_STORAGE_URL") or None,
        "MAJLIS_ATTACHMENT_MAX_BYTES": int(env.get("MAJLIS_ATTACHMENT_MAX_BYTES", str(8 * 1024**3))),
        "MAJLIS_EMAIL_VERIFICATION": verification,
        # An account whose e-mail is not confirmed within this many hours stops holding the address.
        "MAJLIS_UNVERIFIED_HOURS": int(env.get("MAJLIS_UNVERIFIED_HOURS", "24")),
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "smtp" if env.get("MAIL_SERVER") else "console"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), False),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "majlis@localhost"),
        # Web Push (VAPID, RFC 8292): `majlis vapid-keys` prints a pair; the subject is the operator's contact.
        "MAJLIS_VAPID_PUBLIC_KEY": env.get("MAJLIS_VAPID_PUBLIC_KEY") or None,
        "MAJLIS_VAPID_PRIVATE_KEY": env.get("MAJLIS_VAPID_PRIVATE_KEY") or None,
        "MAJLIS_VAPID_SUBJECT": env.get("MAJLIS_VAPID_SUBJECT") or None,
        # An HTTP SMS gateway (POST JSON {to, text} with a Bearer token); without a URL messages are printed.
        "MAJLIS_SMS_URL": env.get("MAJLIS_SMS_URL") or None,
        "MAJLIS_SMS_TOKEN": env.get("MAJLIS_SMS_TOKEN") or None,
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
        # Redis unreachable: each worker counts in its own memory until it answers again (looser limits, not none),
        # instead of every limited route failing. Short timeouts, so a dead Redis host does not hold requests.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1} if redis_url else {},
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


LOOPBACK_NAMES = ("127.0.0.1", "localhost")


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start_of(locale: str, override: str) -> int:
    """The week's first day (0 = Monday): MAJLIS_WEEK_START by name if given, else the locale's (CLDR) first day."""
    from babel import Locale, UnknownLocaleError

    if override.strip():
        if override.strip().lower() not in WEEKDAYS:
            raise ConfigError(f"MAJLIS_WEEK_START must be a weekday name in English (e.g. saturday), not {override!r}")
        return WEEKDAYS.index(override.strip().lower())
    try:
        return Locale.parse(locale).first_week_day
    except (UnknownLocaleError, ValueError) as exc:
        raise ConfigError(f"MAJLIS_LOCALE {locale!r} is not a known locale (e.g. ar_BH)") from exc


def trusted_hosts(base_url: str, allowed: str) -> list[str]:
    """The host names production answers to: MAJLIS_BASE_URL's host and MAJLIS_ALLOWED_HOSTS (comma-separated).

    A loopback base URL (a benchmark or a smoke test on one machine) trusts every loopback name: they all reach
    the same machine, and no other host can be named through them.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host = parts.hostname
    if not host:
        raise ConfigError(f"MAJLIS_BASE_URL {base_url!r} has no host name (e.g. https://majlis.example.gov)")
    if parts.scheme != "https" and host not in LOOPBACK_NAMES:
        # Production cookies are Secure and HSTS is sent: links in feeds and e-mails (personal calendar secrets among
        # them) must not travel in clear.
        raise ConfigError(f"MAJLIS_ENV=production needs an https:// MAJLIS_BASE_URL, not {base_url!r}")
    hosts = [host, *(name.strip().lower() for name in allowed.split(",") if name.strip())]
    if host in LOOPBACK_NAMES:
        hosts += [name for name in LOOPBACK_NAMES if name not in hosts]
    return list(dict.fromkeys(hosts))
