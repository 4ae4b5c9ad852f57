"""`/nkru digest`: this channel's digest now, by its route, over the period asked for."""

from __future__ import annotations

from datetime import timedelta

from bot.core.commands.news import route_for
from bot.core.digest import Digest
from bot.core.routing import Route
from tests.core.commands.conftest import CHANNEL, NOW, TANKER, TROOPS, VETO, World


def sections(reply_digest: object) -> dict[str, list[str]]:
    """Theme → story titles of a digest."""
    assert isinstance(reply_digest, Digest)
    return {s.theme: [item.view.story.title for item in s.items] for s in reply_digest.sections}


async def test_a_channel_without_a_route_gets_every_watchlist_theme_of_the_last_day(
    news: World,
) -> None:
    reply = await news.run("digest")

    assert (reply.error, reply.ephemeral, reply.lines) == (False, False, ())
    assert reply.title == "Digest of the last 1d"
    assert reply.digest is not None
    assert reply.digest.destination == CHANNEL
    assert reply.digest.since == NOW - timedelta(hours=24)
    found = sections(reply.digest)
    assert set(found) == {
        "troops",
        "un-veto",
        "tumen-bridge",
        "sanctions-evasion",
        "arms-transfers",
    }
    assert "other" not in found  # the off-topic item is no theme's
    assert reply.digest.story_count == 5


async def test_digest_since_limits_the_period(news: World) -> None:
    reply = await news.call("digest", "90m")

    assert reply.title == "Digest of the last 1h 30m"
    assert reply.digest is not None
    assert sorted(t for titles in sections(reply.digest).values() for t in titles) == sorted(
        [TANKER[0], TROOPS[0]]
    )


async def test_digest_follows_the_channels_digest_route_first(news: World) -> None:
    news.routes += [
        Route(CHANNEL, frozenset({"troops"})),  # instant
        Route(CHANNEL, frozenset({"un-veto", "energy-trade"}), mode="digest"),
        Route("slack:C0999", frozenset({"troops"})),  # instant only
    ]

    digest_route = (await news.run("digest")).digest
    instant_only = (await news.run("digest", destination="slack:C0999")).digest

    assert digest_route is not None and instant_only is not None
    assert sections(digest_route) == {"un-veto": [VETO[0]], "energy-trade": [TANKER[0]]}
    assert sections(instant_only) == {"troops": [TROOPS[0]]}


async def test_an_empty_digest_says_nothing_is_new(news: World) -> None:
    news.clock.advance(days=2)

    reply = await news.run("digest 1h")

    assert reply.digest is not None and reply.digest.story_count == 0
    assert reply.lines == ("Nothing new on the themes followed here since 2026-11-22 11:00 UTC.",)


def test_route_for_prefers_digest_then_instant_then_all_themes() -> None:
    instant = Route("slack:C1", frozenset({"troops"}))
    digest = Route("slack:C1", frozenset({"un-veto"}), mode="digest")
    assert route_for([instant, digest], "slack:C1") is digest
    assert route_for([instant], "slack:C1") is instant
    assert route_for([instant], "slack:C2") == Route("slack:C2", frozenset())
