"""Choosing the two pieces of a fuzzy term that the fast matcher indexes.

A fuzzy term may differ from a window of text by one edit: a substitution, an insertion, a
deletion or a swap of two neighbours. Cut the term, padded with a space at each end
(" pyongyang "), into a head and a tail with one character left out between them
(" pyon" + g + "yang "). One edit changes at most one of the two — they do not touch — so a
window one edit away from the term still starts with the head or ends with the tail
(pigeonhole). Both pieces include a padding space, so they are only found at a word start
or a word end, which makes them rare in text.

Where to cut is free, and it decides how often pieces are found in ordinary text (each find
costs a rapidfuzz comparison). ``_cost`` estimates that: every letter makes a piece about
three times rarer, while a common word or ending ("with ", "ing ") counts as one letter, and
a piece already used by other terms costs more (one find would wake them all up: think of
a thousand "… Trading" company names). The cut with the lowest total is chosen.

Prefix terms (a Russian stem, "пхеньян") end inside a word, so only the head is anchored
(" пхе" + н + "ьян"): the tail is found anywhere in a word, and the matcher checks that it
sits where the term's tail would. As a stem of seven letters is enough to be worth a typo,
their pieces may have three letters each; the head's anchor keeps it rare.
"""

from __future__ import annotations

import functools
from collections import Counter

MIN_LETTERS = 4  # per piece: shorter pieces occur in most articles
MIN_PREFIX_LETTERS = 3  # per piece of a one-word prefix term (see the module doc)
_RARITY_PER_LETTER = 0.35
_COMMON_WORDS = frozenset(
    ("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
     "it", "its", "of", "on", "or", "said", "that", "the", "this", "to", "was", "were", "will",
     "with", "new", "after", "over", "into", "says")
)  # fmt: skip
_COMMON_ENDINGS = ("ion", "ing", "ed", "es", "ers", "ent", "ment", "al", "ly", "ty", "ns", "ts")
_COMMON_STARTS = ("con", "com", "pro", "pre", "re", "de", "in", "st", "tr")

Piece = tuple[int, str]  # (offset in the padded term, text)


def _letters(piece: str) -> int:
    """Letters that make ``piece`` rare: common words, endings and starts count as one."""
    words = piece.split(" ")
    total = 0
    for index, word in enumerate(words):
        after_space, before_space = index > 0, index < len(words) - 1
        common = (
            (after_space and before_space and word in _COMMON_WORDS)
            or (before_space and len(word) <= 4 and word.endswith(_COMMON_ENDINGS))
            or (after_space and len(word) <= 3 and word.startswith(_COMMON_STARTS))
        )
        total += min(1, len(word)) if common else len(word)
    return total


def _cost(piece: str, used: int) -> float:
    """Roughly how often ``piece`` turns up in an article, times the terms it would wake."""
    rarity: float = _RARITY_PER_LETTER ** _letters(piece)
    return rarity * (1 + used)


def choose_pieces(
    text: str, used: Counter[str], prefix: bool = False
) -> tuple[Piece, Piece] | None:
    """Head and tail of normalised ``text`` (see the module doc), or None if too short.

    ``used`` counts the pieces already chosen for other terms; it is updated. ``prefix``:
    the term ends inside a word (one word only), so the tail has no space after it.
    """
    best: tuple[float, Piece, Piece] | None = None
    for gap, head, tail, head_rarity, tail_rarity in _cuts(text, prefix):
        # _cost(head, used[head]) + _cost(tail, used[tail]), the rarities kept per term
        cost = head_rarity * (1 + used[head]) + tail_rarity * (1 + used[tail])
        if best is None or cost < best[0]:
            best = (cost, (0, head), (gap + 1, tail))
    if best is None:
        return None
    used[best[1][1]] += 1
    used[best[2][1]] += 1
    return best[1], best[2]


# Per term, as the compiler's other per-term work (`compile._variants`): a draft previewed in
# the panel's editor is compiled whole, and its fuzzy terms are nearly all the last draft's.
@functools.lru_cache(maxsize=4_096)
def _cuts(text: str, prefix: bool) -> tuple[tuple[int, str, str, float, float], ...]:
    """Each cut `choose_pieces` may choose, in order: (gap, head, tail, and their rarities
    as `_cost` has them before the terms that use them)."""
    if prefix and " " in text:
        return ()
    padded = f" {text}" if prefix else f" {text} "
    least = MIN_PREFIX_LETTERS if prefix else MIN_LETTERS
    found = []
    for gap in range(1, len(padded) - 1):
        head, tail = padded[:gap], padded[gap + 1 :]
        if min(len(head.replace(" ", "")), len(tail.replace(" ", ""))) < least:
            continue
        found.append((gap, head, tail, _cost(head, 0), _cost(tail, 0)))
    return tuple(found)
