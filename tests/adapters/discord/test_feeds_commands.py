"""`/nkru feeds …` on Discord: INTERACTION_CREATE payloads with the `feeds` subcommand group.

The payload is what Discord sends for a subcommand of a group (type 2, SUB_COMMAND_GROUP,
wrapping the type 1 subcommand); it runs through discord.py's command tree into the real
CommandService, fetcher and store. The loopback feed server is allowed for these tests
(127.0.0.1/32) so it can stand in for a public feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.adapters.discord import DiscordBot, api
from bot.core.commands.model import ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.feed_probe import ChatFeeds
from bot.core.feed_safety import NetworkGuard
from bot.core.poll.fetch import FeedFetcher
from storage.engine import Store
from tests.adapters.discord.factories import handled
from tests.adapters.discord.payloads import (
    MANAGE_GUILD,
    SEND_AND_VIEW,
    guild_create,
    slash_command,
)
from tests.core.commands.conftest import NOW
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.core.test_feed_safety import PRIVATE_WAYS_IN, guard
from tests.fakes.discord_api import APP_ID, TOKEN, FakeDiscord, InteractionState
from tests.fakes.feed_server import FeedServer

Json = dict[str, Any]


def feeds_command(
    fake: FakeDiscord, subcommand: str, options: dict[str, str | int] | None = None, **kw: Any
) -> tuple[Json, InteractionState]:
    """INTERACTION_CREATE for `/nkru feeds <subcommand> <options>`."""
    payload, state = slash_command(fake, subcommand, options, **kw)
    inner = payload["data"]["options"]  # [{"name": subcommand, "type": 1, "options": […]}]
    payload["data"]["options"] = [{"name": "feeds", "type": 2, "options": inner}]
    return payload, state


@dataclass
class Served:
    """A logged-in bot over the real core, the feed server and the store."""

    bot: DiscordBot
    feeds: FeedServer
    store: Store

    async def invoke(
        self, fake: FakeDiscord, subcommand: str, options: dict[str, str | int], **kw: Any
    ) -> tuple[bool, Json]:
        """Deliver the command as the gateway would; the first thing the user is shown."""
        payload, state = feeds_command(fake, subcommand, options, **kw)
        await handled(self.bot, payload)
        assert len(state.shown) == 1
        return state.shown[0]

    async def stored(self) -> list[tuple[str, str]]:
        async with self.store.transaction() as conn:
            return [(f.url, f.name) for f in await conn.feeds.list_all()]


@pytest.fixture
def network_guard() -> NetworkGuard:
    """The loopback feed server stands in for a public feed (tests override this)."""
    return guard(allow="127.0.0.1/32")


@pytest.fixture
async def served(
    fake: FakeDiscord, store: Store, network_guard: NetworkGuard
) -> AsyncIterator[Served]:
    async with (
        FeedServer() as feeds,
        FeedFetcher(network_guard=network_guard) as fetcher,
    ):
        feeds.add_feed("/feed.xml", rss(ITEMS))
        feeds.add_redirect("/moved", "http://10.0.0.1/feed.xml", status=302)
        service = CommandService(
            store,
            ThemeCatalog,
            (),
            lambda: NOW,
            admin=AdminPolicy(discord_manage_guild=True),
            services=[ChatFeeds(fetcher, 1800, True)],
        )
        bot = DiscordBot(service, ThemeCatalog(), network=fake.network())
        await api.login(bot, TOKEN)
        bot._connection.parse_guild_create(guild_create())  # internal: no gateway to send it
        try:
            yield Served(bot, feeds, store)
        finally:
            await bot.shutdown()


async def test_feeds_is_registered_as_a_subcommand_group(fake: FakeDiscord, served: Served) -> None:
    (group,) = fake.commands[None]
    assert fake.rejected == []
    [feeds] = [option for option in group["options"] if option["name"] == "feeds"]
    subcommands = {option["name"]: option for option in feeds["options"]}
    assert feeds["type"] == 2
    assert set(subcommands) == {"list", "status", "add", "remove", "enable", "disable"}
    add = {option["name"]: option for option in subcommands["add"]["options"]}
    assert add["url"]["required"] is True and add["name"].get("required", False) is False
    assert add["every"].get("required", False) is False
    assert fake.calls("PUT", f"/applications/{APP_ID}/commands")


async def test_a_member_without_manage_server_is_refused_privately(
    fake: FakeDiscord, served: Served
) -> None:
    url = served.feeds.url("/feed.xml")

    ephemeral, message = await served.invoke(fake, "add", {"url": url, "name": "Wire"})

    assert ephemeral
    assert message["embeds"][0]["title"] == "Not allowed"
    assert "Only admins can feeds add." in message["embeds"][0]["description"]
    assert await served.stored() == [] and served.feeds.hits("/feed.xml") == 0


async def test_a_server_manager_adds_a_feed_in_the_channel(
    fake: FakeDiscord, served: Served
) -> None:
    url = served.feeds.url("/feed.xml")
    manager = SEND_AND_VIEW | MANAGE_GUILD

    ephemeral, message = await served.invoke(
        fake, "add", {"url": url, "name": "Korea Wire"}, permissions=manager
    )

    assert not ephemeral
    embed = message["embeds"][0]
    assert embed["title"].startswith("Added feed #1 Korea Wire (")
    assert "It has 2 items now" in embed["description"]
    assert await served.stored() == [(url, "Korea Wire")]
    assert served.feeds.hits("/feed.xml") == 1


async def test_a_feed_added_with_an_interval_is_polled_that_often(
    fake: FakeDiscord, served: Served
) -> None:
    url = served.feeds.url("/feed.xml")
    manager = SEND_AND_VIEW | MANAGE_GUILD

    _, too_often = await served.invoke(fake, "add", {"url": url, "every": "0"}, permissions=manager)
    assert "'0' is out of range" in too_often["embeds"][0]["title"]
    assert await served.stored() == []
    _, added = await served.invoke(
        fake, "add", {"url": url, "name": "Wire", "every": "2h"}, permissions=manager
    )

    assert "Polled every 2h;" in added["embeds"][0]["description"]
    async with served.store.transaction() as conn:
        [feed] = await conn.feeds.list_all()
    assert (feed.name, feed.interval_seconds) == ("Wire", 7200)


async def test_anyone_sees_the_feed_status_privately(fake: FakeDiscord, served: Served) -> None:
    manager = SEND_AND_VIEW | MANAGE_GUILD
    await served.invoke(fake, "add", {"url": served.feeds.url("/feed.xml")}, permissions=manager)

    ephemeral, message = await served.invoke(fake, "status", {})

    assert ephemeral
    assert message["embeds"][0]["title"] == "Feed status: 1 ok, 0 failing, 0 disabled"
    assert "#1 Test Wire: ok · last poll never · 0 items" in message["embeds"][0]["description"]


@pytest.mark.parametrize(("url", "network_guard", "why"), PRIVATE_WAYS_IN)
async def test_every_way_to_a_private_address_is_refused_from_discord(
    fake: FakeDiscord, served: Served, url: str, why: str
) -> None:
    url = url.format(port=served.feeds.port)

    ephemeral, message = await served.invoke(
        fake, "add", {"url": url}, permissions=SEND_AND_VIEW | MANAGE_GUILD
    )

    assert ephemeral
    assert why in message["embeds"][0]["description"] + message["embeds"][0]["title"]
    assert await served.stored() == []
    assert served.feeds.hits("/feed.xml") == 0  # the inward target was never reached
