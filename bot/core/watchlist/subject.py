"""Main subject or passing mention: which of the themes an article matches it is about.

An article is filed under the themes it is about, not every theme it mentions on the way: a
story about a UN veto that names the sanctions panel is not a sanctions-evasion story, a
bridge story that recalls the leaders' visit is not a summit story. The rule:

* Each counted hit of a theme (see ``scoring``) gives **about points**: its points in the
  title and in the lead (the first ``LEAD_WORDS`` words of the summary, what an alert shows);
  deeper in a long summary half of them, unless its words occur again (repeated); and none if
  it is only a **mention**:

  - in a background clause: one that "after", "following", "since", "in exchange for",
    "payment for", "после", "в обмен на"… open (``BEFORE``), up to the next comma, full
    stop or the like and at most ``CLAUSE_WORDS`` words; in Korean the few words before
    "이후", "대가로"… (``AFTER``, which follow the noun): "weeks after North Korean troops
    were reported in Kursk", "in return for ammunition and troops", "파병의 대가로";
  - or inside a more specific term of another matched theme (more points on the same words):
    "trade" of energy-trade in "arms trade", "fighter jet" of arms-transfers (0.5) where
    military-tech's (1.0) explains it;
  - or on the scene of another matched theme: the words of a context group that it requires
    and this theme does not ("UN sanctions", "Security Council resolution" are the UN's, so a
    veto story's scene, not sanctions-evasion's evidence).

  A cue right after "is", "was"… (``NOT_AFTER``) is a verb: "it was following the talks".

* An article that names its themes only in background clauses ("its first launch since
  Putin's visit") is about none of them (``background_only`` says so of an article with one
  theme, without judging the rest).
* When several themes match, the **subject model** (``subject_model``: a logistic regression,
  weights trained by benchmarks/train_subject.py on the development sets) weighs each from
  ``features``: its share of the top about points, whether the title names it first, whether
  the earlier rule would file it on its own (its about points reach its ``min_score``, all of
  them if one of its specific terms — weight ``SPECIFIC`` or more — counts, else its title's:
  generic words in the summary, "cargo", "sanctions on", are the main story's detail), and
  its counted hits. A theme whose chance reaches the model's threshold is filed; the likeliest
  is the **main** subject, the others **also** subjects (if none reaches it, the likeliest
  theme with something that counts is filed alone). The rest are **passing** mentions: not
  filed, but named in the main subject's explanation. What a passing mention claimed is given
  back to the filed themes' hits when the explanation is read.

When no hit is contested (on words no theme worth more points hit, in the title or lead, with
no background cue close before it), every hit counts its points: the model weighs them at
once, and the places of the hits are worked out only when someone reads the explanation.
Cues are found with one automaton pass over a field, and only once a hit needs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Literal, NamedTuple

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation

from bot.core.watchlist import subject_model
from bot.core.watchlist.normalize import normalize_term, word_runs

LEAD_WORDS = 100  # about five sentences: a feed's summary is all lead, a full text is not
BODY_FACTOR = 0.5
CLAUSE_WORDS = 8  # a background clause's words after its cue, at most
KOREAN_WORDS = 3  # a Korean one's before its cue

SPECIFIC = 1.0  # a term of this weight or more names its theme; under it, a generic word

Place = Literal["title", "lead", "body"]
Role = Literal["main", "also"]

# Background cues, normalised as the text is. Before the hit (English, Russian): what
# follows them is background — an earlier event, or what something was paid with.
BEFORE = tuple(
    normalize_term(cue)
    for cue in (
        "after",
        "following",
        "in the wake of",
        "in exchange for",
        "in return for",
        "as payback for",
        "после",
        "вслед за",
        "в обмен на",
        "взамен на",
        "в уплату за",
        "в качестве оплаты за",
        # What something was paid with: "the fuel is part of the payment for munitions".
        "payment for",
        "paid for",
        "to pay for",
        # An earlier event as a reference point: "its first launch since Putin's visit".
        "since",
    )
)
# After the hit (Korean): the words that follow the noun, particles included.
AFTER = ("이후", "이후에", "이후로", "후", "후에", "직후", "뒤", "뒤에", "대가", "대가로", "대가를")


# A cue right after one of these is a verb or an adverb, not a clause's opening: "it was
# following progress on the bridge", "what Moscow is after".
NOT_AFTER = frozenset(("is", "are", "was", "were", "be", "been", "being", "am", "s", "re"))

_AFTER = frozenset(AFTER)
# Every cue as whole words: " cue " (the ASCII ones first, for the automaton of ASCII text).
_CUE_WORDS = sorted((*BEFORE, *AFTER), key=lambda cue: not cue.isascii())
_CUE_FINDER = AhoCorasick([f" {cue} " for cue in _CUE_WORDS])
_ASCII_CUE_FINDER = BytesAhoCorasick(
    [f" {cue} ".encode() for cue in _CUE_WORDS if cue.isascii()],
    implementation=Implementation.DFA,
)
# Where a clause ends. Not the en dash: "Russia–North Korea" is one name.
_CLAUSE_MARKS = frozenset(",;:.!?()[]—")

# A counted hit: (slot, points, key, start, end) — key is slot << 1 | field, the offsets are
# into that field's normalised words.
Hit = tuple[int, float, int, int, int]
# A context group's term found: (field, start, end, term, the ids of its groups).
ContextHit = tuple[int, int, int, str, frozenset[int]]


class Judged(NamedTuple):
    """One hit as the main-subject rule reads it."""

    place: Place
    about: float  # points towards what the article is about
    mention: str  # why it counts for nothing ("after 'following'"), or ""


class Verdict(NamedTuple):
    """What a filed theme is to its article, and what the article only mentions."""

    role: Role
    about: float
    hits: dict[int, Judged] | None  # slot -> judgement; None: worked out when read (later)
    passing: dict[str, str]  # main subject only: slug -> the terms of a passing mention
    later: Callable[[], dict[int, Judged]] | None = None  # None: the hits are not contested
    chance: float | None = None  # the subject model's, or None: the only theme matched
    verdict: str = ""  # the verdict term in the title that filed it (``verdict_term``), or ""


class Candidate(NamedTuple):
    """A theme that reached its ``min_score``, with the hits that counted."""

    slug: str
    score: float
    min_score: float
    require: frozenset[int]  # its context groups' ids
    hits: list[Hit]
    texts: Sequence[str]  # every slot's term as written, by slot index
    weights: Mapping[int, float]  # the theme's weight of each slot it lists
    verdict: bool = False  # a verdict theme (model.Theme.verdict): see ``verdict_term``

    @property
    def terms(self) -> list[str]:
        """Each hit's term, as written."""
        return [self.texts[hit[0]] for hit in self.hits]


# Words that count for another theme, where a hit worth fewer points is a mention: (field,
# start, end, points, term, the theme's slug, whether the term is of a context group that theme
# requires — then math.inf points). A plain tuple: the hit loop unpacks it fast.
Claim = tuple[int, int, int, float, str, str, bool]


class Reader:
    """One article's normalised fields, with what the rule asks of them worked out once."""

    __slots__ = ("_cues", "_ends", "normalized", "originals", "text")

    def __init__(self, originals: tuple[str, str], normalized: tuple[str, str]) -> None:
        self.originals = originals
        self.normalized = normalized
        self.text = f" {normalized[0]} {normalized[1]} "
        self._cues: list[list[tuple[int, int, str]] | None] = [None, None]
        self._ends: list[_ClauseEnds | None] = [None, None]

    def place(self, field: int, start: int) -> Place:
        """Title, lead or body, for a hit at ``start`` in a field's normalised words."""
        if field == 0:
            return "title"
        return "lead" if self.normalized[1].count(" ", 0, start) < LEAD_WORDS else "body"

    def cue(self, field: int, start: int, end: int, *, near: bool = False) -> str:
        """The cue of the background clause that the words at [start, end) are in, or "".

        A cue before them (English, Russian) opens a clause of at most ``CLAUSE_WORDS``
        words; a Korean cue after them closes one of at most ``KOREAN_WORDS``. A clause ends
        at a comma, semicolon, colon, full stop, question or exclamation mark, bracket or
        dash of the original text (the normalised words have lost them). ``near``: the first
        cue close enough, without reading the original text for where clauses end (cheaper:
        "" still means the words are in no background clause).
        """
        cues = self._cues[field]
        if cues is None:
            cues = self._cues[field] = _find_cues(self.normalized[field])
        if not cues:
            return ""
        words = self.normalized[field]
        for cue_start, cue_end, cue in cues:
            if cue in _AFTER:  # Korean: the few words before the cue
                if cue_start < end:
                    continue
                between = words.count(" ", end, cue_start)  # the hit's last word to the cue
                if between > KOREAN_WORDS:
                    continue
                if near:
                    return cue
                last = words.count(" ", 0, end)
                if self._open(field, last, last + between):
                    return cue
            elif cue_end < start:  # a clause after the cue
                between = words.count(" ", cue_end, start)  # the cue's last word to the hit
                if between > CLAUSE_WORDS:
                    continue
                if near:
                    return cue
                first = words.count(" ", 0, start)
                if self._open(field, first - between, first):
                    return cue
        return ""

    def repeated(self, field: int, start: int, end: int) -> bool:
        """Whether the words at [start, end) occur more than once in title and summary."""
        found = " " + self.normalized[field][start:end]
        first = self.text.find(found)
        return first >= 0 and self.text.find(found, first + 1) >= 0

    def _open(self, field: int, left: int, right: int) -> bool:
        """Whether no clause ends between the words ``left`` and ``right``."""
        ends = self._ends[field]
        if ends is None:
            ends = self._ends[field] = _ClauseEnds(self.originals[field])
        return not any(ends.after(index) for index in range(left, right))


def _find_cues(words: str) -> list[tuple[int, int, str]]:
    """(start, end, cue) of every cue in a field's normalised words, in order.

    One automaton pass: a regex of all the cues (an alternation, tried at every space) cost
    ten times as much, a plain search per cue twice as much.
    """
    padded = f" {words} "  # a key " cue " found at i is the cue's words at [i, stop - 2)
    if padded.isascii():
        found = _ASCII_CUE_FINDER.find_matches_as_indexes(padded.encode("ascii"), overlapping=True)
    else:
        found = _CUE_FINDER.find_matches_as_indexes(padded, overlapping=True)
    if not found:
        return []
    cues = []
    for index, start, stop in found:
        # The word before the cue is at [before, start - 1) of the words.
        before = words.rfind(" ", 0, start - 1) + 1
        if start and words[before : start - 1] in NOT_AFTER:
            continue
        cues.append((start, stop - 2, _CUE_WORDS[index]))
    cues.sort()
    return cues


class _ClauseEnds:
    """Where clauses end in a field, asked word by word: the original text's words are
    mapped only as far as asked (a run of marks alone, "...", shifts the count: rare, and
    then a clause is read a word or two too long or short)."""

    __slots__ = ("_runs", "_spans", "original")

    def __init__(self, original: str) -> None:
        self.original = original
        self._runs = word_runs(original)
        self._spans: list[tuple[int, int]] = []

    def after(self, index: int) -> bool:
        """Whether a clause ends after the normalised word ``index``."""
        spans = self._spans
        while len(spans) < index + 2:
            run = next(self._runs, None)
            if run is None:
                return False  # the field's end
            spans.append(run.span())
        stop, following = spans[index][1], spans[index + 1][0]
        return self.original[stop - 1] in _CLAUSE_MARKS or not _CLAUSE_MARKS.isdisjoint(
            self.original[stop:following]
        )


def background(original: str, words: str) -> list[str]:
    """For each normalised word of a field, the cue of the background clause it is in, or ""
    (what ``Reader.cue`` says of each word)."""
    reader = Reader((original, ""), (words, ""))
    out, start = [], 0
    for word in words.split(" ") if words else []:
        out.append(reader.cue(0, start, start + len(word)))
        start += len(word) + 1
    return out


def judge_hits(reader: Reader, hits: list[Hit], claims: list[Claim]) -> dict[int, Judged]:
    """Each hit's place and about points; ``claims``: words that are other themes'."""
    out = {}
    for slot, points, key, start, end in hits:
        field = key & 1
        place = reader.place(field, start)
        mention = ""
        for claim_field, claim_start, claim_end, claim_points, term, owner, scene in claims:
            if (
                claim_start < end
                and start < claim_end
                and claim_field == field
                and claim_points > points
            ):
                mention = f"{owner}'s context {term!r}" if scene else f"inside {term!r}"
                break
        else:
            cue = reader.cue(field, start, end)
            if cue:
                mention = f"{'before' if cue in _AFTER else 'after'} {cue!r}"
        if mention:
            about = 0.0
        elif place == "body" and not reader.repeated(field, start, end):
            about = round(points * BODY_FACTOR, 3)
        else:
            about = points
        out[slot] = Judged(place, about, mention)
    return out


def judge(
    reader: Reader, candidates: list[Candidate], context: list[ContextHit]
) -> dict[str, Verdict]:
    """The filed themes among ``candidates`` (every candidate reached its ``min_score``;
    ``context``: the hits of context groups' terms): slug -> verdict.

    The about points of each theme come from the rule above; which themes are filed, and
    which is the main subject, the subject model decides from them (``SubjectModel``).
    """
    judged, lazy = about_points(reader, candidates, context)
    if max(about for about, _, _ in judged) <= 0:
        return {}  # every theme only in background clauses: the article is about none
    model = subject_model.MODEL  # looked up at each call: benchmarks/train_subject.py swaps it
    chances = model.chances(features(judged))
    order = sorted(
        range(len(judged)),
        key=lambda i: (-chances[i], -judged[i][0], -judged[i][1].score, judged[i][1].slug),
    )
    filed = {i for i in order if chances[i] >= model.threshold and judged[i][0] > 0}
    if not filed:  # the likeliest theme with something that counts is the main subject
        filed = {next(i for i in order if judged[i][0] > 0)}
    # A verdict theme whose specific term counts in the title is a subject, whatever the model
    # says: "coal unloaded at Russian port despite UN ban" is a sanctions story besides coal.
    verdicts_by = {
        i: term
        for i in order
        if i not in filed and judged[i][1].verdict and (term := verdict_term(*judged[i][1:]))
    }
    filed |= verdicts_by.keys()
    main = next(i for i in order if i in filed)
    passing = {judged[i][1].slug: ", ".join(judged[i][1].terms) for i in order if i not in filed}
    kept = [judged[i][1] for i in order if i in filed]
    verdicts = {}
    for i in order:
        if i not in filed:
            continue
        about, candidate, by_slot = judged[i]
        role: Role = "main" if i == main else "also"
        chance = round(chances[i], 3)
        shown = passing if role == "main" else {}
        by_title = verdicts_by.get(i, "")
        if lazy:
            verdict = Verdict(role, about, None, shown, None, chance, by_title)
        elif passing:
            # Judged again, when read, without what the passing mentions claimed: the
            # explanation does not call a word of the main subject a mention inside a theme
            # that is not filed.
            later = partial(_rejudged, reader, kept, context, candidate.slug)
            verdict = Verdict(role, about, None, shown, later, chance, by_title)
        else:
            verdict = Verdict(role, about, by_slot, {}, None, chance, by_title)
        verdicts[candidate.slug] = verdict
    return verdicts


def about_points(
    reader: Reader, candidates: list[Candidate], context: list[ContextHit]
) -> tuple[list[tuple[float, Candidate, dict[int, Judged]]], bool]:
    """(about points, candidate, its hits judged) of each candidate, and whether nothing was
    contested: then every hit counts in full, and its place (title or not) is all that was
    worked out (the lead or body waits until someone reads the explanation)."""
    if _contested(reader, candidates, context):
        return _judged(reader, candidates, context), False
    return [(round(c.score, 3), c, _whole(c)) for c in candidates], True


def features(judged: Sequence[tuple[float, Candidate, Mapping[int, Judged]]]) -> list[list[float]]:
    """What the subject model reads of each candidate theme (``subject_model.FEATURES``), from
    (about points, candidate, its hits judged) of every theme the article matched.

    * ``share_of_top``: its about points over the most any theme has;
    * ``first_in_title``: 1 if the title names it first (its earliest counted title hit is
      the earliest of all): "US sanctions firms over arms deals", "Kim meets Putin at the
      spaceport", "Security Council discusses troop deployment" name the action first;
    * ``subject_alone``: 1 if it would be filed as another subject by the rule above (a
      specific term counts, or its title words reach its ``min_score``);
    * ``hits``: its counted hits (about points above 0), over 3.

    (Its share of the title's about points was tried as well: with the others it carried no
    more, and took a negative weight that no reader of an explanation would follow.)
    """
    top = max([about for about, _, _ in judged]) or 1.0
    # One pass over each theme's hits (plain loops: this runs for every article that matches
    # several themes): its earliest counted title hit, its counted hits, and what it has as
    # another subject (all its about points with a specific term, else its title's).
    firsts, counts, alone = [], [], []
    for about, candidate, by_slot in judged:
        first, counted, title, specific = -1, 0, 0.0, False
        weights = candidate.weights
        for slot, _, key, start, _ in candidate.hits:
            seen = by_slot[slot].about
            if not seen:
                continue
            counted += 1
            if weights[slot] >= SPECIFIC:
                specific = True
            if not key & 1:
                title += seen
                if first < 0 or start < first:
                    first = start
        firsts.append(first)
        counts.append(counted)
        # As _as_another, rounded alike: about points are rounded to 3 places.
        own = about if specific else round(title, 3)
        alone.append(own >= candidate.min_score - 1e-9)
    earliest = min([f for f in firsts if f >= 0], default=-1)
    return [
        [
            judged[i][0] / top,
            1.0 if firsts[i] >= 0 and firsts[i] == earliest else 0.0,
            1.0 if alone[i] else 0.0,
            counts[i] / 3,
        ]
        for i in range(len(judged))
    ]


def verdict_term(candidate: Candidate, by_slot: Mapping[int, Judged]) -> str:
    """For a verdict theme, its first specific term (weight ``SPECIFIC`` or more) that counts
    in the title ("UN ban", "blacklist"), as written; else "". Such a title passes judgement on
    the dealings it names, so the theme is a subject beside them."""
    if not candidate.verdict:
        return ""
    best = None
    for slot, _, key, start, _ in candidate.hits:
        if key & 1 or candidate.weights[slot] < SPECIFIC or not by_slot[slot].about:
            continue
        if best is None or start < best[0]:
            best = (start, candidate.texts[slot])
    return best[1] if best else ""


def _as_another(candidate: Candidate, by_slot: Mapping[int, Judged]) -> float:
    """The about points that make ``candidate`` a subject besides the main one: all of them
    if one of its specific terms counts; else only its words in the title (generic words in
    the summary, "cargo", "oil", "sanctions", are the main story's detail)."""
    weights = candidate.weights
    if any(weights[slot] >= SPECIFIC and j.about for slot, j in by_slot.items()):
        return round(sum(j.about for j in by_slot.values()), 3)
    return round(sum(j.about for j in by_slot.values() if j.place == "title"), 3)


def _whole(candidate: Candidate) -> dict[int, Judged]:
    """Every hit of ``candidate`` counted in full (the places only as title or not)."""
    return {
        slot: Judged("lead" if key & 1 else "title", points, "")
        for slot, points, key, _, _ in candidate.hits
    }


def _rejudged(
    reader: Reader, filed: list[Candidate], context: list[ContextHit], slug: str
) -> dict[int, Judged]:
    """The hits of ``slug`` judged among the filed themes only."""
    return next(hits for _, c, hits in _judged(reader, filed, context) if c.slug == slug)


def background_only(
    reader: Reader, hits: Iterable[tuple[float, int]], found: dict[int, tuple[float, int, int]]
) -> bool:
    """Whether every hit of the only theme matched is in a background clause ("its first
    launch since Putin's visit"): then the article is not about it. ``hits``: (points, key)
    of each, ``found``: key -> (similarity, start, end). Mostly settled by the first hit,
    in the title."""
    for _, key in hits:
        _, start, end = found[key]
        if not reader.cue(key & 1, start, end):
            return False
    return True


def _contested(reader: Reader, candidates: list[Candidate], context: list[ContextHit]) -> bool:
    """Whether a hit may count for less than its points: on another theme's words or scene,
    in a background clause, or deep in the body (the usual case is none of them)."""
    if context and len({candidate.require for candidate in candidates}) > 1:
        return True
    spans: list[tuple[int, int, int, str]] = []
    for candidate in candidates:
        slug = candidate.slug
        for _, _, key, start, end in candidate.hits:
            field = key & 1
            for other_field, other_start, other_end, owner in spans:
                if (
                    other_start < end
                    and start < other_end
                    and other_field == field
                    and owner != slug
                ):
                    return True
            spans.append((field, start, end, slug))
    # The dearest last: a cue means reading the field.
    for field, start, end, _ in spans:
        if (field and reader.place(field, start) == "body") or reader.cue(field, start, end):
            return True
    return False


def _judged(
    reader: Reader, candidates: list[Candidate], context: list[ContextHit]
) -> list[tuple[float, Candidate, dict[int, Judged]]]:
    """(about points, candidate, its hits judged), the main subject first."""
    claims: list[Claim] = [
        (key & 1, start, end, points, term, candidate.slug, False)
        for candidate in candidates
        for (_, points, key, start, end), term in zip(candidate.hits, candidate.terms, strict=True)
    ]
    # The words that set another theme's scene: a context group's term that it requires and
    # this one does not (the UN's "Security Council" in a veto story). Most themes require the
    # same groups, and then there are none.
    requires = {candidate.require for candidate in candidates}
    judged = []
    for candidate in candidates:
        theirs = [claim for claim in claims if claim[5] != candidate.slug]
        if len(requires) > 1:
            theirs += _scenes(candidate, candidates, context)
        by_slot = judge_hits(reader, candidate.hits, theirs)
        judged.append((round(sum(j.about for j in by_slot.values()), 3), candidate, by_slot))
    judged.sort(key=lambda j: (-j[0], -j[1].score, j[1].slug))
    return judged


def _scenes(
    candidate: Candidate, candidates: list[Candidate], context: list[ContextHit]
) -> list[Claim]:
    """Claims on the terms of context groups that another candidate requires and
    ``candidate`` does not."""
    claims: list[Claim] = []
    for field, start, end, term, groups in context:
        if groups & candidate.require:
            continue  # (also) this theme's own context
        for other in candidates:
            if groups & other.require:
                claims.append((field, start, end, math.inf, term, other.slug, True))
                break
    return claims
