"""From found terms to theme matches with explanations (shared by both matchers).

Rules: a theme matches when every ``require`` group has at least one term anywhere in the
title or summary, none of its ``exclude`` terms occurs, and its score reaches ``min_score``.
The score sums, over distinct indicator terms, weight × 2 for a title hit or × 1 for a
summary hit (the better of the two), × similarity/100 for a fuzzy hit. A stretch of text
counts once per theme: when two terms of a theme hit overlapping words ("road bridge" and
"bridge", or "defence minister" and a fuzzy "defense minister"), only the one worth more
points counts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal, TypedDict

from bot.core.watchlist.compile import Compiled, CompiledTheme
from bot.core.watchlist.normalize import fields, normalize_term, surface, word_spans

TITLE, SUMMARY = 0, 1
FIELD_NAMES: tuple[Literal["title"], Literal["summary"]] = ("title", "summary")
FIELD_FACTOR = (2.0, 1.0)
EXACT = 100.0

#: (slot << 1 | field) -> (similarity, start, end): the best hit of a slot in a field, with
#: offsets into that field's normalised text (end: where the matched key ends).
Found = dict[int, tuple[float, int, int]]


class HitInfo(TypedDict):
    """One indicator term that counted."""

    term: str
    matched: str
    field: Literal["title", "summary"]
    kind: Literal["exact", "fuzzy"]
    similarity: float
    points: float


class Explanation(TypedDict):
    """Why a theme matched (JSON-serialisable)."""

    score: float
    min_score: float
    hits: list[HitInfo]
    context: dict[str, str]


class ThemeMatch:
    """A theme that an article matches; ``explanation`` is worked out when first read.

    Most matched articles are only routed by slug; finding the original words of each hit
    costs more than the matching itself, so it waits until someone asks why. (A plain
    class with slots: a frozen dataclass's ``__init__`` costs a microsecond an article.)
    """

    __slots__ = ("_explain", "_explanation", "score", "slug")

    def __init__(self, slug: str, score: float, explain: Callable[[], Explanation]) -> None:
        self.slug = slug
        self.score = score
        self._explain = explain
        self._explanation: Explanation | None = None

    @property
    def explanation(self) -> Explanation:
        """Which terms hit, where, for how many points, and the context found."""
        if self._explanation is None:
            self._explanation = self._explain()
        return self._explanation

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ThemeMatch) and (self.slug, self.score) == (
            other.slug,
            other.score,
        )

    def __hash__(self) -> int:
        return hash((self.slug, self.score))

    def __repr__(self) -> str:
        return f"ThemeMatch(slug={self.slug!r}, score={self.score!r})"


class Article:
    """Title and summary, original and normalised (word positions found only if needed)."""

    __slots__ = ("_spans", "normalized", "originals")

    def __init__(self, originals: tuple[str, str], normalized: tuple[str, str]) -> None:
        self.originals = originals
        self.normalized = normalized
        self._spans: dict[int, list[tuple[int, int]] | None] = {}

    def surface(self, which: int, start: int, end: int) -> str:
        """Original words of a hit, up to the end of its last word."""
        text, words = self.originals[which], self.normalized[which]
        if which not in self._spans:
            self._spans[which] = word_spans(text, words)
        return surface(text, words, start, end, self._spans[which])


def score(
    compiled: Compiled, found: Found, originals: tuple[str, str], text: str, split: int
) -> list[ThemeMatch]:
    """Theme matches for the found slots, best score first.

    ``originals`` are the title and summary as given, ``text`` and ``split`` their
    ``matching_text``: only needed if someone reads an explanation.
    """
    groups = vetoed = candidates = 0
    group_bits, theme_bits, exclude_bits = (
        compiled.group_bits,
        compiled.theme_bits,
        compiled.exclude_bits,
    )
    for key in found:
        groups |= group_bits[key >> 1]
        vetoed |= exclude_bits[key >> 1]
        candidates |= theme_bits[key >> 1]
    candidates &= ~vetoed
    matches: list[ThemeMatch] = []
    article: Article | None = None
    while candidates:
        lowest = candidates & -candidates
        candidates ^= lowest
        compiled_theme = compiled.themes[lowest.bit_length() - 1]
        if groups & compiled_theme.require_bits != compiled_theme.require_bits:
            continue  # cheap tests first: most candidates lack a context group
        by_slot = _without_overlaps(_points(compiled_theme, found), found)
        total = sum(p for p, _ in by_slot.values())
        if total < compiled_theme.theme.min_score - 1e-9:
            continue
        article = article or Article(originals, fields(text, split))
        why = partial(_explain, compiled, compiled_theme, by_slot, total, found, article)
        matches.append(ThemeMatch(compiled_theme.theme.slug, round(total, 3), why))
    matches.sort(key=lambda m: (-m.score, m.slug))
    return matches


def _points(theme: CompiledTheme, found: Found) -> dict[int, tuple[float, int]]:
    """slot -> (points, key of the hit that gave them) for the theme's indicators found."""
    points: dict[int, tuple[float, int]] = {}
    weights = theme.weights
    for key, hit in found.items():
        weight = weights.get(key >> 1)
        if weight is not None:
            value = weight * FIELD_FACTOR[key & 1] * hit[0] / EXACT
            if value > points.get(key >> 1, (0.0, 0))[0]:
                points[key >> 1] = (value, key)
    return points


def _without_overlaps(
    candidates: dict[int, tuple[float, int]], found: Found
) -> dict[int, tuple[float, int]]:
    """The hits that count: best points first, skipping any that overlaps one kept."""
    if len(candidates) == 1:
        return candidates
    kept: dict[int, tuple[float, int]] = {}
    spans: list[tuple[int, int, int]] = []
    for slot, (value, key) in sorted(candidates.items(), key=lambda kv: (-kv[1][0], kv[0])):
        _, start, end = found[key]
        field = key & 1
        if any(f == field and start < e and s < end for f, s, e in spans):
            continue
        spans.append((field, start, end))
        kept[slot] = (value, key)
    return kept


def _explain(
    compiled: Compiled,
    compiled_theme: CompiledTheme,
    by_slot: dict[int, tuple[float, int]],
    total: float,
    found: Found,
    article: Article,
) -> Explanation:
    hits: list[HitInfo] = []
    for slot_index, (value, key) in sorted(by_slot.items(), key=lambda kv: -kv[1][0]):
        similarity, start, end = found[key]
        hits.append(
            HitInfo(
                term=compiled.slots[slot_index].term.text,
                matched=article.surface(key & 1, start, end),
                field=FIELD_NAMES[key & 1],
                kind="exact" if similarity >= EXACT else "fuzzy",
                similarity=round(similarity, 1),
                points=round(value, 3),
            )
        )
    context = {}
    for gid in compiled_theme.require:
        keys = [k for k in found if gid in compiled.group_of_slot[k >> 1]]
        best = min(keys, key=lambda k: (k & 1, found[k][1]))
        _, start, end = found[best]
        group = compiled.groups[gid]
        context[group.title or group.name] = article.surface(best & 1, start, end)
    return Explanation(
        score=round(total, 3),
        min_score=compiled_theme.theme.min_score,
        hits=hits,
        context=context,
    )


def explain_text(match: ThemeMatch) -> str:
    """One short line: 'Tumen bridge (title), Khasan (summary); Russia: Moscow; score 3.0'."""
    parts = []
    for hit in match.explanation["hits"]:
        shown = hit["term"]
        if hit["kind"] == "fuzzy":
            shown += f"≈{hit['matched']} ({hit['field']}, {hit['similarity']:g}%)"
        elif normalize_term(hit["matched"]) != normalize_term(hit["term"]):
            shown += f"→{hit['matched']} ({hit['field']})"
        else:
            shown += f" ({hit['field']})"
        parts.append(shown)
    line = ", ".join(parts)
    for group, matched in match.explanation["context"].items():
        line += f"; {group}: {matched}"
    return f"{line}; score {match.score:g}"
