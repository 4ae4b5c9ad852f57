"""The brute-force reference matcher: every term against every window, no index.

It exists to check the fast matcher (tests and ``benchmarks/matching.py`` require the same
themes and scores on the labelled set) and is far too slow for production: it compares each
of the N terms with each window of the text, and scores every window of every fuzzy term
with rapidfuzz (one ``cdist`` call per term and field; the windows within one typo are then
judged by ``fuzzy.py``). It shares the normalisation, the compiled terms, the fuzzy rules
and the scoring with ``Matcher``, so a difference can only come from how terms are found.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.watchlist.compile import DEFAULT_FUZZY_THRESHOLD, Compiled, Slot, compile_watchlists
from bot.core.watchlist.fuzzy import prefix_similarity, similarity
from bot.core.watchlist.model import Watchlist
from bot.core.watchlist.normalize import fields, matching_text
from bot.core.watchlist.scoring import EXACT, Found, Scorer, ThemeMatch


class ReferenceMatcher:
    """Same interface and results as ``Matcher``, by exhaustive comparison."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        marks = ReferenceMatcher(compiled.marks) if compiled.marks is not None else None
        self._scorer = Scorer(compiled, marks.find if marks is not None else None)

    @classmethod
    def from_watchlists(
        cls, watchlists: list[Watchlist], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> ReferenceMatcher:
        """A reference matcher for every theme of ``watchlists``."""
        return cls(compile_watchlists(watchlists, fuzzy_threshold))

    def match(self, title: str, summary: str) -> list[ThemeMatch]:
        """The themes that this title and summary match, best score first."""
        text, split = matching_text(title, summary)
        found = self.find(text, split)
        return self._scorer.score(found, (title, summary), text, split) if found else []

    def find(self, text: str, split: int) -> Found:
        """Best hit per slot and field, as ``Matcher.find``."""
        found: Found = {}
        for field, words in enumerate(fields(text, split)):
            tokens = words.split(" ") if words else []
            field_text = _Field(words, tokens, _starts(tokens), {})
            for slot in self.compiled.slots:
                hit = _exact_hit(slot, field_text) or _fuzzy_hit(slot, field_text)
                if hit is not None:
                    found[slot.index << 1 | field] = hit
        return found


@dataclass
class _Field:
    """One field's words, their offsets, and its windows of n words (built when needed)."""

    text: str
    tokens: list[str]
    starts: list[int]
    windows: dict[int, list[str]]

    def windows_of(self, n: int) -> list[str]:
        if n not in self.windows:
            self.windows[n] = [
                " ".join(self.tokens[i : i + n]) for i in range(len(self.tokens) - n + 1)
            ]
        return self.windows[n]


def _starts(tokens: list[str]) -> list[int]:
    out, offset = [], 0
    for token in tokens:
        out.append(offset)
        offset += len(token) + 1
    return out


def _exact_hit(slot: Slot, field: _Field) -> tuple[float, int, int] | None:
    """The first exact hit of any spelling of ``slot``, comparing every window of words."""
    first: tuple[float, int, int] | None = None
    tokens, starts = field.tokens, field.starts
    for variant in slot.variants:
        words = variant.split(" ")
        if words[0] not in field.text:
            continue  # a shortcut only: no window can start with it
        for i in range(len(tokens) - len(words) + 1):
            window = tokens[i : i + len(words)]
            if (
                (first is None or starts[i] < first[1])
                and _exact(slot, words, window)
                and not _excepted(slot, field, starts[i])
            ):
                first = (EXACT, starts[i], starts[i] + _matched(slot, words, window))
                break
    return first


def _excepted(slot: Slot, field: _Field, start: int) -> bool:
    """Whether one of the slot's exceptions rules out a hit at ``start``."""
    return slot.exceptions is not None and slot.exceptions.match(field.text, start) is not None


def _fuzzy_hit(slot: Slot, field: _Field) -> tuple[float, int, int] | None:
    """The most similar window (the first of equals), scoring every window with rapidfuzz."""
    if not slot.max_edits:
        return None
    if slot.mode == "prefix":
        return _fuzzy_prefix_hit(slot, field)
    best: tuple[float, int, int] | None = None
    windows = field.windows_of(slot.tokens)
    distances = process.cdist([slot.text], windows, scorer=OSA.distance)[0] if windows else []
    for i, distance in enumerate(distances):
        if distance > slot.max_edits or _excepted(slot, field, field.starts[i]):
            continue
        value = similarity(slot, windows[i])
        if value and (best is None or value > best[0]):
            best = (value, field.starts[i], field.starts[i] + len(windows[i]))
    return best


def _fuzzy_prefix_hit(slot: Slot, field: _Field) -> tuple[float, int, int] | None:
    """The word whose start is most similar to a one-word prefix term (the first of equals)."""
    best: tuple[float, int, int] | None = None
    for token, start in zip(field.tokens, field.starts, strict=True):
        value, size = prefix_similarity(slot, token)
        if value and not _excepted(slot, field, start) and (best is None or value > best[0]):
            best = (value, start, start + size)
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
