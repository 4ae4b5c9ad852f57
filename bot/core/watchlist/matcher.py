"""The fast matcher: one Aho-Corasick automaton over every term of every theme.

The article's title and summary are normalised and joined as ``" title \\n summary "``.
Every key in the automaton starts with a space, so a key can only match at the start of a
word, and the one pass over the text costs the same whatever the number of terms (the
automaton's size does not enter the scan). Each hit is then checked in Python, which is
cheap because hits are few:

* ``word``/``phrase`` keys check the character after the key: a space, or (``word``) an
  "s" and a space for plurals and possessives ("Korea's" is normalised to "korea s").
* ``prefix`` keys need no check for one word; several words are confirmed by a regex at
  the hit ("северн коре" finds "северной кореи").
* Fuzzy terms add two pieces to the automaton, a head anchored at a word start and a tail
  anchored at a word end (see ``pieces.py``): a window one typo away from the term starts
  with the head or ends with the tail. Piece hits are
  kept aside during the scan; afterwards, for terms not already found exactly in that
  field, each yields the few windows of the term's word count where the term could be, and
  only those are scored with rapidfuzz (OSA distance: a swap of neighbours is one typo, so
  "Pyongayng" is one edit from "Pyongyang"). Windows that cross from title to summary are
  ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ahocorasick_rs import AhoCorasick, Implementation
from rapidfuzz.distance import OSA

from bot.core.watchlist.compile import DEFAULT_FUZZY_THRESHOLD, Compiled, Slot, compile_watchlists
from bot.core.watchlist.model import Theme, Watchlist
from bot.core.watchlist.normalize import normalize
from bot.core.watchlist.scoring import EXACT, Article, Found, ThemeMatch, score

_WORD, _PHRASE, _PREFIX, _PREFIX_WORDS, _PIECE = range(5)
_DFA_MAX_KEYS = 4_000


@dataclass(frozen=True, slots=True)
class _Action:
    """What to do when the automaton finds a key."""

    kind: int
    slot: Slot
    size: int  # length of the key
    offset: int = 0  # of a fuzzy piece in the padded term " text " (0: the head)
    verify: re.Pattern[str] | None = None  # multi-word prefix terms


def _actions(slot: Slot) -> Iterable[tuple[str, _Action]]:
    """(automaton key, action) pairs that find ``slot``."""
    for variant in slot.variants:
        key = " " + variant
        if slot.mode == "prefix" and " " in variant:
            words = variant.split(" ")
            pattern = "".join(re.escape(w) + "[^ ]* " for w in words[:-1]) + re.escape(words[-1])
            head = " " + words[0]
            yield head, _Action(_PREFIX_WORDS, slot, len(head), verify=re.compile(pattern))
        elif slot.mode == "prefix":
            yield key, _Action(_PREFIX, slot, len(key))
        else:
            yield key, _Action(_WORD if slot.mode == "word" else _PHRASE, slot, len(key))
    for offset, piece in slot.pieces:
        yield piece, _Action(_PIECE, slot, len(piece), offset)


class Matcher:
    """Finds the themes of articles; build once with ``from_watchlists``, then ``match``."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self.themes: dict[str, Theme] = {t.theme.slug: t.theme for t in compiled.themes}
        table: dict[str, list[_Action]] = {}
        for slot in compiled.slots:
            for key, action in _actions(slot):
                table.setdefault(key, []).append(action)
        self._actions = [tuple(actions) for actions in table.values()]
        # A DFA scans fastest while it fits in the CPU caches; past that the contiguous NFA
        # wins (measured with benchmarks/matching.py: 1,000 terms 5 vs 9 µs, 10,000: 33 vs 18).
        implementation = Implementation.DFA if len(table) <= _DFA_MAX_KEYS else None
        self._automaton = AhoCorasick(list(table), implementation=implementation) if table else None

    @classmethod
    def from_watchlists(
        cls, watchlists: list[Watchlist], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> Matcher:
        """A matcher for every theme of ``watchlists`` (fuzzy hits need this % similarity)."""
        return cls(compile_watchlists(watchlists, fuzzy_threshold))

    def match(self, title: str, summary: str) -> list[ThemeMatch]:
        """The themes that this title and summary match, best score first."""
        head, body = normalize(title).strip(" "), normalize(summary).strip(" ")
        found = self.find(head, body)
        if not found:
            return []
        return score(self.compiled, found, Article((title, summary), (head, body)))

    def find(self, head: str, body: str) -> Found:
        """Best hit per slot and field in normalised title ``head`` and summary ``body``."""
        found: Found = {}
        if self._automaton is None:
            return found
        text = f" {head} \n {body} "
        split = len(head) + 4  # where the summary starts in ``text``
        pieces: list[tuple[int, int, _Action]] = []
        table = self._actions
        for index, start, stop in self._automaton.find_matches_as_indexes(text, overlapping=True):
            for action in table[index]:
                kind = action.kind
                if kind == _PIECE:
                    pieces.append((start, stop, action))  # later: an exact hit may make it moot
                    continue
                last = stop  # where the matched words end
                if kind <= _PHRASE:  # _WORD or _PHRASE: a word must end here
                    after = text[stop]
                    if after != " " and (kind == _PHRASE or after != "s" or text[stop + 1] != " "):
                        continue
                elif kind == _PREFIX_WORDS:
                    verified = action.verify.match(text, start + 1) if action.verify else None
                    if verified is None:
                        continue
                    last = verified.end()
                first = start + 1  # keys start with a space: the word starts after it
                field = 0 if first < split else 1
                local = first - (1 if field == 0 else split)
                key = action.slot.index << 1 | field
                hit = found.get(key)
                if hit is None or hit[0] < EXACT or local < hit[1]:  # the first exact hit
                    found[key] = (EXACT, local, local + last - first)
        if pieces:
            _fuzzy(text, split, pieces, found)
        return found


def _fuzzy(text: str, split: int, pieces: list[tuple[int, int, _Action]], found: Found) -> None:
    """Score the windows that piece hits point at, unless the term was found exactly there."""
    tried: set[tuple[int, int]] = set()
    for start, stop, action in pieces:
        slot = action.slot
        field = 0 if start + 1 < split else 1  # pieces start with a space or a letter
        hit = found.get(slot.index << 1 | field)
        if hit is not None and hit[0] == EXACT:
            continue  # a fuzzy hit cannot beat an exact one in the same field
        window = _window_start(text, start, stop, action)
        if window is not None and (slot.index, window) not in tried:
            tried.add((slot.index, window))
            _score_window(text, split, window, slot, found)


def _score_window(text: str, split: int, start: int, slot: Slot, found: Found) -> None:
    stop = start - 1
    for _ in range(slot.tokens):
        stop = text.find(" ", stop + 1)
        if stop < 0:
            return
    window = text[start:stop]
    if "\n" in window or window == slot.text:
        return
    distance = OSA.distance(slot.text, window, score_cutoff=slot.max_edits)
    if distance > slot.max_edits:
        return
    similarity = EXACT * (1 - distance / max(len(slot.text), len(window)))
    if similarity < slot.threshold:
        return
    field = 0 if start < split else 1
    local = start - (1 if field == 0 else split)
    key = slot.index << 1 | field
    hit = found.get(key)
    if hit is None or hit[0] < similarity or (hit[0] == similarity and local < hit[1]):
        found[key] = (similarity, local, local + len(window))


def _window_start(text: str, start: int, stop: int, action: _Action) -> int | None:
    """Where the window holding the term starts, given a hit on its head or its tail."""
    if action.offset == 0:  # the head: the window starts after its leading space
        return start + 1
    begin = stop - 1  # the tail ends with the space after the window; go back over its words
    for _ in range(action.slot.tokens):
        begin = text.rfind(" ", 0, begin)
    return begin + 1 if begin >= 0 else None
