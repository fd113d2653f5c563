"""The base of every form: WTForms' own messages ("This field is required.") said in the catalog's words.

WTForms ships an Arabic catalog of its own whose wording is poor and partly untranslated; the stock messages are
listed below so that they are extracted into Majlis's catalog, and a form looks them up there first.
"""

from __future__ import annotations

from flask_babel import get_locale, get_translations
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations


def _extracted():  # never called: lists WTForms' stock messages for `pybabel extract`
    gettext("This field is required.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1)
    gettext("Field must be equal to %(other_name)s.")
    gettext("Invalid email address.")
    gettext("Invalid input.")
    gettext("Not a valid choice.")
    gettext("Not a valid date value.")
    gettext("Not a valid datetime value.")
    gettext("Not a valid time value.")
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Invalid Choice: could not coerce.")
    gettext("The CSRF token is missing.")
    gettext("The CSRF token is invalid.")
    gettext("The CSRF token has expired.")


def gettext(text):  # the names pybabel looks for; only _extracted calls them
    return text


def ngettext(singular, plural, n):
    return singular if n == 1 else plural


class _Translations:
    """Majlis's catalog first; WTForms' own for a message the catalog does not hold."""

    def gettext(self, string):
        found = get_translations().ugettext(string)
        if found == string and str(get_locale()) != "en":
            return wtforms_translations.gettext(string)
        return found

    def ngettext(self, singular, plural, n):
        found = get_translations().ungettext(singular, plural, n)
        if found in (singular, plural) and str(get_locale()) != "en":
            return wtforms_translations.ngettext(singular, plural, n)
        return found


TRANSLATIONS = _Translations()


class MajlisForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return TRANSLATIONS
