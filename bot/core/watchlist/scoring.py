"""From found terms to theme matches with explanations (shared by both matchers).

Rules: a theme matches when every ``require`` group has at least one term anywhere in the
title or summary, none of its ``exclude`` terms occurs, and its score reaches ``min_score``.
The score sums, over distinct indicator terms, weight × 2 for a title hit or × 1 for a
summary hit (the better of the two), × similarity/100 for a fuzzy hit. A stretch of text
counts once per theme: when two terms of a theme hit overlapping words ("road bridge" and
"bridge", or "defence minister" and a fuzzy "defense minister"), only the one worth more
points counts. When several themes match, ``subject`` keeps the ones the article is about
and drops those it only mentions in passing.

The title bar: when no theme reaches its ``min_score`` but the title names the context
most themes require (for the default watchlist: North Korea and Russia, a story about the
two of them), the theme with the most points among those requiring it is filed if it has
at least ``TITLE_BAR`` (one generic term in the title, or two in the summary) and no other
theme ties it. Independent writers put the relationship in the title and describe the rest
in words no list foresees ("supplies electricity to Rason"); hard negatives mostly lack one
of the countries, so the lower bar costs little precision. The explanation says so
(``title_bar``) and gives the bar that applied as ``min_score``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal, TypedDict

from bot.core.watchlist import subject
from bot.core.watchlist.asides import in_aside, owned_starts, sentence_starts, sentences_of
from bot.core.watchlist.compile import Compiled, CompiledTheme
from bot.core.watchlist.normalize import fields, normalize_term, surface, word_spans
from bot.core.watchlist.subject import (
    Candidate,
    Hit,
    Judged,
    Reader,
    Verdict,
    background_only,
    judge_hits,
)

TITLE, SUMMARY = 0, 1
FIELD_NAMES: tuple[Literal["title"], Literal["summary"]] = ("title", "summary")
FIELD_FACTOR = (2.0, 1.0)
EXACT = 100.0
TITLE_BAR = 0.8  # the points a theme needs when the title names both countries (see above)

#: (slot << 1 | field) -> (similarity, start, end): the best hit of a slot in a field, with
#: offsets into that field's normalised text (end: where the matched key ends).
Found = dict[int, tuple[float, int, int]]


class HitInfo(TypedDict):
    """One indicator term that counted, and what it says about the article's subject."""

    term: str
    matched: str
    field: Literal["title", "summary"]
    kind: Literal["exact", "fuzzy"]
    similarity: float
    points: float
    place: Literal["title", "lead", "body"]
    about: float  # points towards the article's subject (see subject.py)
    mention: str  # why it is only a passing mention, or ""


class Explanation(TypedDict):
    """Why a theme matched, and whether it is the article's main subject (JSON-serialisable).

    ``passing``: the main subject's only: themes that matched but are only mentioned (slug ->
    their terms), so not filed.
    """

    score: float
    min_score: float
    hits: list[HitInfo]
    context: dict[str, str]
    subject: Literal["main", "also"]
    about: float
    passing: dict[str, str]
    title_bar: bool  # filed under the lower bar of a title naming both countries
    # The subject model's chance that the article is about this theme (subject_model.py), or
    # None when it was the only theme matched (nothing to weigh).
    chance: float | None
    # The verdict term in the title that filed it as a subject ("UN ban"), or "" (subject.py).
    verdict: str


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

    __slots__ = ("_reader", "_spans", "normalized", "originals")

    def __init__(self, originals: tuple[str, str], normalized: tuple[str, str]) -> None:
        self.originals = originals
        self.normalized = normalized
        self._spans: dict[int, list[tuple[int, int]] | None] = {}
        self._reader: Reader | None = None

    def reader(self) -> Reader:
        """The normalised fields as the main-subject rule reads them (built once)."""
        if self._reader is None:
            self._reader = Reader(self.originals, self.normalized)
        return self._reader

    def surface(self, which: int, start: int, end: int) -> str:
        """Original words of a hit, up to the end of its last word."""
        text, words = self.originals[which], self.normalized[which]
        if which not in self._spans:
            self._spans[which] = word_spans(text, words)
        return surface(text, words, start, end, self._spans[which])


class Scorer:
    """``score`` with what it needs laid out per slot, built once per matcher."""

    def __init__(self, compiled: Compiled, find_marks: Callable[[str, int], Found] | None) -> None:
        """``find_marks``: ``find`` of a matcher of ``compiled.marks`` (None if it has none)."""
        if (compiled.marks is None) != (find_marks is None):
            raise ValueError("title marks need a finder, and a finder needs title marks")
        self.compiled = compiled
        self._find_marks = find_marks
        self._mark_bits = compiled.marks.group_bits if compiled.marks is not None else ()
        self._group_bits = compiled.group_bits
        self._exclude_bits = compiled.exclude_bits
        self._min_score = [t.theme.min_score - 1e-9 for t in compiled.themes]
        self._require = [frozenset(t.require) for t in compiled.themes]
        self._others = [t.others_bits for t in compiled.themes]
        self._roundups = [t.roundup_bits for t in compiled.themes]
        self._all_others = 0  # every theme's other actors, as bits of compiled.marks
        for bits in self._others:
            self._all_others |= bits
        self._title_rules = find_marks is not None and (any(self._others) or any(self._roundups))
        self._texts = [slot.term.text for slot in compiled.slots]
        uses: list[list[tuple[int, float, int]]] = [[] for _ in compiled.slots]
        for index, theme in enumerate(compiled.themes):
            for slot, weight in theme.weights.items():
                uses[slot].append((index, weight, theme.require_bits))
        # slot -> (theme, weight, the theme's context groups) for each theme it indicates
        self._uses = [tuple(u) for u in uses]
        # The distinct context needs: most articles meet none (they name North Korea or
        # Russia, not both), and one test per need sends them away before any points.
        self._needs = tuple(sorted({t.require_bits for t in compiled.themes}))
        # The context most themes require: a title naming it lowers the bar (module docstring).
        needs = [t.require_bits for t in compiled.themes]
        self._main_need = max(needs, key=needs.count) if needs else 0

    def score(
        self, found: Found, originals: tuple[str, str], text: str, split: int
    ) -> list[ThemeMatch]:
        """Theme matches for the found slots, best score first.

        ``originals`` are the title and summary as given, ``text`` and ``split`` their
        ``matching_text``: only needed if someone reads an explanation.
        """
        groups = vetoed = 0
        group_bits, exclude_bits = self._group_bits, self._exclude_bits
        for key in found:
            groups |= group_bits[key >> 1]
            vetoed |= exclude_bits[key >> 1]
        for need in self._needs:
            if groups & need == need:
                break
        else:
            return []  # no theme has its context
        # Points per theme whose context is all there and that nothing vetoes: slot ->
        # (points, key of the best hit). The context test comes first: it is the cheaper.
        points_of: dict[int, dict[int, tuple[float, int]]] = {}
        uses = self._uses
        for key, hit in found.items():
            for theme, weight, need in uses[key >> 1]:
                if groups & need != need or (vetoed and vetoed >> theme & 1):
                    continue
                value = weight * FIELD_FACTOR[key & 1] * hit[0] / EXACT
                points = points_of.get(theme)
                if points is None:
                    points_of[theme] = {key >> 1: (value, key)}
                else:
                    old = points.get(key >> 1)
                    if old is None or value > old[0]:
                        points[key >> 1] = (value, key)
        kept: list[tuple[int, dict[int, tuple[float, int]], float]] = []
        for theme, points in points_of.items():
            if len(points) == 1:
                ((total, _),) = points.values()
                if total < self._min_score[theme]:
                    continue
            else:
                if sum([p for p, _ in points.values()]) < self._min_score[theme]:
                    continue  # overlaps only take points away
                points = _without_overlaps(points, found)
                total = sum([p for p, _ in points.values()])
                if total < self._min_score[theme]:
                    continue
            kept.append((theme, points, total))
        if kept and self._title_rules:
            kept = self._without_asides(kept, found, originals, text, split)
            if not kept:
                return []  # another actor's story (see asides)
        title_bar = False
        if not kept:
            best = self._under_title_bar(points_of, found) if points_of else None
            if best is None:
                return []
            kept, title_bar = [best], True
        article = Article(originals, fields(text, split))
        if len(kept) == 1:  # the usual case: the main subject, unless only in the background
            theme, points, total = kept[0]
            if background_only(article.reader(), points.values(), found):
                return []
            compiled_theme = self.compiled.themes[theme]
            why = partial(
                _explain,
                self.compiled,
                compiled_theme,
                points,
                total,
                found,
                article,
                None,
                title_bar=title_bar,
            )
            return [ThemeMatch(compiled_theme.theme.slug, round(total, 3), why)]
        hits = [_hits(points, found) for _, points, _ in kept]
        verdicts = self._judge(kept, hits, found, article)
        matches: list[ThemeMatch] = []
        for theme, points, total in kept:
            compiled_theme = self.compiled.themes[theme]
            slug = compiled_theme.theme.slug
            if slug not in verdicts:
                continue  # only mentioned in passing
            why = partial(
                _explain, self.compiled, compiled_theme, points, total, found, article, verdicts
            )
            matches.append(ThemeMatch(slug, round(total, 3), why))
        if len(matches) > 1:
            matches.sort(key=lambda m: (-m.score, m.slug))
        return matches

    def _without_asides(
        self,
        kept: list[tuple[int, dict[int, tuple[float, int]], float]],
        found: Found,
        originals: tuple[str, str],
        text: str,
        split: int,
    ) -> list[tuple[int, dict[int, tuple[float, int]], float]]:
        """``kept`` less the themes whose countries the title leaves to an aside of a story
        whose title names another actor, or that a round-up's title does not name (``asides``)."""
        title_groups = self._title_groups(found)
        themes = self.compiled.themes
        # Per theme, the required groups the title does not name.
        untold = {theme: themes[theme].require_bits & ~title_groups for theme, _, _ in kept}
        if not any(untold.values()):
            return kept  # the title names every context: no rule applies
        marks, others_at = self._title_marks(text, split)
        if not marks:
            return kept  # the usual case: the title names no other actor nor a round-up
        # A round-up's title must name the context itself.
        kept = [e for e in kept if not (self._roundups[e[0]] & marks and untold[e[0]])]
        doubtful = [e[0] for e in kept if self._others[e[0]] & marks and untold[e[0]]]
        if not doubtful:
            return kept
        counted = {theme: points for theme, points, _ in kept}
        asides = self._asides(doubtful, untold, found, originals, text, split, counted, others_at)
        return [e for e in kept if e[0] not in asides]

    def _title_groups(self, found: Found) -> int:
        """The context groups named in the title, as bits."""
        groups = 0
        for key in found:
            if not key & 1:
                groups |= self._group_bits[key >> 1]
        return groups

    def _title_marks(self, text: str, split: int) -> tuple[int, list[int]]:
        """The title's other actors and round-up markers, as bits of ``compiled.marks``, and
        where each other actor's name ends in the title's normalised words."""
        marks, ends, find_marks = 0, [], self._find_marks
        if find_marks is not None:
            others = self._all_others
            for key, (_, _, end) in find_marks(text[:split], split).items():
                if not key & 1:
                    bits = self._mark_bits[key >> 1]
                    marks |= bits
                    if bits & others:
                        ends.append(end)
        return marks, ends

    def _asides(
        self,
        doubtful: list[int],
        untold: dict[int, int],
        found: Found,
        originals: tuple[str, str],
        text: str,
        split: int,
        counted: dict[int, dict[int, tuple[float, int]]],
        others_at: list[int],
    ) -> set[int]:
        """The themes of ``doubtful`` whose untold context the summary names only in asides:
        not in its first sentence, nor in a sentence with one of the theme's terms. When each
        of its title's words is the other actor's ("Chinese tourists", "중국인 관광객": the
        actor's name is the word before), the theme's words are that actor's too, and only the
        first sentence can name the context."""
        title, words = fields(text, split)
        starts = sentence_starts(originals[1])
        where = [
            (key >> 1, sentence)
            for key, (_, start, end) in found.items()
            if key & 1
            for sentence in sentences_of(starts, words, start, end)
        ]
        out = set()
        owned = owned_starts(originals[0], title, others_at) if others_at else set()
        for theme in doubtful:
            weights = self.compiled.themes[theme].weights
            in_title = [found[key][1] for _, key in counted[theme].values() if not key & 1]
            if in_title and all(start in owned for start in in_title):
                own = []  # the other actor's words (see above)
            else:
                own = [sentence for slot, sentence in where if slot in weights]
            if in_aside(untold[theme], where, own, self._group_bits):
                out.add(theme)
        return out

    def _under_title_bar(
        self, points_of: dict[int, dict[int, tuple[float, int]]], found: Found
    ) -> tuple[int, dict[int, tuple[float, int]], float] | None:
        """The one theme filed under the title bar (see the module docstring), or None."""
        title_groups = self._title_groups(found)
        need = self._main_need
        if not need or title_groups & need != need:
            return None
        ranked = []
        for theme, points in points_of.items():
            if self.compiled.themes[theme].require_bits == need:
                counted = _without_overlaps(points, found)
                ranked.append((sum([p for p, _ in counted.values()]), theme, counted))
        if not ranked:
            return None
        ranked.sort(key=lambda r: -r[0])
        total, theme, points = ranked[0]
        if total < TITLE_BAR - 1e-9 or (len(ranked) > 1 and ranked[1][0] > total - 1e-9):
            return None  # too little, or two themes tie: no telling which it is about
        return theme, points, total

    def _judge(
        self,
        kept: list[tuple[int, dict[int, tuple[float, int]], float]],
        hits: list[list[Hit]],
        found: Found,
        article: Article,
    ) -> dict[str, Verdict]:
        """Main subject, also a subject, or passing mention: see ``subject.judge``."""
        compiled, slots = self.compiled, self.compiled.slots
        candidates = []
        for (index, _, total), theme_hits in zip(kept, hits, strict=True):
            theme = compiled.themes[index].theme
            require = self._require[index]
            candidates.append(
                Candidate(
                    theme.slug,
                    total,
                    theme.min_score,
                    require,
                    theme_hits,
                    self._texts,
                    compiled.themes[index].weights,
                    theme.verdict,
                )
            )
        # Context terms matter only between themes that require different groups.
        context = []
        if len({self._require[index] for index, _, _ in kept}) > 1:
            context = [
                (key & 1, start, end, slots[key >> 1].term.text, frozenset(groups))
                for key, (_, start, end) in found.items()
                if (groups := compiled.group_of_slot[key >> 1])
            ]
        # Looked up at each call: benchmarks/train_subject.py records what is judged.
        return subject.judge(article.reader(), candidates, context)


def _without_overlaps(
    candidates: dict[int, tuple[float, int]], found: Found
) -> dict[int, tuple[float, int]]:
    """The hits that count: best points first, skipping any that overlaps one kept."""
    kept: dict[int, tuple[float, int]] = {}
    spans: list[tuple[int, int, int]] = []
    # Tuples sort in C, a key function is a Python call per item; -value for best first.
    for negated, slot, key in sorted([(-v, slot, key) for slot, (v, key) in candidates.items()]):
        _, start, end = found[key]
        field = key & 1
        for kept_field, kept_start, kept_end in spans:  # a loop, not any(): no generator
            if kept_field == field and start < kept_end and kept_start < end:
                break
        else:
            spans.append((field, start, end))
            kept[slot] = (-negated, key)
    return kept


def _hits(by_slot: dict[int, tuple[float, int]], found: Found) -> list[Hit]:
    """The counted hits as the main-subject rule takes them."""
    return [(slot, value, key, *found[key][1:]) for slot, (value, key) in by_slot.items()]


def _explain(
    compiled: Compiled,
    compiled_theme: CompiledTheme,
    by_slot: dict[int, tuple[float, int]],
    total: float,
    found: Found,
    article: Article,
    verdicts: dict[str, Verdict] | None,
    *,
    title_bar: bool = False,
) -> Explanation:
    if verdicts is None:  # the only theme matched: its main subject
        verdict = Verdict("main", round(total, 3), None, {})
    else:
        verdict = verdicts[compiled_theme.theme.slug]
    judged = verdict.hits
    if judged is None:  # worked out now that someone reads it (see subject.judge)
        if verdict.later is not None:
            judged = verdict.later()
        else:  # nothing contested: only the places of its hits
            judged = judge_hits(article.reader(), _hits(by_slot, found), [])
        verdict = verdict._replace(about=round(sum(j.about for j in judged.values()), 3))
    hits: list[HitInfo] = []
    for slot_index, (value, key) in sorted(by_slot.items(), key=lambda kv: -kv[1][0]):
        similarity, start, end = found[key]
        seen: Judged = judged[slot_index]
        hits.append(
            HitInfo(
                term=compiled.slots[slot_index].term.text,
                matched=article.surface(key & 1, start, end),
                field=FIELD_NAMES[key & 1],
                kind="exact" if similarity >= EXACT else "fuzzy",
                similarity=round(similarity, 1),
                points=round(value, 3),
                place=seen.place,
                about=seen.about,
                mention=seen.mention,
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
        min_score=TITLE_BAR if title_bar else compiled_theme.theme.min_score,
        hits=hits,
        context=context,
        subject=verdict.role,
        about=verdict.about,
        passing=dict(verdict.passing),
        title_bar=title_bar,
        chance=verdict.chance,
        verdict=verdict.verdict,
    )


def explain_text(match: ThemeMatch) -> str:
    """One short line: 'Tumen (title), Khasan (summary); Russia: Moscow; score 3; main
    subject (model 0.91); in passing: summits (visit)'."""
    why = match.explanation
    parts = []
    for hit in why["hits"]:
        where = hit["field"] + (f", {hit['similarity']:g}%" if hit["kind"] == "fuzzy" else "")
        if hit["mention"]:
            where += f", mention {hit['mention']}"
        if hit["kind"] == "fuzzy":
            parts.append(f"{hit['term']}≈{hit['matched']} ({where})")
        elif normalize_term(hit["matched"]) != normalize_term(hit["term"]):
            parts.append(f"{hit['term']}→{hit['matched']} ({where})")
        else:
            parts.append(f"{hit['term']} ({where})")
    line = ", ".join(parts)
    for group, matched in why["context"].items():
        line += f"; {group}: {matched}"
    line += f"; score {match.score:g}; " + (
        "main subject" if why["subject"] == "main" else "also a subject"
    )
    if why["chance"] is not None:  # weighed against other themes by the subject model
        line += f" (model {why['chance']:.2f})"
    if why["verdict"]:  # filed by the verdict in its title, whatever the model weighed
        line += f"; verdict in the title: {why['verdict']}"
    if why["title_bar"]:
        line += f"; under {TITLE_BAR:g}: title names both countries"
    if why["passing"]:
        line += "; in passing: " + "; ".join(
            f"{slug} ({terms})" for slug, terms in why["passing"].items()
        )
    return line
