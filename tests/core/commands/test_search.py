"""`/nkru search`: stored articles with every word and phrase, best match first, one line per
story."""

from __future__ import annotations

from datetime import timedelta

from bot.core.commands.model import Caller, Invocation
from tests.core.commands.conftest import (
    ARMS,
    BRIDGE,
    NOW,
    SNOW,
    TANKER,
    TROOPS,
    VETO,
    World,
    titles,
)


async def test_search_finds_articles_with_every_word_best_match_first(news: World) -> None:
    reply = await news.run("search north korea")

    assert (reply.error, reply.ephemeral, reply.footer) == (False, True, None)
    assert reply.title == "Search: north korea"
    # The bridge story names North Korea in its title and its summary: first, and once,
    # headed as everywhere by its representative report (its first matched).
    assert titles(reply)[0] == BRIDGE[0]
    assert sorted(titles(reply)[1:]) == sorted([TANKER[0], VETO[0], ARMS[0]])
    assert TROOPS[0] not in titles(reply)  # "North Korean" troops: another word
    assert SNOW[0] not in titles(reply)


async def test_search_finds_other_forms_and_quoted_phrases(news: World) -> None:
    # Found by either report's words; shown, as everywhere, under the story's headline.
    assert titles(await news.run("search bridges opened")) == [BRIDGE[0]]
    assert titles(await news.run('search "road bridge" tumen')) == [BRIDGE[0]]
    assert titles(await news.run("search “bridge road”")) == []  # Slack's curly quotes


async def test_search_shows_a_storys_other_outlets_and_themes(news: World) -> None:
    reply = await news.run("search tumen")

    [line] = reply.stories  # two articles, one story
    assert (line.title, line.source_name, line.outlets) == (BRIDGE[0], "TASS", ("Yonhap",))
    assert line.when == NOW - timedelta(hours=4)
    assert [hit.theme for hit in line.themes] == ["tumen-bridge"]


async def test_search_matches_every_word_case_insensitively(
    news: World,
) -> None:
    assert titles(await news.run('search "HOKKAIDO" snow')) == [SNOW[0]]
    assert titles(await news.call("search", "Hokkaido tanker")) == []  # both words needed


async def test_search_with_no_match_says_so(news: World) -> None:
    reply = await news.run("search pyongyang marathon")

    assert reply.stories == ()
    assert reply.lines == ("No stored article contains every word of: pyongyang marathon",)


async def test_search_caps_the_lines_and_says_there_are_more(world: World) -> None:
    for number in range(12):
        text = (f"Convoy k{number}a k{number}b k{number}c", f"Details q{number}x q{number}y")
        await world.publish(f"bulk-{number}", text, "Wire", NOW - timedelta(minutes=60 - number))

    reply = await world.run("search convoy")

    assert len(reply.stories) == 10
    assert reply.stories[0].title.startswith("Convoy k11a")
    assert reply.stories[-1].title.startswith("Convoy k2a")
    assert reply.footer == "More than 10 matches: add words to narrow the search."


async def test_a_front_end_with_room_asks_for_more_lines(world: World) -> None:
    """`Invocation.limit` (the terminal's -n) replaces the chat's ten lines, both ways."""
    for number in range(12):
        text = (f"Convoy k{number}a k{number}b k{number}c", f"Details q{number}x q{number}y")
        await world.publish(f"bulk-{number}", text, "Wire", NOW - timedelta(minutes=60 - number))
    terminal = Caller("console", "operator")

    def search(limit: int) -> Invocation:
        return Invocation(terminal, "console", "search", ("convoy",), limit=limit)

    every = await world.service.handle(search(12))
    assert (len(every.stories), every.footer) == (12, None)
    three = await world.service.handle(search(3))
    assert [line.title[:9] for line in three.stories] == ["Convoy k1", "Convoy k1", "Convoy k9"]
    assert three.footer == "More than 3 matches: add words to narrow the search."
