"""The fast matcher finds exactly what the brute-force reference finds, and quality holds."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.watchlist import Matcher, load_watchlist, load_watchlists
from bot.core.watchlist.model import Watchlist
from bot.core.watchlist.normalize import matching_text
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, LABELLED
from tests.watchlist.reference import ReferenceMatcher

Write = Callable[..., Path]

# Terms in every mode, sharing keys and words, fuzzy in Latin and Cyrillic, multi-word.
EDGE_CASES = """\
[watchlist]
name = "edge"
title = "Edge cases"

[groups.ctx]
terms = [
  "Pyongyang", "Korean People's Army", "N. Korea",
  { text = "Пхеньянский", mode = "word", fuzzy = true },
  { text = "Владивосток", fuzzy = true }, { text = "Северокорейск", fuzzy = true },
]

[[themes]]
slug = "edge"
title = "Edge"
colour = "#000000"
require = ["ctx"]
terms = [
  "space", { text = "space technolog", mode = "prefix" },
  { text = "space station", mode = "phrase" },
  "Vladivostok", "Vladivostok port", { text = "Tumangang Station", fuzzy = false },
  "Comprehensive Strategic Partnership", { text = "northern sea route", fuzzy = true },
  "KN-23", "Северн Коре", { text = "북한", except = ["북한산", "북한 강"] },
  { text = "사일", mode = "phrase" }, { text = "satellite", except = ["satellite image"] },
  { text = "спутник", except = ["спутников снимк"] }, "UN sanctions", "Hwasong-11",
]
exclude = [{ text = "Malligyong", weight = 2 }]
"""

FILLER = [
    "the", "a", "of", "said", "officials", "on", "Monday", "in", "and", "with", "new", "plan",
    "report", "analysts", "Tyumen", "Kursky", "bridges", "Korea's", "N.Korea", "—", "«", "»",
    ",", ".", ";", "(", ")", "미사일", "사일", "северной", "кореи", "space-based",
    "북한산", "북한산에", "강", "images", "imagery", "снимки", "спутниковые", "US", "Hwasong-19",
    "владивостоке", "пхенян", "say",
]  # fmt: skip


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(len(word) - 1)
    op = rng.randrange(4)
    if op == 0:  # swap neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:  # delete
        return word[:i] + word[i + 1 :]
    if op == 2:  # insert
        return word[:i] + rng.choice("aeioukx ") + word[i:]
    return word[:i] + rng.choice("aeioukx") + word[i + 1 :]  # substitute


def _texts(terms: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """Titles and summaries mixing terms, typos of them, suffixes and filler."""
    rng = random.Random(seed)

    def text(words: int) -> str:
        out = []
        for _ in range(words):
            roll = rng.random()
            if roll < 0.3:
                term = rng.choice(terms)
                out.append(_typo(rng, term) if rng.random() < 0.5 else term)
            elif roll < 0.35:
                out.append(rng.choice(terms) + rng.choice(["s", "'s", "es", "-", ","]))
            else:
                out.append(rng.choice(FILLER))
        return " ".join(out)

    return [(text(rng.randint(0, 10)), text(rng.randint(0, 30))) for _ in range(count)]


def _compare(watchlists: list[Watchlist], texts: list[tuple[str, str]]) -> int:
    """Assert both matchers agree on every text; return how many fuzzy hits there were."""
    fast, ref = Matcher.from_watchlists(watchlists), ReferenceMatcher.from_watchlists(watchlists)
    fuzzy = 0
    for title, summary in texts:
        text, split = matching_text(title, summary)
        found = fast.find(text, split)
        assert found == ref.find(text, split), (title, summary)
        fast_matches = [(m.slug, m.score) for m in fast.match(title, summary)]
        assert fast_matches == [(m.slug, m.score) for m in ref.match(title, summary)]
        fuzzy += sum(1 for similarity, _, _ in found.values() if similarity < 100)
    return fuzzy


def test_same_hits_as_reference_on_the_default_watchlist() -> None:
    watchlists = load_watchlists(DEFAULT_WATCHLISTS)
    terms = [t.text for w in watchlists for th in w.themes for t in (*th.terms, *th.exclude)]
    terms += [t.text for w in watchlists for th in w.themes for g in th.require for t in g.terms]
    fuzzy = _compare(watchlists, _texts(terms, 600, seed=1))
    assert fuzzy > 20  # the generated typos did exercise the fuzzy path


def test_same_hits_as_reference_on_edge_cases(write: Write) -> None:
    watchlist = load_watchlist(write(EDGE_CASES))
    terms = [t.text for th in watchlist.themes for t in (*th.terms, *th.exclude)]
    terms += [t.text for th in watchlist.themes for g in th.require for t in g.terms]
    fuzzy = _compare([watchlist], _texts(terms, 800, seed=2))
    assert fuzzy > 20


def test_same_themes_as_reference_at_a_lower_threshold() -> None:
    watchlists = load_watchlists(DEFAULT_WATCHLISTS)
    fast = Matcher.from_watchlists(watchlists, fuzzy_threshold=75)
    ref = ReferenceMatcher.from_watchlists(watchlists, fuzzy_threshold=75)
    terms = [t.text for w in watchlists for th in w.themes for t in th.terms]
    for title, summary in _texts(terms, 200, seed=3):
        text, split = matching_text(title, summary)
        assert fast.find(text, split) == ref.find(text, split)


def _labelled() -> list[dict[str, object]]:
    if not LABELLED.exists():
        pytest.skip(f"{LABELLED} is missing (the labelled set is written separately)")
    return [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines() if line.strip()]


def test_same_results_as_reference_on_the_labelled_set() -> None:
    rows = _labelled()
    watchlists = load_watchlists(DEFAULT_WATCHLISTS)
    _compare(watchlists, [(str(r["title"]), str(r["summary"])) for r in rows])
