"""The Discord adapter with the real core: ingest → outbox → DiscordDelivery, and CommandService.

Real watchlist, real store (SQLite, and PostgreSQL when configured), real discord.py; only the
Discord API is the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.adapters.discord import DiscordBot, DiscordDelivery, api
from bot.core.commands.service import CommandService
from bot.core.delivery import RetryPolicy, deliver_due
from bot.core.models import NewArticle
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.records import NewFeed
from bot.core.routing import Route
from bot.core.story_cache import StoryCache
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.adapters.discord.factories import handled
from tests.adapters.discord.payloads import CHANNEL, guild_create, slash_command
from tests.conftest import REPO_ROOT
from tests.fakes.discord_api import TOKEN, FakeDiscord

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DESTINATION = f"discord:{CHANNEL}"
ROUTE = Route(DESTINATION)  # every watchlist theme, instantly
BRIDGE = (
    "Russia and North Korea open first road bridge over the Tumen River",
    "The crossing links Khasan in Russia's Primorye with Tumangang in North Korea.",
)
BRIDGE_AGAIN = (
    "Russia, North Korea open first road bridge across Tumen River",
    "The crossing links Khasan in Primorye with Tumangang in North Korea, officials said.",
)


class World:
    """Articles stored through the real ingest, with their alerts queued for the Discord route."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.matcher = WatchlistMatcher.load(REPO_ROOT / "watchlists")
        self.cache = StoryCache()
        self.now = NOW
        self.publish_routes: Sequence[Route] = (ROUTE,)  # who `publish` queues alerts for

    async def publish(self, key: str, text: tuple[str, str], source: str) -> None:
        async with self.store.transaction() as conn:
            feed = await conn.feeds.add(
                NewFeed(f"https://{key}.example/rss", source, 1800), self.now
            )
            article = NewArticle(
                feed_id=feed.id, item_key=key, guid=key, url=f"https://news.example/{key}",
                title=text[0], summary=text[1], published_at=self.now, fetched_at=self.now,
                content_hash=key, source_name=source,
            )  # fmt: skip
            policy = AlertPolicy(destinations=(), routes=self.publish_routes)
            await ingest(conn, [article], self.now, policy, cache=self.cache, matcher=self.matcher)

    async def deliver(self, delivery: DiscordDelivery) -> tuple[int, int, int]:
        report = await deliver_due(
            self.store, {"discord": delivery}, lambda: self.now, RetryPolicy()
        )
        return report.sent, report.retrying, report.dead


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


async def test_alert_then_update_from_the_outbox(
    fake: FakeDiscord, client: discord.Client, world: World
) -> None:
    delivery = DiscordDelivery(client, world.matcher.catalog)
    await world.publish("bridge", BRIDGE, "TASS")
    assert await world.deliver(delivery) == (1, 0, 0)
    (message,) = fake.channel_messages(CHANNEL)
    embed = message["embeds"][0]
    assert embed["title"] == BRIDGE[0] and embed["fields"][0]["name"].startswith("Tumen")
    assert embed["color"] == int(world.matcher.catalog().get("tumen-bridge").colour[1:], 16)

    world.now += timedelta(minutes=20)
    await world.publish("bridge-again", BRIDGE_AGAIN, "Yonhap")
    assert await world.deliver(delivery) == (1, 0, 0)

    (edited,) = fake.channel_messages(CHANNEL)
    assert edited["id"] == message["id"] and edited["edited_timestamp"]
    assert edited["embeds"][0]["fields"][-1] == {
        "name": "Also reported by",
        "value": "Yonhap",
        "inline": False,
    }


async def test_crash_between_post_and_record_posts_once(
    fake: FakeDiscord, client: discord.Client, world: World
) -> None:
    delivery = DiscordDelivery(client, world.matcher.catalog)
    await world.publish("bridge", BRIDGE, "TASS")
    async with world.store.transaction() as conn:
        (claimed,) = await conn.outbox.claim_due(world.now, timedelta(minutes=5))
    await delivery.send(claimed)  # posted… and the process dies before recording it

    world.now += timedelta(minutes=10)  # the claim lease and Discord's nonce window pass
    fake.expire_nonces()
    assert await world.deliver(delivery) == (1, 0, 0)

    assert len(fake.channel_messages(CHANNEL)) == 1
    assert len(fake.calls("POST", f"/channels/{CHANNEL}/messages")) == 1
    assert fake.calls("GET", f"/channels/{CHANNEL}/messages")  # found it in the history


@pytest.fixture
async def bot(fake: FakeDiscord, world: World) -> AsyncIterator[DiscordBot]:
    service = CommandService(world.store, world.matcher.catalog, [ROUTE], lambda: world.now)
    client = DiscordBot(service, world.matcher.catalog, network=fake.network())
    await api.login(client, TOKEN)
    client._connection.parse_guild_create(guild_create())  # internal: no gateway to send it
    yield client
    await client.shutdown()


async def run(
    bot: DiscordBot, fake: FakeDiscord, sub: str, options: dict[str, str | int]
) -> tuple[bool, dict[str, object]]:
    payload, state = slash_command(fake, sub, options)
    await handled(bot, payload)
    return state.shown[0]


async def test_command_service_answers_through_discord(
    fake: FakeDiscord, bot: DiscordBot, world: World
) -> None:
    await world.publish("bridge", BRIDGE, "TASS")

    private, latest = await run(bot, fake, "latest", {"theme": "tumen-bridge"})
    assert not private and BRIDGE[0] in latest["embeds"][0]["description"]

    private, refused = await run(bot, fake, "mute", {"theme": "nope", "duration": "3d"})
    assert private and "nope" in refused["embeds"][0]["title"]

    private, muted = await run(bot, fake, "mute", {"theme": "tumen-bridge", "duration": "3d"})
    assert not private  # the channel should know why alerts on a theme stopped, and who did it
    assert (
        muted["embeds"][0]["title"]
        == "Muted tumen-bridge here until 2026-11-23 12:00 UTC (by analyst)"
    )
