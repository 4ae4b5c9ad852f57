"""Text as the matcher sees it: NFKC, case-folded, ё→е, every non-word character a space.

``normalize`` is on the hot path (every article, title and summary), so it has two routes.
Python's ``re`` costs about 10 ns a character whatever the pattern, 5-7 µs for a summary,
while one ``bytes.translate`` lower-cases and blanks punctuation in about 2 µs. So ASCII
text — including English copy whose only non-ASCII characters are curly quotes and dashes,
which are blanked first with a few ``str.replace`` — takes the ``bytes.translate`` route;
other text (Russian, Korean) goes through NFKC, ``casefold`` and one regex whose character
class lists every separator explicitly.

Both give the same result for the same text: runs of punctuation, hyphens and dashes of
any kind, quotes, apostrophes and whitespace become one space, so "Khasan–Tumangang",
"N.Korea", "Kim Jong-un" and "Korea's" read "khasan tumangang", "n korea", "kim jong un",
"korea s". Soft hyphens and zero-width characters are deleted (they sit inside words).
Combining marks stay word characters. Outside the Basic Multilingual Plane only emoji
and tag characters are treated as separators (building the class for all of Unicode would
cost a third of a second at start-up for scripts no watchlist uses).

``surface`` maps a span of normalised text back to the words of the original text, for
explanations.
"""

from __future__ import annotations

import re
import sys
import unicodedata

_ASCII_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128) else 32
    for c in range(256)
)
_DELETED = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# The non-ASCII characters of ordinary English copy; blanking them keeps it on the fast route.
_TYPOGRAPHIC = ("\u2019", "\u2018", "\u201c", "\u201d", "\u2013", "\u2014")
_ASTRAL_SEPARATORS = ((0x1F000, 0x1FAFF), (0xE0000, 0xE007F))


def _is_separator(char: str) -> bool:
    return (
        not char.isalnum()
        and not unicodedata.category(char).startswith("M")
        and char != " "
        and char not in _DELETED
    )


def _separator_class() -> re.Pattern[str]:
    """One character class listing every separator of the BMP (as ranges) plus emoji."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode if sys.maxunicode < 0x10000 else 0x10000):
        if 0xD800 <= code <= 0xDFFF or not _is_separator(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    ranges.extend(_ASTRAL_SEPARATORS)
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    # No "+": runs are collapsed afterwards anyway, and sre is faster on single characters.
    return re.compile(f"[{body}]")


_SEPARATORS = _separator_class()
# Runs of word characters in original text: neither a separator nor a space (deleted
# characters such as soft hyphens are not separators: they sit inside words).
_RUNS = re.compile(f"[^ {_SEPARATORS.pattern[1:-1]}]+")


def normalize(text: str) -> str:
    """Matching form of ``text``: words separated by single spaces (maybe one at each end)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).casefold()
        for char in _DELETED:
            if char in text:
                text = text.replace(char, "")
        for char in _TYPOGRAPHIC:
            if char in text:
                text = text.replace(char, " ")
        if "ё" in text:
            text = text.replace("ё", "е")
    if text.isascii():
        text = text.encode("ascii").translate(_ASCII_TABLE).decode("ascii")
    else:
        text = _SEPARATORS.sub(" ", text)
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def normalize_term(text: str) -> str:
    """Matching form of a watchlist term: ``normalize`` without the edge spaces."""
    return normalize(text).strip(" ")


def word_spans(text: str, words: str) -> list[tuple[int, int]] | None:
    """Where each word of ``words`` (``normalize(text)`` stripped) is in ``text``.

    Words are runs of non-separators in the original, so the n-th run is the n-th word of
    the normalised text — unless NFKC split or joined words (rare: "½" becomes "1⁄2"), in
    which case the counts differ and None says so.
    """
    spans = [m.span() for m in _RUNS.finditer(text)]
    return spans if len(spans) == (words.count(" ") + 1 if words else 0) else None


def surface(
    text: str, words: str, start: int, end: int, spans: list[tuple[int, int]] | None
) -> str:
    """The original words behind ``words[start:end]``, whole words (see ``word_spans``)."""
    first, last = words.count(" ", 0, start), words.count(" ", 0, max(start, end - 1))
    if spans is None or last >= len(spans):
        stop = words.find(" ", end)
        return words[start : len(words) if stop < 0 else stop]
    return text[spans[first][0] : spans[last][1]]


def letters(text: str) -> int:
    """How many letters and digits ``text`` has."""
    return sum(1 for c in text if c.isalnum())


def scripts(text: str) -> set[str]:
    """Scripts of the letters in ``text`` by Unicode name prefix: LATIN, CYRILLIC, HANGUL…"""
    return {unicodedata.name(c, "UNKNOWN").split(" ")[0] for c in text if c.isalpha()}
