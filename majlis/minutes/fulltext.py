"""Words for the archive's full-text index, and snippets that highlight them in the original text (pure).

Every word of a text becomes one normalised word of the indexed text, in order, so a match found in the indexed
text is the word at the same place in the original: the snippet shows the original spelling, highlighted, and the
database's index (FTS5 or a tsvector) only has to find and rank. Normalising folds what Arabic writers vary: alef
forms with hamza (أ إ آ ٱ → ا), hamza on waw or yaa (ؤ ئ → ء, so شؤون and شئون meet), taa marbuta (ة → ه), alef
maqsura (ى → ي), diacritics, tatweel, Arabic-Indic digits and case; the definite article and the short prefixes
before it (ال، وال، بال، فال، كال، لل) are dropped, so "الطريق" and "طريق" are one word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from majlis.arabic import _DIACRITICS, _LETTERS, _TATWEEL, STOP_WORDS

_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
# A word starts with a letter or digit and runs on through letters, digits and Arabic marks (a fatha or a tatweel
# inside a word does not split it).
WORD = re.compile(rf"[^\W_](?:[^\W_]|[{_MARKS}])*")
_FOLD = str.maketrans({"ؤ": "ء", "ئ": "ء"})
_NOT_WORD = re.compile(r"[\W_]+")
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال")
MAX_TERMS = 8


@functools.lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """One word as the index holds it (never empty, never with a space)."""
    text = unicodedata.normalize("NFKC", word)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    text = text.translate(_FOLD).translate(_LETTERS).casefold()
    text = _NOT_WORD.sub("", text)
    for prefix in _PREFIXES:
        if text.startswith(prefix) and len(text) - len(prefix) >= 3:
            text = text[len(prefix):]
            break
    return text or "_"


def words(text: str) -> list[str]:
    return [fold(match.group()) for match in WORD.finditer(text or "")]


def index_text(title_ar: str, title_en: str, body: str) -> str:
    """The indexed text of one document: the titles' words, then the body's, each folded."""
    return " ".join(words(title_ar) + words(title_en) + words(body))


def title_word_count(title_ar: str, title_en: str) -> int:
    return sum(1 for _ in WORD.finditer(title_ar or "")) + sum(1 for _ in WORD.finditer(title_en or ""))


def query_terms(query: str) -> list[str]:
    """The words sought, folded; common words left out unless nothing else is asked (at most eight)."""
    found = []
    for term in words(query):
        if term != "_" and term not in found:
            found.append(term)
    telling = [term for term in found if term not in _FOLDED_STOP_WORDS]
    return (telling or found)[:MAX_TERMS]


_FOLDED_STOP_WORDS = frozenset(fold(word) for word in STOP_WORDS) | STOP_WORDS


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term, each as a word prefix (terms are letters and digits only)."""
    return " ".join(f'"{term}"*' if len(term) > 1 else f'"{term}"' for term in terms)


def tsquery(terms: list[str]) -> str:
    """A PostgreSQL to_tsquery('simple', ...) expression with the same meaning as `fts5_query`."""
    return " & ".join(f"'{term}':*" if len(term) > 1 else f"'{term}'" for term in terms)


# --- snippets -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    text: str
    is_match: bool = False


# Skipping words in the regex engine, in strides: a match deep in a long transcript is reached without a Python
# loop over every word before it.
_SKIPS = tuple((stride, re.compile(rf"(?:[\W_]*{WORD.pattern}){{{stride}}}")) for stride in (1000, 100, 10, 1))


def _offset_after_words(text: str, count: int) -> int:
    """Where the text's word number `count` (from 0) is looked for: just after the words before it."""
    position = 0
    for stride, pattern in _SKIPS:
        while count >= stride:
            match = pattern.match(text, position)
            if match is None:
                return len(text)
            position, count = match.end(), count - stride
    return position


def _matches(folded: str, terms: list[str]) -> bool:
    return any(folded.startswith(term) if len(term) > 1 else folded == term for term in terms)


def snippet(body: str, indexed: str, terms: list[str], *, skip_words: int, before: int = 10,
            after: int = 22) -> list[Piece]:
    """A short passage of `body` around its first word that matches, the matching words marked.

    `indexed` is the document's indexed text and `skip_words` the number of its words that come from the titles.
    Without a match in the body (the title matched, or no terms), the body's opening.
    """
    position = None
    if terms:
        pattern = re.compile("(?:^| )(?:" + "|".join(
            re.escape(term) + (r"\S*" if len(term) > 1 else r"(?= |$)") for term in terms) + ")")
        start = 0
        for _ in range(skip_words):  # past the titles' words
            start = indexed.find(" ", start) + 1
            if start == 0:
                break
        found = pattern.search(indexed, start) if start or skip_words == 0 else None
        if found is not None:
            at = found.start() + (1 if indexed[found.start()] == " " else 0)
            position = indexed.count(" ", 0, at) - skip_words
    target = position if position is not None and position >= 0 else 0
    first_word = max(target - before, 0)
    offset = _offset_after_words(body or "", first_word)
    spans, reaches_end = [], True
    for index, match in enumerate(WORD.finditer(body or "", offset), start=first_word):
        spans.append(match)
        if index >= target + after:
            reaches_end = False
            break
    if not spans:
        return [Piece(" ".join((body or "").split())[:200])] if body else []
    # From the very start, or to the very end, when the passage reaches them (punctuation around them included).
    first = 0 if first_word == 0 else spans[0].start()
    last = len(body.rstrip()) if reaches_end else spans[-1].end()
    pieces: list[Piece] = [Piece("… ")] if first > 0 else []
    cursor = first
    for match in spans:
        if position is not None and _matches(fold(match.group()), terms):
            if match.start() > cursor:
                pieces.append(Piece(" ".join(body[cursor:match.start()].split(" ")).replace("\n", " ")))
            pieces.append(Piece(match.group(), True))
            cursor = match.end()
    pieces.append(Piece(body[cursor:last].replace("\n", " ")))
    if last < len(body.rstrip()):
        pieces.append(Piece(" …"))
    return _tidy(pieces)


def _tidy(pieces: list[Piece]) -> list[Piece]:
    """Collapse runs of white space in the plain pieces (a snippet is one line)."""
    tidy = []
    for piece in pieces:
        text = piece.text if piece.is_match else re.sub(r"\s+", " ", piece.text)
        if text:
            tidy.append(Piece(text, piece.is_match))
    return tidy


def plain(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces)
