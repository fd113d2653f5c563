"""Display names that cannot impersonate: no direction controls, something visible, not an official's name (pure)."""

from __future__ import annotations

import unicodedata

from majlis.arabic import normalize

# Explicit embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder the text around them,
# so a name can show as another. Pages already isolate names with dir="auto" and <bdi>.
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Letters and symbols that render as nothing or as a blank.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5\u034f\u2028\u2029")

# The Governor's office, in the words residents see it called (Arabic and English); compared after `comparable`.
OFFICE_NAMES = (
    "مكتب المحافظ", "مكتب سمو المحافظ", "المحافظ", "سمو المحافظ", "محافظ العاصمة", "مكتب محافظ العاصمة",
    "محافظة العاصمة", "محافظة العاصمة — مكتب المحافظ",
    "Governor's office", "Office of the Governor", "The Governor", "Governor", "Governor of the Capital",
    "Capital Governorate", "Capital Governorate — Governor's office",
)


def has_bidi_controls(name: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in name)


def has_control_characters(name: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in name)


def visible_length(name: str) -> int:
    """How many characters of the name show as something (letters, digits, punctuation, symbols)."""
    return sum(1 for ch in name if unicodedata.category(ch)[0] in "LNPS" and ch not in BLANK_LOOKING)


def comparable(name: str) -> str:
    """The name as compared with reserved ones: NFKC, no format characters, Arabic spelling variants, case,
    punctuation and spaces folded away ("&" reads "and")."""
    text = unicodedata.normalize("NFKC", name or "").replace("&", " and ")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in BLANK_LOOKING)
    return "".join(normalize(text).split())


def is_reserved(name: str, others: tuple[str, ...] = ()) -> bool:
    """Whether the name equals the office's name or one of `others` (the government bodies') once folded."""
    folded = comparable(name)
    return bool(folded) and any(folded == comparable(reserved) for reserved in (*OFFICE_NAMES, *others))
