"""The fast matcher: one Aho-Corasick automaton over every term of every theme.

The title and summary are normalised together as ``" title \\x1f summary "`` (words
separated by single spaces). Every key in the automaton starts with a space, so it can only
match at the start of a word, and the single pass over the text costs about the same
whatever the number of terms. Each hit is then handled in Python, which is cheap because
hits are few:

* ``phrase`` keys also end with a space, so a hit is a whole-word match. ``word`` keys do
  not (a second key per term for the plural would double the automaton, and past the CPU
  caches its scan slows down more than checking the next character costs): after a hit,
  a space must follow, or an "s" and a space — plurals, and possessives, which normalise
  to the same ("Korea's" reads "koreas").
* ``prefix`` keys need no check for one word; several words are confirmed by a regex at
  the hit ("северн коре" finds "северной кореи").
* Fuzzy terms add two pieces to the automaton, a head anchored at a word start and a tail
  anchored at a word end (see ``pieces.py``): a window one typo away from the term starts
  with the head or ends with the tail. Piece hits are kept aside during the scan;
  afterwards, for terms not already found exactly in that field, each yields the window of
  the term's word count where the term could be, and only that window is scored with
  rapidfuzz (OSA distance: a swap of neighbours is one typo, so "Pyongayng" is one edit
  from "Pyongyang"). Windows that cross from title to summary are ignored.

The automaton is ``ahocorasick_rs`` (Rust) over UTF-8 bytes: its DFA scanned this workload
two to three times as fast as pyahocorasick (benchmarks/matching.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ahocorasick_rs import BytesAhoCorasick, Implementation
from rapidfuzz.distance import OSA

from bot.core.watchlist.compile import DEFAULT_FUZZY_THRESHOLD, Compiled, Slot, compile_watchlists
from bot.core.watchlist.model import Theme, Watchlist
from bot.core.watchlist.normalize import FIELD_BREAK, matching_text
from bot.core.watchlist.scoring import EXACT, Found, ThemeMatch, score

_EXACT, _WORD, _PREFIX_WORDS, _PIECE = range(4)
# The DFA is the fastest scanner at every size measured, but it is big: about 2.5 KB a key
# (10,000 terms: 17,500 keys, 43 MB). Past this many keys the contiguous NFA (40 % slower,
# a tenth of the memory) is used instead.
_DFA_MAX_KEYS = 20_000


@dataclass(frozen=True, slots=True)
class _Action:
    """What to do when the automaton finds a key."""

    kind: int
    slot: Slot
    index: int  # of the slot
    length: int = 0  # _EXACT: of the matched words, without the key's spaces or plural "s"
    offset: int = 0  # _PIECE: of the piece in the padded term " text " (0: the head)
    verify: re.Pattern[str] | None = None  # _PREFIX_WORDS: the whole term


def _actions(slot: Slot) -> Iterable[tuple[str, _Action]]:
    """(automaton key, action) pairs that find ``slot``."""
    for variant in slot.variants:
        exact = _Action(_EXACT, slot, slot.index, len(variant))
        if slot.mode == "prefix" and " " in variant:
            words = variant.split(" ")
            pattern = "".join(re.escape(w) + "[^ ]* " for w in words[:-1]) + re.escape(words[-1])
            verify = re.compile(pattern)
            yield " " + words[0], _Action(_PREFIX_WORDS, slot, slot.index, verify=verify)
        elif slot.mode == "prefix":
            yield " " + variant, exact
        elif slot.mode == "phrase":
            yield f" {variant} ", exact
        else:  # checked after the hit: a space or "s " must follow (see find)
            yield " " + variant, _Action(_WORD, slot, slot.index, len(variant))
    for offset, piece in slot.pieces:
        yield piece, _Action(_PIECE, slot, slot.index, offset=offset)


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
        self._key_sizes = [len(key) for key in table]
        implementation = Implementation.DFA if len(table) <= _DFA_MAX_KEYS else None
        self._automaton = (
            BytesAhoCorasick([key.encode() for key in table], implementation=implementation)
            if table
            else None
        )

    @classmethod
    def from_watchlists(
        cls, watchlists: list[Watchlist], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> Matcher:
        """A matcher for every theme of ``watchlists`` (fuzzy hits need this % similarity)."""
        return cls(compile_watchlists(watchlists, fuzzy_threshold))

    def match(self, title: str, summary: str) -> list[ThemeMatch]:
        """The themes that this title and summary match, best score first."""
        text, split = matching_text(title, summary)
        found = self.find(text, split)
        return score(self.compiled, found, (title, summary), text, split) if found else []

    def find(self, text: str, split: int) -> Found:
        """Best hit per slot and field in a ``matching_text`` whose summary starts at split."""
        found: Found = {}
        if self._automaton is None:
            return found
        pieces: list[tuple[int, int, _Action]] = []
        table = self._actions
        for index, start, stop in self._hits(text):
            for action in table[index]:
                kind = action.kind
                first = start + 1  # keys start with a space: the words start after it
                end = first + action.length
                if kind == _WORD:  # a whole word, or the word and a plural "s"
                    after = text[end]
                    if after != " " and (after != "s" or text[end + 1] != " "):
                        continue
                elif kind == _PREFIX_WORDS:
                    verified = action.verify.match(text, first) if action.verify else None
                    if verified is None:
                        continue
                    end = verified.end()
                elif kind == _PIECE:
                    pieces.append((start, stop, action))  # later: an exact hit may make it moot
                    continue
                field = 0 if first < split else 1
                local = first - (1 if field == 0 else split)
                key = action.index << 1 | field
                hit = found.get(key)
                if hit is None or hit[0] < EXACT or local < hit[1]:  # the first exact hit
                    found[key] = (EXACT, local, local + end - first)
        if pieces:
            _fuzzy(text, split, pieces, found)
        return found

    def _hits(self, text: str) -> list[tuple[int, int, int]]:
        """(key, start, stop) of every key found in ``text``, in character offsets.

        The automaton scans UTF-8 bytes: that skips the byte-to-character conversion of
        every offset that the ``str`` interface makes, a microsecond an article. For ASCII
        text they are the same; otherwise each hit's start is converted (keys start on a
        character boundary, as UTF-8 lead bytes never occur inside a character).
        """
        assert self._automaton is not None
        if text.isascii():
            return self._automaton.find_matches_as_indexes(text.encode("ascii"), overlapping=True)
        data = text.encode()
        hits = []
        for index, start, _ in self._automaton.find_matches_as_indexes(data, overlapping=True):
            first = len(data[:start].decode())
            hits.append((index, first, first + self._key_sizes[index]))
        return hits


def _fuzzy(text: str, split: int, pieces: list[tuple[int, int, _Action]], found: Found) -> None:
    """Score the windows that piece hits point at, unless the term was found exactly there.

    A hit on the head fixes where the window starts, a hit on the tail where it ends; the
    window has the term's word count. Most piece hits are other words that share a head
    or a tail, so the window's length is checked before rapidfuzz is called.
    """
    tried: set[tuple[int, int]] = set()
    for start, stop, action in pieces:
        slot = action.slot
        hit = found.get(slot.index << 1 | (0 if start + 1 < split else 1))
        if hit is not None and hit[0] == EXACT:
            continue  # a fuzzy hit cannot beat an exact one in the same field
        if action.offset == 0:  # the head: the window starts after its leading space
            begin = start + 1
            end = text.find(" ", begin + 1)
            for _ in range(slot.tokens - 1):
                end = text.find(" ", end + 1)
        else:  # the tail: it ends with the space after the window
            end = stop - 1
            begin = text.rfind(" ", 0, end)
            for _ in range(slot.tokens - 1):
                begin = text.rfind(" ", 0, begin)
            begin += 1
        if abs(end - begin - len(slot.text)) > slot.max_edits or (slot.index, begin) in tried:
            continue
        tried.add((slot.index, begin))
        _score_window(text[begin:end], begin, split, slot, found)


def _score_window(window: str, begin: int, split: int, slot: Slot, found: Found) -> None:
    """Record ``window`` (starting at ``begin``) as a fuzzy hit of ``slot`` if close enough."""
    if FIELD_BREAK in window or window == slot.text:
        return  # it straddles title and summary, or it is an exact hit
    distance = OSA.distance(slot.text, window, score_cutoff=slot.max_edits)
    similarity = EXACT * (1 - distance / max(len(slot.text), len(window)))
    if distance > slot.max_edits or similarity < slot.threshold:
        return
    field = 0 if begin < split else 1
    local = begin - (1 if field == 0 else split)
    key = slot.index << 1 | field
    hit = found.get(key)
    if hit is None or hit[0] < similarity or (hit[0] == similarity and local < hit[1]):
        found[key] = (similarity, local, local + len(window))
