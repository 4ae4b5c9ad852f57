"""Watchlists compiled for matching: distinct terms ("slots") and who uses each.

A slot is one distinct term — the same normalised text, mode and fuzziness — however
many themes, groups or exclusion lists name it, so each is searched for once per article.
Both matchers (the fast one and the brute-force reference) find slots; ``scoring`` turns
found slots into theme matches, so the two differ only in how they find terms.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.watchlist.model import Group, Term, TermMode, Theme, Watchlist
from bot.core.watchlist.normalize import normalize_term
from bot.core.watchlist.pieces import Piece, choose_pieces

DEFAULT_FUZZY_THRESHOLD = 85.0
MAX_EDITS = 1  # typos per term: more would need more, shorter, unanchored pieces (pieces.py)


@dataclass(frozen=True, slots=True)
class Slot:
    """One distinct term to find."""

    index: int
    term: Term  # as first written (shown in explanations)
    text: str  # normalised
    variants: tuple[str, ...]  # normalised forms to find exactly: text, then hyphen-joined
    mode: TermMode
    tokens: int  # words in ``text``
    max_edits: int  # 0: exact only
    threshold: float  # minimum similarity (0-100) of a fuzzy hit
    pieces: tuple[Piece, ...]  # indexed to find fuzzy candidates (see pieces.py)
    # A hit where this matches the text (from the hit's first word on) does not count.
    exceptions: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class CompiledTheme:
    """A theme in slot terms."""

    theme: Theme
    weights: dict[int, float]  # indicator slot -> weight
    require: tuple[int, ...]  # group ids
    require_bits: int  # the same as a bit set
    exclude: tuple[int, ...]  # slots
    # Groups of ``Compiled.marks`` (not of the main automaton): other actors (Theme.others)
    # and round-up markers (Theme.roundups), as bit sets.
    others_bits: int = 0
    roundup_bits: int = 0


@dataclass(frozen=True, slots=True)
class Compiled:
    """Every slot, theme and group of a set of watchlists."""

    slots: tuple[Slot, ...]
    themes: tuple[CompiledTheme, ...]
    groups: tuple[Group, ...]
    group_of_slot: tuple[tuple[int, ...], ...]  # slot -> group ids it belongs to
    # Bit sets (Python ints) per slot, so that scoring an article is a few integer ORs:
    group_bits: tuple[int, ...]  # bit g: the slot belongs to group g
    theme_bits: tuple[int, ...]  # bit t: the slot is an indicator of theme t
    exclude_bits: tuple[int, ...]  # bit t: the slot vetoes theme t
    # Title marks (Theme.others, Theme.roundups): their own slots and groups, looked for only
    # in the title of an article that a theme matched. In the main automaton the names of
    # other countries would be hits in most articles, each costing the hit loop and scoring.
    marks: Compiled | None = None


def max_edits(text: str, threshold: float) -> int:
    """Most typos a fuzzy hit on ``text`` can have at ``threshold`` % similarity.

    Similarity is ``1 - distance / max(len(term), len(window))``, so d typos are possible
    when d / (len + d) ≤ 1 - threshold/100. Capped at ``MAX_EDITS``.
    """
    edits = 0
    for d in range(1, MAX_EDITS + 1):
        if d / (len(text) + d) <= 1 - threshold / 100 + 1e-12:
            edits = d
    return edits


def fuzzy_plan(
    text: str, threshold: float, used: Counter[str], mode: TermMode = "word"
) -> tuple[int, tuple[Piece, ...]]:
    """(typos allowed, pieces to index) for a fuzzy term: (0, ()) if it cannot have one."""
    edits = max_edits(text, threshold)
    pieces = choose_pieces(text, used, prefix=mode == "prefix") if edits else None
    return (edits, pieces) if pieces else (0, ())


# Kept per term (a Term is frozen): compiling a draft for its preview spells out the variants
# of every term, nearly all as the last compile did.
@functools.lru_cache(maxsize=16_384)
def _variants(term: Term) -> tuple[str, ...]:
    """The normalised term, then other spellings of it that normalise differently.

    Normalising deletes periods, so "N. Korea" reads "n korea" but "N.Korea" "nkorea":
    both are searched, whichever way the term is written. Hyphens read as spaces, so
    "KN-23" is also searched as "kn23".
    """
    text = term.text
    forms = (
        text,
        re.sub("[-\u2010\u2011]", "", text),  # KN-23 -> KN23
        re.sub(r"(?<=[.,])\s+", "", text),  # N. Korea -> N.Korea
        re.sub(r"[.,](?=\w)", ". ", text),  # N.Korea -> N. Korea
    )
    out: list[str] = []
    for form in forms:
        normalised = normalize_term(form)
        if normalised and normalised not in out:
            out.append(normalised)
    return tuple(out)


@functools.lru_cache(maxsize=4_096)  # as _variants
def _exception_pattern(exceptions: tuple[str, ...], mode: TermMode) -> re.Pattern[str] | None:
    """A regex matching the text at a hit that one of ``exceptions`` rules out.

    They are read like the term: for a prefix term each of their words starts a word of
    the text ("북한산" rules out 북한산에, 북한산국립공원), otherwise the text starts with
    them ("satellite image" rules out "satellite images" and "satellite imagery").
    """
    if not exceptions:
        return None
    forms = []
    for exception in exceptions:
        words = exception.split(" ")
        if mode == "prefix":
            forms.append(
                "".join(re.escape(w) + "[^ ]* " for w in words[:-1]) + re.escape(words[-1])
            )
        else:
            forms.append(re.escape(exception))
    return re.compile("|".join(forms))


_SlotKey = tuple[str, TermMode, bool, tuple[str, ...]]


@functools.lru_cache(maxsize=16_384)  # as _variants
def _slot_parts(term: Term) -> tuple[_SlotKey, tuple[str, ...], re.Pattern[str] | None]:
    """What makes a term's slot, however many use it: its key (terms with the same key are
    one slot), its variants and its exceptions' pattern."""
    variants = _variants(term)
    exceptions = tuple(normalize_term(e) for e in term.exceptions)
    key = (variants[0], term.mode, term.fuzzy, exceptions)
    return key, variants, _exception_pattern(exceptions, term.mode)


class _Builder:
    """Accumulates slots and their uses."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.pieces_used: Counter[str] = Counter()
        self.slots: list[Slot] = []
        self.by_key: dict[_SlotKey, int] = {}
        self.groups: list[Group] = []
        self.group_ids: dict[tuple[int, str], int] = {}
        self.uses_group: list[list[int]] = []
        self.uses_indicator: list[list[tuple[int, float]]] = []
        self.uses_exclude: list[list[int]] = []

    def slot(self, term: Term) -> int:
        key, variants, pattern = _slot_parts(term)
        found = self.by_key.get(key)
        if found is not None:
            return found
        edits, pieces = (
            fuzzy_plan(variants[0], self.threshold, self.pieces_used, term.mode)
            if term.fuzzy
            else (0, ())
        )
        index, words = len(self.slots), variants[0].count(" ") + 1
        self.slots.append(
            Slot(
                index,
                term,
                variants[0],
                variants,
                term.mode,
                words,
                edits,
                self.threshold,
                pieces,
                pattern,
            )
        )
        self.by_key[key] = index
        self.uses_group.append([])
        self.uses_indicator.append([])
        self.uses_exclude.append([])
        return index

    def group(self, file_index: int, group: Group) -> int:
        key = (file_index, group.name)
        if key not in self.group_ids:
            gid = self.group_ids[key] = len(self.groups)
            self.groups.append(group)
            for term in group.terms:
                uses = self.uses_group[self.slot(term)]
                if gid not in uses:
                    uses.append(gid)
        return self.group_ids[key]

    def theme(
        self, file_index: int, theme_index: int, theme: Theme, marks: _Builder
    ) -> CompiledTheme:
        weights = {}
        for term in theme.terms:
            slot = self.slot(term)
            weights[slot] = term.weight
            self.uses_indicator[slot].append((theme_index, term.weight))
        exclude = []
        for term in theme.exclude:
            slot = self.slot(term)
            exclude.append(slot)
            self.uses_exclude[slot].append(theme_index)
        require = tuple(self.group(file_index, g) for g in theme.require)
        others = _bits(marks.group(file_index, g) for g in theme.others)
        roundups = _bits(marks.group(file_index, g) for g in theme.roundups)
        return CompiledTheme(
            theme, weights, require, _bits(require), tuple(exclude), others, roundups
        )


def _bits(indexes: Iterable[int]) -> int:
    out = 0
    for index in indexes:
        out |= 1 << index
    return out


def compile_watchlists(
    watchlists: list[Watchlist], threshold: float = DEFAULT_FUZZY_THRESHOLD
) -> Compiled:
    """Slots and uses of every theme of ``watchlists`` (slugs are unique: load checked)."""
    if not 50 <= threshold <= 100:
        raise ValueError(f"fuzzy threshold {threshold} is not between 50 and 100 (percent)")
    builder, marks = _Builder(threshold), _Builder(threshold)
    themes: list[CompiledTheme] = []
    for file_index, watchlist in enumerate(watchlists):
        for theme in watchlist.themes:
            themes.append(builder.theme(file_index, len(themes), theme, marks))
    return _compiled(builder, tuple(themes), _compiled(marks, ()) if marks.groups else None)


def _compiled(
    builder: _Builder, themes: tuple[CompiledTheme, ...], marks: Compiled | None = None
) -> Compiled:
    return Compiled(
        slots=tuple(builder.slots),
        themes=themes,
        groups=tuple(builder.groups),
        group_of_slot=tuple(tuple(u) for u in builder.uses_group),
        group_bits=tuple(_bits(u) for u in builder.uses_group),
        theme_bits=tuple(_bits(t for t, _ in u) for u in builder.uses_indicator),
        exclude_bits=tuple(_bits(u) for u in builder.uses_exclude),
        marks=marks,
    )
