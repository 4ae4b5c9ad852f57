"""Main subject or passing mention: which of the themes an article matches it is about.

An article is filed under the themes it is about, not every theme it mentions on the way: a
story about a UN veto that names the sanctions panel is not a sanctions-evasion story, a
bridge story that recalls the leaders' visit is not a summit story. The rule:

* Each counted hit of a theme (see ``scoring``) gives **about points**: its points in the
  title and in the lead (the first ``LEAD_WORDS`` words of the summary, what an alert shows);
  deeper in a long summary half of them, unless its words occur again (repeated); and none if
  it is only a **mention**:

  - in a background clause: one that "after", "following", "in exchange for", "после", "в
    обмен на"… open (``BEFORE``), up to the next comma, full stop or the like and at most
    ``CLAUSE_WORDS`` words; in Korean the few words before "이후", "대가로"… (``AFTER``, which
    follow the noun): "weeks after North Korean troops were reported in Kursk", "in return
    for ammunition and troops", "파병의 대가로";
  - or inside a more specific term of another matched theme (more points on the same words):
    "trade" of energy-trade in "arms trade", "fighter jet" of arms-transfers (0.5) where
    military-tech's (1.0) explains it;
  - or on the scene of another matched theme: the words of a context group that it requires
    and this theme does not ("UN sanctions", "Security Council resolution" are the UN's, so a
    veto story's scene, not sanctions-evasion's evidence).

* The **main subject** is the theme with the most about points (then the higher score). It
  is always filed, so whether an article alerts at all does not depend on this rule.
* Every other theme is **also** a subject when its about points reach its ``min_score``;
  otherwise it is a **passing** mention: not filed, but named in the main subject's
  explanation. What a passing mention claimed is given back to the filed themes' hits.

Only articles that match two themes or more need the judgement; for one theme, the places of
its hits are worked out only when someone reads the explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.core.watchlist.normalize import normalize_term, word_spans

LEAD_WORDS = 60  # about three sentences: a typical feed summary is all lead
BODY_FACTOR = 0.5
CLAUSE_WORDS = 8  # a background clause's words after its cue, at most
KOREAN_WORDS = 3  # a Korean one's before its cue

Place = Literal["title", "lead", "body"]
Role = Literal["main", "also"]

# Background cues, normalised as the text is. Before the hit (English, Russian): what
# follows them is background — an earlier event, or what something was paid with.
BEFORE: tuple[tuple[str, ...], ...] = tuple(
    tuple(normalize_term(cue).split(" "))
    for cue in (
        "after",
        "following",
        "in the wake of",
        "in exchange for",
        "in return for",
        "as payment for",
        "as payback for",
        "после",
        "вслед за",
        "в обмен на",
        "взамен на",
        "в уплату за",
        "в качестве оплаты за",
    )
)
# After the hit (Korean): the words that follow the noun, particles included.
AFTER = frozenset(
    ("이후", "이후에", "이후로", "후", "후에", "직후", "뒤", "뒤에", "대가", "대가로", "대가를")
)
_CUE_WORDS = frozenset(cue[0] for cue in BEFORE)
# Where a clause ends. Not the en dash: "Russia–North Korea" is one name.
_CLAUSE_MARKS = frozenset(",;:.!?()[]—")

# A counted hit: (slot, points, key, start, end) — key is slot << 1 | field, the offsets are
# into that field's normalised words.
Hit = tuple[int, float, int, int, int]
# Words that count for someone else: (field, start, end, points, why a hit there is a mention).
Claim = tuple[int, int, int, float, str]
# A context group's term found: (field, start, end, term, the ids of its groups).
ContextHit = tuple[int, int, int, str, frozenset[int]]


@dataclass(frozen=True, slots=True)
class Judged:
    """One hit as the main-subject rule reads it."""

    place: Place
    about: float  # points towards what the article is about
    mention: str  # why it counts for nothing ("after 'following'"), or ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a filed theme is to its article, and what the article only mentions."""

    role: Role
    about: float
    hits: dict[int, Judged]  # slot -> judgement
    passing: dict[str, str]  # main subject only: slug -> the terms of a passing mention


@dataclass(frozen=True, slots=True)
class Candidate:
    """A theme that reached its ``min_score``, with the hits that counted."""

    slug: str
    score: float
    min_score: float
    require: frozenset[int]  # its context groups' ids
    hits: list[Hit]
    terms: list[str]  # each hit's term, as written


class Reader:
    """One article's fields, with what the rule asks of them worked out once."""

    __slots__ = ("_background", "_lead_end", "normalized", "originals", "text")

    def __init__(self, originals: tuple[str, str], normalized: tuple[str, str]) -> None:
        self.originals = originals
        self.normalized = normalized
        self.text = f" {normalized[0]} {normalized[1]} "
        self._lead_end: int | None = None
        self._background: dict[int, list[str]] = {}

    def place(self, field: int, start: int) -> Place:
        """Title, lead or body, for a hit at ``start`` in a field's normalised words."""
        if field == 0:
            return "title"
        if self._lead_end is None:
            summary, end = self.normalized[1], -1
            for _ in range(LEAD_WORDS):
                end = summary.find(" ", end + 1)
                if end < 0:
                    end = len(summary)
                    break
            self._lead_end = end
        return "lead" if start < self._lead_end else "body"

    def cue(self, field: int, start: int) -> str:
        """The cue of the background clause that the word at ``start`` is in, or ""."""
        if field not in self._background:
            self._background[field] = background(self.originals[field], self.normalized[field])
        return self._background[field][self.normalized[field].count(" ", 0, start)]

    def repeated(self, field: int, start: int, end: int) -> bool:
        """Whether the words at [start, end) occur more than once in title and summary."""
        found = " " + self.normalized[field][start:end]
        first = self.text.find(found)
        return first >= 0 and self.text.find(found, first + 1) >= 0


def background(original: str, words: str) -> list[str]:
    """For each normalised word of a field, the cue of the background clause it is in, or "".

    A clause ends at a comma, semicolon, colon, full stop, question or exclamation mark,
    bracket or dash in the original text (the normalised words have lost them), and after
    ``CLAUSE_WORDS`` words at most: a cue before the words (English, Russian) opens one up to
    there; a Korean cue after them closes one that starts at most ``KOREAN_WORDS`` before.
    """
    tokens = words.split(" ") if words else []
    cues = [""] * len(tokens)
    if not tokens or not (_CUE_WORDS.intersection(tokens) or AFTER.intersection(tokens)):
        return cues
    spans = word_spans(original, words)
    ends = [False] * len(tokens)  # a clause ends after this word
    if spans is not None:
        for index, (_, stop) in enumerate(spans):
            following = original[stop : spans[index + 1][0]] if index + 1 < len(spans) else ""
            ends[index] = original[stop - 1] in _CLAUSE_MARKS or any(
                c in _CLAUSE_MARKS for c in following
            )
    for index, token in enumerate(tokens):
        if token in AFTER:
            first = index
            while first > 0 and index - first < KOREAN_WORDS and not ends[first - 1]:
                first -= 1
            for at in range(first, index):
                cues[at] = cues[at] or token
            continue
        if token not in _CUE_WORDS:
            continue
        for cue in BEFORE:
            if tuple(tokens[index : index + len(cue)]) != cue or ends[index + len(cue) - 1]:
                continue
            shown = " ".join(cue)
            for at in range(index + len(cue), min(index + len(cue) + CLAUSE_WORDS, len(tokens))):
                cues[at] = cues[at] or shown
                if ends[at]:
                    break
            break
    return cues


def judge_hits(reader: Reader, hits: list[Hit], claimed: list[Claim]) -> dict[int, Judged]:
    """Each hit's place and about points; ``claimed``: words that are another theme's."""
    out = {}
    for slot, points, key, start, end in hits:
        field = key & 1
        place = reader.place(field, start)
        mention = ""
        for other_field, other_start, other_end, other_points, why in claimed:
            if (
                other_field == field
                and other_start < end
                and start < other_end
                and other_points > points
            ):
                mention = why
                break
        else:
            cue = reader.cue(field, start)
            if cue:
                mention = f"{'after' if cue not in AFTER else 'before'} {cue!r}"
        if mention:
            about = 0.0
        elif place == "body" and not reader.repeated(field, start, end):
            about = points * BODY_FACTOR
        else:
            about = points
        out[slot] = Judged(place, round(about, 3), mention)
    return out


def judge(
    reader: Reader, candidates: list[Candidate], context: list[ContextHit]
) -> dict[str, Verdict]:
    """The filed themes among ``candidates`` by the rule above (every candidate reached its
    ``min_score``; ``context``: the hits of context groups' terms): slug -> verdict."""
    judged = _judged(reader, candidates, candidates, context)
    (_, main, _), *rest = judged
    passing = {
        candidate.slug: ", ".join(candidate.terms)
        for about, candidate, _ in rest
        if about < candidate.min_score - 1e-9
    }
    # Filed, they are judged again without what the passing mentions claimed: the explanation
    # does not call a word of the main subject a mention inside a theme that is not filed.
    filed = [c for c in candidates if c.slug not in passing]
    verdicts = {}
    for about, candidate, by_slot in _judged(reader, filed, filed, context):
        role: Role = "main" if candidate is main else "also"
        verdicts[candidate.slug] = Verdict(role, about, by_slot, passing if role == "main" else {})
    return verdicts


def _judged(
    reader: Reader,
    candidates: list[Candidate],
    claimants: list[Candidate],
    context: list[ContextHit],
) -> list[tuple[float, Candidate, dict[int, Judged]]]:
    """(about points, candidate, its hits judged), the main subject first."""
    claimed = [
        (key & 1, start, end, points, f"inside {term!r}", claimant.slug)
        for claimant in claimants
        for (_, points, key, start, end), term in zip(claimant.hits, claimant.terms, strict=True)
    ]
    judged = []
    for candidate in candidates:
        claims = [claim[:5] for claim in claimed if claim[5] != candidate.slug]
        claims += _scenes(candidate, claimants, context)
        by_slot = judge_hits(reader, candidate.hits, claims)
        judged.append((round(sum(j.about for j in by_slot.values()), 3), candidate, by_slot))
    judged.sort(key=lambda j: (-j[0], -j[1].score, j[1].slug))
    return judged


def _scenes(
    candidate: Candidate, candidates: list[Candidate], context: list[ContextHit]
) -> list[Claim]:
    """The words that set another matched theme's scene: a context group's term that it
    requires and ``candidate`` does not (the UN's "Security Council" in a veto story)."""
    claims: list[Claim] = []
    for field, start, end, term, groups in context:
        if groups & candidate.require:
            continue  # (also) this theme's own context
        for other in candidates:
            if groups & other.require:
                claims.append((field, start, end, math.inf, f"{other.slug}'s context {term!r}"))
                break
    return claims
