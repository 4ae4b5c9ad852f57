"""When a window of text counts as a fuzzy hit of a term: shared by both matchers.

The fast matcher only decides which windows to look at (pieces.py); whether a window is a
hit is decided here, so the brute-force reference, which looks at every window, agrees.

A window is a hit when it is one typo (OSA distance: substitution, insertion, deletion or a
swap of neighbours) from the term, the similarity ``1 - distance / longer length`` reaches
the threshold, and the typo is in a word that can carry one: a word of ``LONG_WORD``+
letters of the term, with no digit in it or in the window's word. Short words and numbers
are where a one-letter difference is another thing, not a typo: "UN sanctions" is not
"US sanctions", "Hwasong-11" is not "Hwasong-19", "Tumen River" is not "Tyumen River".

Prefix terms (one word, see pieces.py) compare with the start of a word: the prefixes one
letter shorter, as long, and one letter longer than the term, the most similar counting
("пхеньян" and "Пхенянский": "пхенян", one deletion).
"""

from __future__ import annotations

from rapidfuzz.distance import OSA

from bot.core.watchlist.compile import Slot
from bot.core.watchlist.terms import LONG_WORD

EXACT = 100.0


def _typo_allowed(term: str, window: str) -> bool:
    """Whether the words where ``window`` differs from ``term`` may carry a typo."""
    if " " not in term and " " not in window:
        return len(term) >= LONG_WORD and not _has_digit(term + window)
    ours, theirs = term.split(" "), window.split(" ")
    if len(ours) != len(theirs):
        return False
    return all(
        a == b or (len(a) >= LONG_WORD and not _has_digit(a + b))
        for a, b in zip(ours, theirs, strict=True)
    )


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def similarity(slot: Slot, window: str) -> float:
    """Similarity (0-100) of ``window`` as a fuzzy hit of ``slot``; 0.0 if it is none.

    An exact window is not a fuzzy hit either (0.0): exact hits are found as such.
    """
    text = slot.text
    if window == text or abs(len(window) - len(text)) > slot.max_edits:
        return 0.0
    distance = OSA.distance(text, window, score_cutoff=slot.max_edits)
    if distance > slot.max_edits:
        return 0.0
    value = EXACT * (1 - distance / max(len(text), len(window)))
    if value < slot.threshold or not _typo_allowed(text, window):
        return 0.0
    return value


def prefix_similarity(slot: Slot, word: str) -> tuple[float, int]:
    """(similarity, length) of the best start of ``word`` as a fuzzy hit of prefix ``slot``.

    (0.0, 0) if none is, or if ``word`` starts with the term (an exact hit). Of equally
    similar starts, the shortest counts.
    """
    text = slot.text
    if word.startswith(text):
        return 0.0, 0
    best, length = 0.0, 0
    for size in range(len(text) - slot.max_edits, len(text) + slot.max_edits + 1):
        if size > len(word):
            break
        value = similarity(slot, word[:size])
        if value > best:
            best, length = value, size
    return best, length
