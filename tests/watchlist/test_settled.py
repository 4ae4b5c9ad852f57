"""The shortcut of the main-subject rule (subject.settled): an article that matches several
themes, each with hits nothing can contest, is filed under all of them without the full
judgement, which waits until an explanation is read. It must change nothing: the same themes,
scores and explanations as the full judgement, on our sets and on real news."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from bot.core.poll.parse import parse_feed
from bot.core.watchlist import Matcher, explain_text, load_watchlist, load_watchlists
from bot.core.watchlist.compile import compile_watchlists
from bot.core.watchlist.evaluate import load_labelled
from bot.core.watchlist.normalize import normalize_term
from bot.core.watchlist.subject import AFTER, BEFORE, Reader, settled
from tests.conftest import real_feed_bodies
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, HELDOUT, HELDOUT2, LABELLED

# Themes of everyday news words, so that real items match several at once, with the
# background clauses, long summaries and shared words of real copy.
BROAD = """\
[watchlist]
name = "broad"
title = "Broad"

[groups.any]
title = "Any"
terms = ["the", "a", "of", "в", "и", "이", "the US"]

[[themes]]
slug = "politics"
title = "Politics"
description = "d"
colour = "#111111"
require = ["any"]
terms = ["government", "minister", "president", { text = "election", weight = 1.5 },
         { text = "talks", weight = 0.5 }, { text = "visit", weight = 0.5 }, "parliament",
         { text = "leader", weight = 0.4 }, { text = "party", weight = 0.4 }, "summit",
         { text = "vote", weight = 0.5 }, { text = "officials", weight = 0.4 }, "court",
         { text = "law", weight = 0.5 }]

[[themes]]
slug = "conflict"
title = "Conflict"
description = "d"
colour = "#222222"
require = ["any"]
terms = ["war", "attack", { text = "missile", weight = 0.5 }, "troops", "killed",
         { text = "military", weight = 0.4 }, { text = "army", weight = 0.5 }, "strikes",
         "ceasefire", { text = "security", weight = 0.4 }, { text = "police", weight = 0.5 },
         { text = "forces", weight = 0.5 }, "fighting", { text = "Gaza", weight = 0.5 },
         { text = "Ukraine", weight = 0.5 }]

[[themes]]
slug = "economy"
title = "Economy"
description = "d"
colour = "#333333"
require = ["any"]
terms = ["trade", { text = "oil", weight = 0.5 }, "market", "prices", "economy",
         { text = "bank", weight = 0.4 }, "tariffs", { text = "deal", weight = 0.5 },
         { text = "trade deal", weight = 1.5 }, { text = "security deal", weight = 1.5 },
         { text = "company", weight = 0.5 }, { text = "billion", weight = 0.5 },
         { text = "business", weight = 0.5 }, "jobs", "growth", "inflation"]
min_score = 1.5
"""


def _articles() -> Iterator[tuple[str, str]]:
    for path in (LABELLED, HELDOUT, HELDOUT2):
        for item in load_labelled(path):
            yield item.title, item.summary


def _real_news() -> Iterator[tuple[str, str]]:
    fetched = datetime(2026, 3, 1, tzinfo=UTC)
    for _, body in real_feed_bodies():
        for entry in parse_feed(body, url="http://example.com/", fetched_at=fetched).entries:
            yield entry.title, entry.summary


def _same(fast: Matcher, full: Matcher, articles: Iterator[tuple[str, str]]) -> int:
    """Assert both give the same matches and explanations; return how many articles
    matched several themes."""
    several = 0
    for title, summary in articles:
        # The themes first, then the explanations, as an alert is sent and then read.
        got, want = fast.match(title, summary), full.match(title, summary)
        assert [(m.slug, m.score) for m in got] == [(m.slug, m.score) for m in want], title
        assert [m.explanation for m in got] == [m.explanation for m in want], title
        assert [explain_text(m) for m in got] == [explain_text(m) for m in want]
        several += len(got) > 1
    return several


def test_same_as_the_full_judgement_on_our_sets() -> None:
    compiled = compile_watchlists(load_watchlists(DEFAULT_WATCHLISTS))
    several = _same(Matcher(compiled), Matcher(compiled, full_judgement=True), _articles())
    assert several >= 100


@pytest.mark.corpus
def test_same_as_the_full_judgement_on_real_news(tmp_path: Path) -> None:
    path = tmp_path / "broad.toml"
    path.write_text(BROAD, encoding="utf-8")
    compiled = compile_watchlists([load_watchlist(path)])
    several = _same(Matcher(compiled), Matcher(compiled, full_judgement=True), _real_news())
    assert several >= 50


def _reader(title: str, summary: str = "") -> Reader:
    return Reader((title, summary), (normalize_term(title), normalize_term(summary)))


SPECIFIC = {0: 1.5, 1: 1.0, 2: 1.0, 3: 1.5}  # slot -> weight: specific terms
GENERIC = {0: 0.4, 1: 0.4}


def test_settled_when_every_theme_has_a_hit_nothing_contests() -> None:
    # Hits as offsets into the normalised title "trade deal signed at summit".
    reader = _reader("Trade deal signed at summit")
    trade = (0, 3.0, 0, 0, 10)  # slot, points, key (slot << 1 | title), start, end
    summit = (1, 2.0, 2, 20, 26)
    assert settled(reader, [(1.0, [trade], SPECIFIC), (1.0, [summit], SPECIFIC)]) == [0, 1]
    # A theme whose hits cannot reach its min_score is surely not filed, unless the main one.
    assert settled(reader, [(1.0, [trade], SPECIFIC), (2.5, [summit], SPECIFIC)]) == [0]
    # Not sure when a theme's only hit is inside a stronger hit of another theme ("deal" in
    # "trade deal"), which may make it a passing mention.
    deal = (2, 1.0, 4, 6, 10)
    assert settled(reader, [(1.0, [trade], SPECIFIC), (1.0, [deal], SPECIFIC)]) is None
    # A term two themes list alike is worth the same to both: neither contests it.
    same = (3, 3.0, 6, 0, 10)
    assert settled(reader, [(1.0, [trade], SPECIFIC), (1.0, [same], SPECIFIC)]) == [0, 1]


def test_a_second_theme_of_generic_words_in_the_summary_is_surely_not_filed() -> None:
    reader = _reader("Trade deal signed", "Ships carry cargo and oil")
    trade = (0, 3.0, 0, 0, 10)
    cargo, oil = (0, 0.8, 1, 12, 17), (1, 0.8, 3, 22, 25)  # generic, in the summary
    assert settled(reader, [(1.0, [trade], SPECIFIC), (1.0, [cargo, oil], GENERIC)]) == [0]
    # The same words in the title would do.
    title = _reader("Cargo and oil summit", "")
    cargo, oil, summit = (0, 0.8, 0, 0, 5), (1, 0.8, 2, 10, 13), (3, 3.0, 6, 14, 20)
    assert settled(title, [(1.0, [cargo, oil], GENERIC), (1.0, [summit], SPECIFIC)]) == [0, 1]
    # Not sure which is the main subject: judged in full.
    close = (0, 3.0, 1, 12, 17)
    assert settled(reader, [(1.0, [trade], SPECIFIC), (1.0, [close], GENERIC)]) is None


def test_not_settled_when_a_hit_may_be_background() -> None:
    reader = _reader("Ships sail after the summit")
    ships = (0, 2.0, 0, 0, 5)
    summit = (1, 2.0, 2, 20, 26)  # in a clause opened by "after"
    assert settled(reader, [(1.0, [ships], SPECIFIC), (1.0, [summit], SPECIFIC)]) is None
    # Deep in a long summary (past the lead) a hit may count half.
    words = " ".join(["word"] * 120) + " summit"
    reader = _reader("Ships sail", words)
    deep = (1, 1.0, 3, len(words) - 6, len(words))
    assert settled(reader, [(1.0, [ships], SPECIFIC), (1.0, [deep], SPECIFIC)]) is None


def test_no_cue_holds_another() -> None:
    # The cues are found with one automaton pass, every match reported: the same as a scan
    # for whole words only because no cue's words hold another cue or run into one.
    cues = [*BEFORE, *AFTER]
    for cue in cues:
        for other in cues:
            if other != cue:
                assert f" {other} " not in f" {cue} "
                words, others = cue.split(" "), other.split(" ")
                for size in range(1, min(len(words), len(others))):
                    assert words[-size:] != others[:size], (cue, other)
    assert list(pairwise(sorted(cues)))  # (more than one cue to compare)
