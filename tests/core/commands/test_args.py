"""The argument parsers on their own: words in, typed arguments or a UsageError out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.commands.args import (
    DigestArgs,
    LatestArgs,
    ListMutes,
    MuteArgs,
    SearchArgs,
    UnmuteArgs,
    parse_digest,
    parse_latest,
    parse_mute,
    parse_search,
    parse_unmute,
    words_of,
)
from bot.core.commands.model import ThemeCatalog, ThemeInfo
from bot.core.commands.registry import UsageError
from bot.core.commands.text import span

CATALOG = ThemeCatalog.of([ThemeInfo("troops", "Troops"), ThemeInfo("un-veto", "UN veto")])


def test_words_of_splits_options_that_hold_several_words_and_drops_empty_ones() -> None:
    assert words_of(("Kim  Jong Un", "", " 5 ")) == ("Kim", "Jong", "Un", "5")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ((), LatestArgs(None, 5, 5)),
        (("7",), LatestArgs(None, 7, 7)),
        (("Troops", "3"), LatestArgs("troops", 3, 3)),
        (("3", "troops"), LatestArgs("troops", 3, 3)),
        (("+21",), LatestArgs(None, 20, 21)),
    ],
)
def test_parse_latest(words: tuple[str, ...], expected: LatestArgs) -> None:
    parsed = parse_latest(words, CATALOG)
    assert parsed == expected
    assert parsed.clamped is (expected.asked > 20)


def test_parse_search_keeps_quotes_for_phrases() -> None:
    assert parse_search(['"Rason', "port”", " "], CATALOG) == SearchArgs(('"Rason', "port”"))
    with pytest.raises(UsageError):
        parse_search(["''", "«»"], CATALOG)


def test_parse_digest_reuses_the_settings_duration_syntax() -> None:
    assert parse_digest([], CATALOG) == DigestArgs(timedelta(hours=24))
    assert parse_digest(["3d"], CATALOG) == DigestArgs(timedelta(days=3))
    assert parse_digest(["1w"], CATALOG) == DigestArgs(timedelta(days=7))
    assert parse_digest(["3600"], CATALOG) == DigestArgs(timedelta(hours=1))  # plain seconds


def test_parse_mute_takes_theme_and_duration_in_either_order_within_bounds() -> None:
    assert parse_mute([], CATALOG) == ListMutes()
    assert parse_mute(["troops", "2h"], CATALOG) == MuteArgs("troops", timedelta(hours=2))
    assert parse_mute(["1m", "UN-VETO"], CATALOG) == MuteArgs("un-veto", timedelta(minutes=1))
    assert parse_mute(["troops", "30d"], CATALOG) == MuteArgs("troops", timedelta(days=30))
    with pytest.raises(UsageError, match="too long"):
        parse_mute(["troops", "5w"], CATALOG)
    with pytest.raises(UsageError, match="unknown theme") as caught:
        parse_mute(["2h", "3h"], CATALOG)
    assert caught.value.hint == "themes: troops, un-veto"


def test_parse_unmute_does_not_require_a_current_theme() -> None:
    assert parse_unmute(["Retired-Theme"], CATALOG) == UnmuteArgs("retired-theme")


def test_span_shows_the_two_largest_units() -> None:
    assert [span(timedelta(seconds=s)) for s in (0, 45, 5400, 86400 * 3 + 7200 + 60)] == [
        "0s",
        "45s",
        "1h 30m",
        "3d 2h",
    ]
