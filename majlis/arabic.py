"""Arabic text normalization for matching: questions' near-duplicates, names, the minutes' full-text search."""

from __future__ import annotations

import re
import unicodedata

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_LETTERS = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",  # alef forms
    "ة": "ه",  # taa marbuta
    "ى": "ي",  # alef maqsura
    "ؤ": "و", "ئ": "ي",  # hamza carriers
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
})
_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)
# Words too common to tell two questions apart (question words included), written as normalize() leaves them.
_STOP = (
    "في من على إلى الى عن أن ان او أو ما لا هل هو هي مع هذا هذه ذلك تلك التي الذي كان يا و ف ب ل ثم قد لم لن "
    "متى كيف لماذا ماذا أين اين كم تم يتم سيتم نرجو نود أرجو ارجو "
    "the a an of to in on for and or is are be with about what why how when where can will please"
)


def normalize(text: str) -> str:
    """Fold alef forms, taa marbuta, alef maqsura, diacritics, tatweel, digits, case and punctuation."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    text = text.translate(_LETTERS).casefold()
    text = _NON_WORD.sub(" ", text)
    return " ".join(text.split())


def _stop_words() -> frozenset[str]:
    return frozenset(normalize(word) for word in _STOP.split())


def words(text: str) -> set[str]:
    """The telling words of a normalised text (Arabic's definite article 'ال' removed)."""
    found = set()
    for word in normalize(text).split():
        if word.startswith("ال") and len(word) > 4:
            word = word[2:]
        if word not in STOP_WORDS and len(word) > 1:
            found.add(word)
    return found


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the telling words of two texts (0..1)."""
    left, right = words(a), words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


STOP_WORDS = _stop_words()
