"""The fast matcher: Aho-Corasick automata over every term of every theme.

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
* A term's exceptions ("북한산" for "북한") are checked at its hits: they are rare.
* Fuzzy terms add two pieces to the automaton, a head anchored at a word start and a tail
  anchored at a word end (see ``pieces.py``): a window one typo away from the term starts
  with the head or ends with the tail. Piece hits are kept aside during the scan;
  afterwards, for terms not already found exactly in that field, each yields the window of
  the term's word count where the term could be (prefix terms: the word), and ``fuzzy.py``
  decides whether it is a hit. Windows that cross from title to summary are ignored. The
  same words come up in article after article (most piece hits are other words sharing a
  head or tail: "Primorye" for "Primorsky"), so verdicts are cached per term and window.

Keys are split by script into two automata: Latin text, most of the feeds, is scanned only
by the automaton of ASCII keys, whose DFA is smaller (fewer byte classes, so more of it
stays in the CPU caches); text with other letters is scanned by both.

The automata are ``ahocorasick_rs`` (Rust) DFAs, the Latin one over UTF-8 bytes, the other
over ``str`` (see ``_hits``): they scanned this workload two to three times as fast as
pyahocorasick. What a bigger watchlist costs is not the pass itself but its hits: each word
that walks deep into a big DFA misses the CPU caches (benchmarks/matching.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation

from bot.core.watchlist.compile import DEFAULT_FUZZY_THRESHOLD, Compiled, Slot, compile_watchlists
from bot.core.watchlist.fuzzy import prefix_similarity, similarity
from bot.core.watchlist.kept import Kept
from bot.core.watchlist.model import Theme, Watchlist
from bot.core.watchlist.normalize import FIELD_BREAK, matching_text
from bot.core.watchlist.scoring import EXACT, Found, Scorer, ThemeMatch

# Action kinds. Pieces sort last (kind >= _HEAD) so the hit loop tells them apart with one
# comparison.
_EXACT, _WORD, _PREFIX_WORDS, _HEAD, _TAIL, _PREFIX_HEAD, _PREFIX_TAIL = range(7)
# The DFA is the fastest scanner at every size measured, but it is big: about 2.5 KB a key
# (10,000 terms: 17,500 keys, 43 MB). Past this many keys the contiguous NFA (40 % slower,
# a tenth of the memory) is used instead.
_DFA_MAX_KEYS = 20_000
_CACHE_SIZE = 100_000  # fuzzy verdicts kept (then forgotten at once: simpler than an LRU)

# What to do when the automaton finds a key, as a plain tuple (the hit loop unpacks it
# faster than it reads attributes): (kind, slot index << 1, length, extra, exceptions);
# the slot index comes shifted, as the keys of ``Found`` are (slot << 1 | field).
# length: _EXACT/_WORD, of the matched words without the key's spaces or plural "s".
# extra: the regex of a _PREFIX_WORDS term, the _PieceInfo of a piece.
_Action = tuple[int, int, int, Any, re.Pattern[str] | None]
# A piece's kind, slot index << 1, words, the term's length, typos allowed, and where the
# window ends after the key (_TAIL: the key's length less its space) or where the tail
# sits in the word (_PREFIX_TAIL), then the slot.
_PieceInfo = tuple[int, int, int, int, int, int, Slot]
_Piece = tuple[int, _PieceInfo]  # where the key starts in the text, what it is


def _actions(slot: Slot) -> Iterable[tuple[str, _Action]]:
    """(automaton key, action) pairs that find ``slot``."""
    index, exceptions = slot.index << 1, slot.exceptions
    for variant in slot.variants:
        if slot.mode == "prefix" and " " in variant:
            words = variant.split(" ")
            pattern = "".join(re.escape(w) + "[^ ]* " for w in words[:-1]) + re.escape(words[-1])
            verify = re.compile(pattern)
            yield " " + words[0], (_PREFIX_WORDS, index, 0, verify, exceptions)
        elif slot.mode == "prefix":
            yield " " + variant, (_EXACT, index, len(variant), None, exceptions)
        elif slot.mode == "phrase":
            yield f" {variant} ", (_EXACT, index, len(variant), None, exceptions)
        else:  # checked after the hit: a space or "s " must follow (see find)
            yield " " + variant, (_WORD, index, len(variant), None, exceptions)
    for offset, piece in slot.pieces:
        if slot.mode == "prefix":
            kind, at = (_PREFIX_TAIL, offset - 1) if offset else (_PREFIX_HEAD, 0)
        else:
            kind, at = (_TAIL, len(piece) - 1) if offset else (_HEAD, 0)
        info = (kind, index, slot.tokens, len(slot.text), slot.max_edits, at, slot)
        yield piece, (kind, index, 0, info, None)


def _implementation(keys: list[str]) -> Implementation | None:
    """The DFA, unless there are too many keys for its memory (then the library's choice)."""
    return Implementation.DFA if len(set(keys)) <= _DFA_MAX_KEYS else None


def _automaton(keys: list[str]) -> BytesAhoCorasick | None:
    """An automaton over UTF-8 bytes reporting every key (a key twice: both), or None."""
    if not keys:
        return None
    return _BYTES_AUTOMATA.get_or_make(
        tuple(keys),
        lambda: BytesAhoCorasick([k.encode() for k in keys], implementation=_implementation(keys)),
    )


def _text_automaton(keys: list[str]) -> AhoCorasick | None:
    """An automaton over ``str`` reporting every key, offsets in characters, or None."""
    if not keys:
        return None
    return _TEXT_AUTOMATA.get_or_make(
        tuple(keys), lambda: AhoCorasick(keys, implementation=_implementation(keys))
    )


# Automata by their keys, in order (an automaton reports a key by its index): building the
# two of the default watchlist takes ~4 ms, and a draft previewed in the panel's editor
# usually changes the keys of one script alone, so the other automaton is the one of the
# version in force. A few are kept (the DFA takes ~2.5 KB a key): that one and the last
# drafts'. A built automaton is only read, and matching in several threads already shares
# one (`bot.core.watchlist_editing.compiled`).
_BYTES_AUTOMATA: Kept[tuple[str, ...], BytesAhoCorasick] = Kept(3)
_TEXT_AUTOMATA: Kept[tuple[str, ...], AhoCorasick] = Kept(3)


class Matcher:
    """Finds the themes of articles; build once with ``from_watchlists``, then ``match``."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self.themes: dict[str, Theme] = {t.theme.slug: t.theme for t in compiled.themes}
        # The title marks' own (small) automata, run only for an article a theme matched.
        marks = Matcher(compiled.marks) if compiled.marks is not None else None
        self._scorer = Scorer(compiled, marks.find if marks is not None else None)
        # One key per action (a key that several actions share is given once for each: the
        # automaton reports them all, and the hit loop needs no inner loop), the Latin
        # automaton's first, then the other's.
        latin: list[tuple[str, _Action]] = []
        other: list[tuple[str, _Action]] = []
        for slot in compiled.slots:
            for key, action in _actions(slot):
                (latin if key.isascii() else other).append((key, action))
        # ``keys``: every string the automata look for. Each hit ``find`` reports is one of
        # them found in the text, so a text in which none occurs has no hit at all.
        self.keys = tuple(key for key, _ in (*latin, *other))
        self._actions = [action for _, action in (*latin, *other)]
        self._offset = len(latin)
        self._latin = _automaton([key for key, _ in latin])
        self._other = _text_automaton([key for key, _ in other])
        self._verdicts: dict[tuple[int, str], tuple[float, int]] = {}

    @classmethod
    def from_watchlists(
        cls, watchlists: list[Watchlist], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    ) -> Matcher:
        """A matcher for every theme of ``watchlists`` (fuzzy hits need this % similarity)."""
        return cls(compile_watchlists(watchlists, fuzzy_threshold))

    def match(self, title: str, summary: str) -> list[ThemeMatch]:
        """The themes that this title and summary match, best score first."""
        text, split = matching_text(title, summary)
        return self.match_normalized(title, summary, text, split)

    def match_normalized(self, title: str, summary: str, text: str, split: int) -> list[ThemeMatch]:
        """``match``, given the ``matching_text`` of title and summary already (a caller that
        matches one article with several matchers normalises it once)."""
        found = self.find(text, split)
        return self._scorer.score(found, (title, summary), text, split) if found else []

    def find(self, text: str, split: int) -> Found:
        """Best hit per slot and field in a ``matching_text`` whose summary starts at split."""
        # Keys start with a space, so a hit's words start at start + 1: as an offset into
        # the title's words (they start at 1) that is start, into the summary's (they start
        # at split) start + 1 - split.
        found: Found = {}
        pieces: list[_Piece] = []
        table = self._actions
        title_end = split - 1
        for index, start, _ in self._hits(text):
            kind, base, length, extra, exceptions = table[index]
            if kind == _WORD:  # a whole word, or the word and a plural "s"
                after = text[start + 1 + length]
                if after != " " and (after != "s" or text[start + 2 + length] != " "):
                    continue
            elif kind >= _HEAD:
                pieces.append((start, extra))  # later: exact hits first
                continue
            elif kind == _PREFIX_WORDS:
                verified = extra.match(text, start + 1)
                if verified is None:
                    continue
                length = verified.end() - start - 1
            if exceptions is not None and exceptions.match(text, start + 1):
                continue
            if start < title_end:
                key, local = base, start
            else:
                key, local = base | 1, start + 1 - split
            hit = found.get(key)
            if hit is None or local < hit[1]:  # the first hit (all are exact so far)
                found[key] = (EXACT, local, local + length)
        if pieces:
            self._fuzzy(text, split, pieces, found)
        return found

    def _hits(self, text: str) -> list[tuple[int, int, int]]:
        """(action index, start, stop) of every key found in ``text``; start in characters.

        The Latin automaton scans UTF-8 bytes: that skips the byte-to-character conversion
        of every offset that the ``str`` interface makes, a microsecond an article. For
        ASCII text, most of the feeds, bytes and characters are the same and only it can
        find anything. Other text is also scanned by the automaton of the other keys,
        through the ``str`` interface, whose conversion (in Rust, one pass) is cheaper
        there than converting its many hits here; the Latin automaton's hits in such text
        (a "KN-23" in a Russian article) are few, and each start is converted here (keys
        start with a space, so on a character boundary).
        """
        if text.isascii():
            return (
                self._latin.find_matches_as_indexes(text.encode("ascii"), overlapping=True)
                if self._latin
                else []
            )
        hits = []
        if self._latin is not None:
            data = text.encode()
            for index, start, stop in self._latin.find_matches_as_indexes(data, overlapping=True):
                hits.append((index, len(data[:start].decode()), stop))
        if self._other is not None:
            offset = self._offset
            for index, start, stop in self._other.find_matches_as_indexes(text, overlapping=True):
                hits.append((index + offset, start, stop))
        return hits

    def _fuzzy(self, text: str, split: int, pieces: list[_Piece], found: Found) -> None:
        """Judge the windows that piece hits point at, unless the term was found exactly there.

        A hit on the head fixes where the window starts, a hit on the tail where it ends;
        the window has the term's word count (prefix terms: it is the word). Most piece
        hits are other words that share a head or a tail, so the window's length is
        checked before anything else.
        """
        verdicts = self._verdicts
        for start, (kind, base, tokens, size, edits, at, slot) in pieces:
            # The piece is in the window, so it tells the field (a window across the two
            # fields is no hit anyway).
            key = base | (start + 1 >= split)
            hit = found.get(key)
            if hit is not None and hit[0] == EXACT:
                continue  # a fuzzy hit cannot beat an exact one in the same field
            if kind == _HEAD:  # the window starts after the head's leading space
                begin = start + 1
                end = text.find(" ", begin + 1)
                if tokens > 1:
                    for _ in range(tokens - 1):
                        end = text.find(" ", end + 1)
                if abs(end - begin - size) > edits:
                    continue
            elif kind == _TAIL:  # it ends with the space at the end of the tail
                end = start + at
                begin = text.rfind(" ", 0, end)
                if tokens > 1:
                    for _ in range(tokens - 1):
                        begin = text.rfind(" ", 0, begin)
                begin += 1
                if abs(end - begin - size) > edits:
                    continue
            elif kind == _PREFIX_HEAD:
                begin = start + 1
                end = text.find(" ", begin)
            else:  # _PREFIX_TAIL: inside a word, where the term's tail would be, ± a letter
                begin = text.rfind(" ", 0, start) + 1
                if abs(start - begin - at) > edits:
                    continue
                end = text.find(" ", begin)
            window = text[begin:end]
            verdict = verdicts.get((base, window))
            if verdict is None:
                verdict = self._judge(slot, window, kind)
                if len(verdicts) >= _CACHE_SIZE:
                    verdicts.clear()
                verdicts[base, window] = verdict
            if not verdict[0] or (slot.exceptions and slot.exceptions.match(text, begin)):
                continue
            value = verdict[0]
            local = begin - 1 if key & 1 == 0 else begin - split
            if hit is None or hit[0] < value or (hit[0] == value and local < hit[1]):
                found[key] = (value, local, local + verdict[1])

    @staticmethod
    def _judge(slot: Slot, window: str, kind: int) -> tuple[float, int]:
        """(similarity, length matched) of a window; (0.0, 0) if it is no hit."""
        if FIELD_BREAK in window:
            return 0.0, 0  # it straddles title and summary
        if kind >= _PREFIX_HEAD:
            return prefix_similarity(slot, window)
        return similarity(slot, window), len(window)
