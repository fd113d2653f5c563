"""Jinja helpers: local times, Hijri dates, direction and language links."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time
from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from majlis.enums import Role
from majlis.timeutil import format_hijri, local_zone


def current_lang() -> str:
    return str(get_locale() or "ar")


def local_date(instant: datetime, fmt: str = "full") -> str:
    return format_date(instant.astimezone(local_zone()).date(), format=fmt, locale=current_lang())


def local_time(instant: datetime) -> str:
    return format_time(instant.astimezone(local_zone()), format="short", locale=current_lang())


def hijri(instant: datetime) -> str:
    day = instant.astimezone(local_zone()).date()
    return format_hijri(day, current_lang(), current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"])


def title_of(obj) -> str:
    """The Arabic or English title of a series or session, by the current language."""
    return obj.title_en if current_lang() == "en" else obj.title_ar


def lang_url(lang: str) -> str:
    """The current page in another language."""
    args = dict(request.view_args or {})
    query = request.args.to_dict()
    query["lang"] = lang
    if request.endpoint:
        return url_for(request.endpoint, **args, **query)
    return "/?lang=" + lang


ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.MODERATOR: _l("Moderator (Governor's office)"),
    Role.STAFF: _l("Staff"),
    Role.OFFICIAL: _l("Official of a government body"),
    Role.ADMIN: _l("Administrator"),
}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[Role(role)])


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local_date=local_date, local_time=local_time, hijri=hijri, title_of=title_of)

    @app.context_processor
    def _inject():
        lang = current_lang()
        return {"lang": lang, "text_dir": "rtl" if lang == "ar" else "ltr", "lang_url": lang_url,
                "role_label": role_label}
