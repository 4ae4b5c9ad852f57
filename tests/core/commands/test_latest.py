"""`/nkru latest`: matched stories newest first, one theme or all, clamped to 20."""

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
    AlwaysArms,
    World,
    titles,
)


async def test_latest_lists_matched_stories_newest_first_with_outlets_and_themes(
    news: World,
) -> None:
    reply = await news.run("latest")

    assert (reply.error, reply.ephemeral, reply.footer) == (False, False, None)
    assert reply.title == "Latest stories"
    # Five most recent matched stories; the off-topic snow report is not among them.
    assert titles(reply) == [TROOPS[0], TANKER[0], VETO[0], BRIDGE[0], ARMS[0]]
    bridge = reply.stories[3]
    assert (bridge.source_name, bridge.outlets) == ("TASS", ("Yonhap",))  # the lead, then others
    assert bridge.url == "https://news.example/bridge"
    assert bridge.when == NOW - timedelta(hours=4)
    tanker = reply.stories[1]
    assert [hit.theme for hit in tanker.themes] == ["sanctions-evasion", "energy-trade"]
    assert tanker.themes[0].why  # the one-line explanation travels with the hit
    assert tanker.outlets == ()


async def test_latest_filters_by_theme_and_takes_theme_and_n_in_any_order(news: World) -> None:
    by_theme = await news.run("latest un-veto")
    assert by_theme.title == "Latest stories on UN veto"
    assert titles(by_theme) == [VETO[0]]

    assert titles(await news.run("latest 1 energy-trade")) == [TANKER[0]]
    assert titles(await news.call("latest", "ENERGY-TRADE", "1")) == [TANKER[0]]
    assert titles(await news.run("latest sanctions-evasion")) == [TANKER[0]]
    assert titles(await news.run("latest 2")) == [TROOPS[0], TANKER[0]]


async def test_latest_says_so_when_nothing_matched(news: World) -> None:
    reply = await news.run("latest military-tech")

    assert reply.stories == ()
    assert reply.lines == ("No story has matched military-tech yet.",)
    assert not reply.error


async def test_latest_clamps_n_to_twenty_and_says_so(world: World) -> None:
    for number in range(25):  # distinct stories: no shared words, so none join another
        text = (f"Convoy k{number}a k{number}b k{number}c", f"Details q{number}x q{number}y")
        at = NOW - timedelta(minutes=100 - number)
        await world.publish(f"bulk-{number}", text, "Wire", at, matcher=AlwaysArms())

    reply = await world.run("latest 50 arms-transfers")

    assert len(reply.stories) == 20
    assert reply.footer == "You asked for 50; latest shows at most 20."
    assert reply.stories[0].title.startswith("Convoy k24a")  # newest first
    assert reply.stories[-1].title.startswith("Convoy k5a")
    exactly = await world.run("latest 20")
    assert (len(exactly.stories), exactly.footer) == (20, None)


async def test_latest_all_takes_every_story_matched_or_not(news: World) -> None:
    reply = await news.run("latest all 7")

    assert reply.title == "Latest stories, matched or not"
    assert titles(reply) == [TROOPS[0], TANKER[0], SNOW[0], VETO[0], BRIDGE[0], ARMS[0]]
    assert reply.stories[2].themes == ()  # the off-topic snow report
    assert [hit.theme for hit in reply.stories[1].themes] == ["sanctions-evasion", "energy-trade"]
    assert titles(await news.call("latest", "2", "ALL")) == [TROOPS[0], TANKER[0]]
    both = await news.run("latest all troops")
    assert both.error and both.title == "give at most one theme"


async def test_latest_all_on_an_empty_database_says_so(world: World) -> None:
    reply = await world.run("latest all")

    assert (reply.stories, reply.lines) == ((), ("No story is stored yet.",))


async def test_a_front_end_with_room_asks_for_more_than_twenty(world: World) -> None:
    """`Invocation.limit` (the terminal's -n) is how many to show, past the chat's maximum."""
    for number in range(25):
        text = (f"Convoy k{number}a k{number}b k{number}c", f"Details q{number}x q{number}y")
        at = NOW - timedelta(minutes=100 - number)
        await world.publish(f"bulk-{number}", text, "Wire", at, matcher=AlwaysArms())
    terminal = Caller("console", "operator")

    asked = Invocation(terminal, "console", "latest", ("all",), limit=23)
    reply = await world.service.handle(asked)

    assert (len(reply.stories), reply.footer) == (23, None)
    assert reply.stories[-1].title.startswith("Convoy k2a")
