"""Arabic first, English second: complete catalogs and language switching."""

from pathlib import Path

from babel.messages.pofile import read_po

import majlis

TRANSLATIONS = Path(majlis.__file__).parent / "translations"


def test_arabic_catalog_translates_every_message():
    with open(TRANSLATIONS / "ar/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_arabic_catalog_covers_every_string_in_the_code():
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    with open(TRANSLATIONS / "ar/LC_MESSAGES/messages.po", "rb") as handle:
        arabic = {m.id for m in read_po(handle) if m.id}
    assert template <= arabic, "run `make translations` and translate the new messages"


def test_compiled_catalog_matches_the_translations():
    from babel.messages.mofile import read_mo

    def plain(value):  # plural messages: a tuple from the .po, a list from the .mo
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(TRANSLATIONS / "ar/LC_MESSAGES/messages.po", "rb") as handle:
        source = {plain(m.id): plain(m.string) for m in read_po(handle) if m.id}
    with open(TRANSLATIONS / "ar/LC_MESSAGES/messages.mo", "rb") as handle:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run `make translations` to recompile the catalog"


def test_pages_are_arabic_by_default_and_english_on_request(client):
    arabic = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "تسجيل الدخول" in arabic
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english and "Sign in" in english


def test_every_audit_action_the_code_records_is_said_in_words():
    """The audit log shows actions in words: an action recorded without a label would show its raw code."""
    import re

    from majlis.audit.labels import ACTIONS
    from majlis.enums import QuestionStatus

    source = "\n".join(path.read_text(encoding="utf-8") for path in Path(majlis.__file__).parent.rglob("*.py"))
    recorded = set(re.findall(r'action="([a-z_]+\.[a-z_]+)" if .+? else "([a-z_]+\.[a-z_]+)"', source))
    recorded = {code for pair in recorded for code in pair}
    recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
    recorded |= {f"question.{status.value}" for status in QuestionStatus if status != QuestionStatus.PENDING}
    assert recorded - set(ACTIONS) == set()
