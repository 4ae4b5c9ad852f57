"""The brute-force reference matcher: every term against every window, no index.

It exists to check the fast matcher (tests and ``benchmarks/matching.py`` require the same
themes and scores on the labelled set) and is far too slow for production: it compares each
of the N terms with each window of the text, and scores every window of every fuzzy term
with rapidfuzz. It shares the normalisation, the compiled terms and the scoring with
``Matcher``, so a difference can only come from how terms are found.
"""

from __future__ import annotations

from rapidfuzz.distance import OSA

from bot.core.watchlist.compile import DEFAULT_FUZZY_THRESHOLD, Compiled, Slot, compile_watchlists
from bot.core.watchlist.model import Watchlist
from bot.core.watchlist.normalize import normalize
from bot.core.watchlist.scoring import EXACT, Article, Found, ThemeMatch, score


class ReferenceMatcher:
    """Same interface and results as ``Matcher``, by exhaustive comparison."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled

    @classmethod
    def from_watchlists(
        cls, watchlists: list[Watchlist], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> ReferenceMatcher:
        """A reference matcher for every theme of ``watchlists``."""
        return cls(compile_watchlists(watchlists, fuzzy_threshold))

    def match(self, title: str, summary: str) -> list[ThemeMatch]:
        """The themes that this title and summary match, best score first."""
        head, body = normalize(title).strip(" "), normalize(summary).strip(" ")
        found = self.find(head, body)
        return score(self.compiled, found, Article((title, summary), (head, body)))

    def find(self, head: str, body: str) -> Found:
        """Best hit per slot and field, as ``Matcher.find``."""
        found: Found = {}
        for field, text in enumerate((head, body)):
            tokens = text.split(" ") if text else []
            starts = _starts(tokens)
            for slot in self.compiled.slots:
                hit = _best(slot, tokens, starts)
                if hit is not None:
                    found[slot.index << 1 | field] = hit
        return found


def _starts(tokens: list[str]) -> list[int]:
    out, offset = [], 0
    for token in tokens:
        out.append(offset)
        offset += len(token) + 1
    return out


def _best(slot: Slot, tokens: list[str], starts: list[int]) -> tuple[float, int, int] | None:
    """The first exact hit of ``slot``, else its most similar fuzzy window (the first of
    equals), else None."""
    first: tuple[float, int, int] | None = None
    for variant in slot.variants:
        words = variant.split(" ")
        for i in range(len(tokens) - len(words) + 1):
            window = tokens[i : i + len(words)]
            if (first is None or starts[i] < first[1]) and _exact(slot, words, window):
                first = (EXACT, starts[i], starts[i] + _matched(slot, words, window))
                break
    if first is not None:
        return first
    best: tuple[float, int, int] | None = None
    if slot.max_edits:
        n = slot.tokens
        for i in range(len(tokens) - n + 1):
            joined = " ".join(tokens[i : i + n])
            distance = OSA.distance(slot.text, joined)
            similarity = EXACT * (1 - distance / max(len(slot.text), len(joined)))
            good = distance <= slot.max_edits and similarity >= slot.threshold
            if good and (best is None or similarity > best[0]):
                best = (similarity, starts[i], starts[i] + len(joined))
    return best


def _matched(slot: Slot, words: list[str], window: list[str]) -> int:
    """Length of the matched key, as the automaton reports it (prefix: the prefixes)."""
    if slot.mode != "prefix":
        return len(" ".join(words))
    # Prefix terms: the window's words in full but the last, of which only the term's part.
    return sum(len(t) + 1 for t in window[:-1]) + len(words[-1])


def _exact(slot: Slot, words: list[str], window: list[str]) -> bool:
    if slot.mode == "prefix":
        return all(token.startswith(word) for word, token in zip(words, window, strict=True))
    if window == words:
        return True
    return slot.mode == "word" and window[:-1] == words[:-1] and window[-1] == words[-1] + "s"
