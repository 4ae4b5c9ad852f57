"""A Discord channel subscribed with `/nkru subscribe` receives the next matching alert.

The slash command's options go through real discord.py into the real core; the alert goes
through the real ingest, outbox and DiscordDelivery; only the Discord API is the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.adapters.discord import DiscordBot, DiscordDelivery, api
from bot.core.commands.service import CommandService
from bot.core.delivery import deliver_due
from bot.core.subscriptions.live import LiveRoutes
from storage.engine import Store
from tests.adapters.discord.factories import handled
from tests.adapters.discord.payloads import (
    CHANNEL,
    MANAGE_GUILD,
    SEND_AND_VIEW,
    guild_create,
    slash_command,
)
from tests.adapters.discord.test_end_to_end import BRIDGE, World
from tests.fakes.discord_api import TOKEN, FakeDiscord

TROOPS = (
    "North Korean troops deployed to Russia's Kursk region",
    "Thousands of North Korean soldiers are fighting alongside Russian forces, officials say.",
)


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


@pytest.fixture
def routes(world: World) -> LiveRoutes:
    return LiveRoutes(world.store, ())


@pytest.fixture
async def bot(fake: FakeDiscord, world: World, routes: LiveRoutes) -> AsyncIterator[DiscordBot]:
    service = CommandService(
        world.store, world.matcher.catalog, routes, lambda: world.now, services=[routes]
    )
    client = DiscordBot(service, world.matcher.catalog, network=fake.network())
    await api.login(client, TOKEN)
    client._connection.parse_guild_create(guild_create())  # internal: no gateway to send it
    yield client
    await client.shutdown()


async def subscribe(bot: DiscordBot, fake: FakeDiscord, permissions: int) -> tuple[bool, str]:
    options: dict[str, str | int] = {"themes": "troops", "mode": "instant"}
    payload, state = slash_command(fake, "subscribe", options, permissions=permissions)
    await handled(bot, payload)
    private, shown = state.shown[0]
    return private, str(shown["embeds"][0]["title"])  # type: ignore[index]


async def test_a_subscribed_channel_receives_the_next_matching_alert(
    fake: FakeDiscord, bot: DiscordBot, client: discord.Client, world: World, routes: LiveRoutes
) -> None:
    world.publish_routes = routes
    private, title = await subscribe(bot, fake, SEND_AND_VIEW | MANAGE_GUILD)
    assert not private and title.startswith("Subscribed this channel")

    await world.publish("bridge", BRIDGE, "TASS")  # tumen-bridge: not followed
    await world.publish("troops", TROOPS, "BBC")
    delivery = DiscordDelivery(client, world.matcher.catalog)
    report = await deliver_due(world.store, {"discord": delivery}, lambda: world.now, routes=routes)
    assert report.sent == 1
    alerts = [m["embeds"][0]["title"] for m in fake.channel_messages(CHANNEL) if m.get("embeds")]
    assert TROOPS[0] in alerts and BRIDGE[0] not in alerts


async def test_a_member_without_manage_server_is_refused(
    fake: FakeDiscord, bot: DiscordBot, routes: LiveRoutes
) -> None:
    private, title = await subscribe(bot, fake, SEND_AND_VIEW)
    assert private and title == "Not allowed"
    assert list(routes) == []
