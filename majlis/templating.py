"""Jinja helpers: local times, Hijri dates, direction and language links."""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel.dates import format_date, format_time
from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from majlis.enums import Role
from majlis.timeutil import format_hijri, local_zone


def current_lang() -> str:
    return str(get_locale() or "ar")


# Dates in words are formatted once per instant, format, language and zone: a page shows the same few instants
# (a session's start and end) to everyone, and Babel's formatting costs more than the rest of the page's parts.
@functools.lru_cache(maxsize=4096)
def _date(instant: datetime, fmt: str, lang: str, zone) -> str:
    return format_date(instant.astimezone(zone).date(), format=fmt, locale=lang)


@functools.lru_cache(maxsize=4096)
def _time(instant: datetime, lang: str, zone) -> str:
    return format_time(instant.astimezone(zone), format="short", locale=lang)


@functools.lru_cache(maxsize=4096)
def _hijri(instant: datetime, lang: str, zone, adjust_days: int) -> str:
    return format_hijri(instant.astimezone(zone).date(), lang, adjust_days)


def local_date(instant: datetime, fmt: str = "full") -> str:
    return _date(instant, fmt, current_lang(), local_zone())


def local_time(instant: datetime) -> str:
    return _time(instant, current_lang(), local_zone())


def hijri(instant: datetime) -> str:
    return _hijri(instant, current_lang(), local_zone(), current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"])


def day_date(day: date, fmt: str = "medium") -> str:
    """A calendar day (a due date: no time, no zone) in words."""
    return format_date(day, format=fmt, locale=current_lang())


def day_hijri(day: date) -> str:
    """The same day in the Hijri calendar."""
    return format_hijri(day, current_lang(), current_app.config["MAJLIS_HIJRI_ADJUST_DAYS"])


def ltr(text: str) -> Markup:
    """Latin text set apart inside a sentence (a file type, product names), so that it reads left to right in
    Arabic and its punctuation stays in place."""
    return Markup('<bdi dir="ltr">%s</bdi>') % text


def _minutes_html(body: str) -> Markup:
    from majlis.minutes.rendering import to_html

    return to_html(body)


def _translations():
    """This request's catalog for its current locale, looked up once per locale (Flask-Babel's own lookup runs in
    full for every string of a template; `force_locale` changes the locale, and so the catalog)."""
    locale = get_locale()
    found = g.get("majlis_translations")
    if found is None or found[0] is not locale:
        found = g.majlis_translations = (locale, get_translations())
    return found[1]


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


def qr_svg(code: str, title: str) -> Markup:
    """A check-in code's QR code as inline SVG (built from the code alone: nothing of the page goes into it)."""
    from majlis.registration.qr import check_in_svg

    return Markup(check_in_svg(code, str(title)))  # noqa: S704 - segno's own SVG; it escapes the title


def place_name(row) -> str | None:
    """A session's place by the current language."""
    return row.place_name_en if current_lang() == "en" else row.place_name_ar


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local_date=local_date, local_time=local_time, hijri=hijri, title_of=title_of,
                                 day_date=day_date, day_hijri=day_hijri, minutes_html=_minutes_html,
                                 qr_svg=qr_svg, place_name=place_name)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )

    from majlis.auth.decorators import is_private_page

    @app.context_processor
    def _inject():
        lang = current_lang()
        return {"lang": lang, "text_dir": "rtl" if lang == "ar" else "ltr", "lang_url": lang_url,
                "role_label": role_label, "comma": "، " if lang == "ar" else ", ", "ltr": ltr,
                "private_page": is_private_page()}
