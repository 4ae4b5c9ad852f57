"""The title bar: a title naming both countries lowers the points the best theme needs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.watchlist import Matcher, explain_text, load_watchlist
from bot.core.watchlist.scoring import TITLE_BAR

PAIR = """\
[watchlist]
name = "pair"
title = "Pair"

[groups.north-korea]
title = "North Korea"
terms = ["North Korea", "Pyongyang"]

[groups.russia]
title = "Russia"
terms = ["Russia", "Moscow"]

[groups.un]
title = "UN"
terms = ["UN"]

[[themes]]
slug = "energy-trade"
title = "Trade"
description = "Trade"
colour = "#27ae60"
require = ["north-korea", "russia"]
terms = ["trade deal", { text = "electricity", weight = 0.4 }, { text = "coal", weight = 0.4 }]

[[themes]]
slug = "arms-transfers"
title = "Arms"
description = "Arms"
colour = "#c0392b"
require = ["north-korea", "russia"]
terms = ["arms deal", { text = "shells", weight = 0.4 }]

[[themes]]
slug = "un-veto"
title = "Veto"
description = "Veto"
colour = "#16a085"
require = ["north-korea", "un"]
terms = ["veto", { text = "resolution", weight = 0.4 }]
"""


@pytest.fixture
def pair(write: Callable[[str], Path]) -> Matcher:
    return Matcher.from_watchlists([load_watchlist(write(PAIR))])


def test_a_generic_word_in_a_title_naming_both_countries_is_enough(pair: Matcher) -> None:
    [match] = pair.match("Russia supplies electricity to North Korea", "A new line opens.")
    assert (match.slug, match.score) == ("energy-trade", 0.8)
    why = match.explanation
    assert why["title_bar"] and why["min_score"] == TITLE_BAR
    assert explain_text(match).endswith("main subject; under 0.8: title names both countries")


def test_two_generic_words_in_the_summary_are_enough_too(pair: Matcher) -> None:
    [match] = pair.match("Moscow and Pyongyang", "Electricity and coal will cross the border.")
    assert (match.slug, match.score) == ("energy-trade", 0.8)


def test_the_countries_in_the_summary_do_not_lower_the_bar(pair: Matcher) -> None:
    assert pair.match("Electricity line opens", "Russia and North Korea link grids.") == []
    assert pair.match("Electricity line to Pyongyang", "Russia builds it.") == []


def test_one_generic_word_in_the_summary_is_still_too_little(pair: Matcher) -> None:
    assert pair.match("Russia and North Korea", "Electricity will flow next year.") == []


def test_two_themes_tied_under_the_bar_file_neither(pair: Matcher) -> None:
    assert pair.match("Russia, North Korea: shells and electricity", "") == []


def test_other_contexts_keep_their_bar(pair: Matcher) -> None:
    # un-veto needs North Korea and the UN, not the pair most themes need.
    assert pair.match("UN resolution on North Korea and Russia", "") == []


def test_a_theme_over_its_own_min_score_is_not_under_the_bar(pair: Matcher) -> None:
    [match] = pair.match("Russia and North Korea sign trade deal", "")
    assert not match.explanation["title_bar"] and match.explanation["min_score"] == 1.0
