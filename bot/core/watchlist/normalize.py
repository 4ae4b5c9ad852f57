"""Text as the matcher sees it: NFKC, case-folded, ё→е, words separated by single spaces.

Two kinds of punctuation:

* Marks that sit against a word — ``. , ; : ! ?``, quotes, apostrophes, brackets — are
  deleted: "N. Korea", "(KCNA)" and "Korea's" read "n korea", "kcna" and "koreas" (a
  possessive reads as a plural, which word terms accept).
* Everything else that is not a letter or digit — whitespace, hyphens and dashes of any
  kind, slashes, middle dots, symbols — becomes a space: "Khasan–Tumangang", "Kim Jong-un"
  and "북·러" read "khasan tumangang", "kim jong un", "북 러".

Why delete rather than blank: a period or comma is nearly always followed by a space, and
blanking it would leave two spaces to collapse, which costs more than the rest of the
normalisation (``str.replace`` ≈ 2 µs on a summary). The price: "N.Korea" reads
"nkorea" — the watchlist compiler adds that spelling for terms written "N. Korea".

``normalize`` is on the hot path (every article), so it has two routes. ASCII text —
including English whose only non-ASCII characters are curly quotes and dashes, handled
first with a few ``str.replace`` — takes one ``bytes.translate`` (lower-casing, deleting and
blanking in one C pass, ≈ 0.6 µs a summary). Other text (Russian, Korean) also goes through
NFKC, ``casefold`` and one regex whose class lists the non-ASCII separators explicitly
(``re`` costs ≈ 10 ns a character whatever the pattern). Soft hyphens and zero-width
characters are deleted; combining marks stay word characters; outside the Basic
Multilingual Plane only emoji and tag characters are separators (listing all of Unicode
would cost a third of a second at start-up for scripts no watchlist uses).

``surface`` maps normalised words back to the original words, for explanations.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterator

FIELD_BREAK = "\x1f"  # between title and summary in the matching text; kept by normalize
_ASCII_DELETED = b".,;:!?'\"`()[]{}<>"
# ASCII: upper case to lower, letters, digits and FIELD_BREAK kept, the rest a space (the
# deleted marks are removed by translate's ``delete`` argument before the table applies).
_ASCII_TABLE = bytes(
    c + 32
    if 65 <= c <= 90
    else c
    if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128 or c == ord(FIELD_BREAK))
    else 32
    for c in range(256)
)
_FORMAT = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")  # inside words
# Quotes and apostrophes are deleted like their ASCII forms; dashes become spaces.
_QUOTES = ("\u2019", "\u2018", "\u201c", "\u201d", "\u00ab", "\u00bb", "\u201e", "\u2039", "\u203a")
_DASHES = ("\u2013", "\u2014")
# An ellipsis joins phrases in Korean and Russian headlines ("수천 명…유엔 결의"): a space
# between words, as ``word_runs`` reads it; NFKC would make it "...", deleted like a period,
# and "명…유엔" one word.
_ELLIPSES = ("\u2026", "\u2025")
_KEPT_IN_WORDS = frozenset(_FORMAT + _QUOTES + (FIELD_BREAK, " "))
_ASTRAL_SEPARATORS = ((0x1F000, 0x1FAFF), (0xE0000, 0xE007F))


def _is_separator(char: str) -> bool:
    return (
        not char.isalnum()
        and not unicodedata.category(char).startswith("M")
        and char not in _KEPT_IN_WORDS
    )


def _class_body(start: int) -> str:
    """The separators from ``start`` up in the BMP, plus emoji, as regex class ranges."""
    ranges: list[tuple[int, int]] = []
    for code in range(start, min(sys.maxunicode, 0xFFFF) + 1):
        if 0xD800 <= code <= 0xDFFF or not _is_separator(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    ranges.extend(_ASTRAL_SEPARATORS)
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


_NON_ASCII_BODY = _class_body(0x80)
# No "+": runs are collapsed afterwards anyway, and sre is faster on single characters.
_SEPARATORS = re.compile(f"[{_NON_ASCII_BODY}]")
_ASCII_SPACING = "".join(
    re.escape(chr(c))
    for c in range(128)
    if not chr(c).isalnum() and bytes([c]) not in _ASCII_DELETED and chr(c) != FIELD_BREAK
)
# Words of the original text: runs of anything that normalize does not turn into a space.
_RUNS = re.compile(f"[^{_ASCII_SPACING}{_NON_ASCII_BODY}]+")
_MARKS = _ASCII_DELETED.decode() + "".join(_QUOTES)


def normalize(text: str) -> str:
    """Matching form of ``text``: words separated by single spaces (maybe one at each end)."""
    if not text.isascii():
        for char in _ELLIPSES:  # before NFKC, which makes them full stops (deleted)
            if char in text:
                text = text.replace(char, " ")
        text = unicodedata.normalize("NFKC", text).casefold()
        for char in _FORMAT + _QUOTES:
            if char in text:
                text = text.replace(char, "")
        for char in _DASHES:
            if char in text:
                text = text.replace(char, " ")
        if "ё" in text:
            text = text.replace("ё", "е")
    if text.isascii():
        text = text.encode("ascii").translate(_ASCII_TABLE, _ASCII_DELETED).decode("ascii")
    else:
        text = text.encode().translate(_ASCII_TABLE, _ASCII_DELETED).decode()
        text = _SEPARATORS.sub(" ", text)
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def matching_text(title: str, summary: str) -> tuple[str, int]:
    """Title and summary normalised in one pass as " title \\x1f summary ", and where the
    summary's words start. Every word has a space on each side."""
    if FIELD_BREAK in title or FIELD_BREAK in summary:  # a control character: a separator
        title, summary = title.replace(FIELD_BREAK, " "), summary.replace(FIELD_BREAK, " ")
    text = normalize(f" {title} {FIELD_BREAK} {summary} ")
    return text, text.index(FIELD_BREAK) + 2


def fields(text: str, split: int) -> tuple[str, str]:
    """The normalised title and summary words of a ``matching_text``."""
    return text[1 : split - 3], text[split:-1]


# Kept per term text: loading or compiling a watchlist (every preview of a draft of its ~900
# terms, every save) normalises each term several times, nearly all as the last load did.
@functools.lru_cache(maxsize=16_384)
def normalize_term(text: str) -> str:
    """Matching form of a watchlist term: ``normalize`` without the edge spaces."""
    return normalize(text.replace(FIELD_BREAK, " ")).strip(" ")


def word_spans(text: str, words: str) -> list[tuple[int, int]] | None:
    """Where each word of ``words`` (``normalize(text)`` stripped) is in ``text``.

    Words are runs of characters that normalize does not turn into spaces, so the n-th run
    is the n-th word — unless a run is only deleted marks ("...") or NFKC split a word
    ("½" reads "1⁄2"); then the counts differ and None says so.
    """
    spans = [m.span() for m in word_runs(text)]
    return spans if len(spans) == (words.count(" ") + 1 if words else 0) else None


def word_runs(text: str) -> Iterator[re.Match[str]]:
    """The runs of ``text`` that ``normalize`` keeps as words, in order (see ``word_spans``)."""
    return _RUNS.finditer(text)


def surface(
    text: str, words: str, start: int, end: int, spans: list[tuple[int, int]] | None
) -> str:
    """The original words behind ``words[start:end]``, whole words (see ``word_spans``)."""
    first, last = words.count(" ", 0, start), words.count(" ", 0, max(start, end - 1))
    if spans is None or last >= len(spans):
        stop = words.find(" ", end)
        return words[start : len(words) if stop < 0 else stop]
    return text[spans[first][0] : spans[last][1]].strip(_MARKS) or words[start:end]


def letters(text: str) -> int:
    """How many letters and digits ``text`` has."""
    return sum(1 for c in text if c.isalnum())


def scripts(text: str) -> set[str]:
    """Scripts of the letters in ``text`` by Unicode name prefix: LATIN, CYRILLIC, HANGUL…"""
    return {unicodedata.name(c, "UNKNOWN").split(" ")[0] for c in text if c.isalpha()}
