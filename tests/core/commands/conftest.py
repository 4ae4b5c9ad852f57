"""A small news world for the command tests: real feeds, the real watchlist, the real ingest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.commands.model import Caller, Invocation, Reply, ThemeCatalog
from bot.core.commands.service import CommandService
from bot.core.models import Article, NewArticle, ThemeHit
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.records import NewFeed
from bot.core.routing import Route, ThemeMatcher
from bot.core.story_cache import StoryCache
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.conftest import REPO_ROOT

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHANNEL = "slack:C0123"
ANA = Caller("slack", "U01", "Ana")

# Real-looking reports; the themes each matches under watchlists/nkru.toml are noted.
ARMS = (  # arms-transfers
    "North Korea shipped more artillery shells to Russia, Seoul says",
    "Containers of munitions crossed by rail from Rajin to Russia's Far East, South Korean "
    "intelligence said.",
)
BRIDGE = (  # tumen-bridge
    "Russia and North Korea open first road bridge over the Tumen River",
    "The crossing links Khasan in Russia's Primorye with Tumangang in North Korea.",
)
BRIDGE_AGAIN = (  # the same story from another outlet
    "Russia, North Korea open first road bridge across Tumen River",
    "The crossing links Khasan in Primorye with Tumangang in North Korea, officials said.",
)
VETO = (  # un-veto (its sanctions words are the veto story's: a passing mention)
    "Russia vetoes UN Security Council renewal of North Korea sanctions panel of experts",
    "Moscow's veto ends the mandate of the panel that monitored sanctions on Pyongyang.",
)
SNOW = (  # no theme
    "Heavy snow cuts roads and rail lines in Hokkaido",
    "Trains were cancelled across northern Japan as a storm moved east.",
)
TANKER = (  # sanctions-evasion, energy-trade (the UN's cap is its scene, not a veto story)
    "Russian tanker delivers oil to North Korea in breach of UN sanctions cap",
    "Satellite images show the tanker unloading refined petroleum at Vostochny for Nampo.",
)
TROOPS = (  # troops
    "North Korean troops deployed to Russia's Kursk region",
    "Thousands of North Korean soldiers are fighting alongside Russian forces, officials say.",
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class AlwaysArms:
    """A ThemeMatcher that files every article under arms-transfers (for bulk stories)."""

    def hits(self, title: str, summary: str) -> list[ThemeHit]:
        return [ThemeHit("arms-transfers", 2.0, "test: every article")]


@dataclass
class World:
    """Feeds and articles stored through the real ingest, and a CommandService over them."""

    store: Store
    matcher: WatchlistMatcher
    clock: Clock = field(default_factory=Clock)
    routes: list[Route] = field(default_factory=list)
    catalog: ThemeCatalog = field(default_factory=ThemeCatalog)
    cache: StoryCache = field(default_factory=StoryCache)
    feeds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalog = self.matcher.catalog()
        # The lambda reads the attribute each time, so a test can swap the catalog at runtime.
        self.service = CommandService(self.store, lambda: self.catalog, self.routes, self.clock)

    async def feed(self, name: str) -> int:
        """The id of the outlet's feed, added on first use."""
        if name not in self.feeds:
            url = f"https://{name.casefold().replace(' ', '-')}.example/rss"
            async with self.store.transaction() as conn:
                added = await conn.feeds.add(NewFeed(url, name, 1800), NOW - timedelta(days=1))
            self.feeds[name] = added.id
        return self.feeds[name]

    async def publish(
        self,
        key: str,
        text: tuple[str, str],
        source: str,
        at: datetime,
        *,
        matcher: ThemeMatcher | None = None,
        routes: Sequence[Route] = (),
        published: datetime | None = None,
    ) -> Article:
        """Ingest one article fetched at `at` (and published then, or at `published`); returns
        it as stored."""
        title, summary = text
        article = NewArticle(
            feed_id=await self.feed(source), item_key=key, guid=key,
            url=f"https://news.example/{key}", title=title, summary=summary,
            published_at=published or at, fetched_at=at, content_hash=key, source_name=source,
        )  # fmt: skip
        policy = AlertPolicy(destinations=(), routes=routes)
        async with self.store.transaction() as conn:
            report = await ingest(
                conn, [article], at, policy, cache=self.cache, matcher=matcher or self.matcher
            )
        [stored] = report.new_articles
        return stored

    async def run(self, text: str, *, destination: str = CHANNEL, caller: Caller = ANA) -> Reply:
        """`/nkru <text>` typed in `destination`, the way the Slack adapter passes it."""
        return await self.service.handle(Invocation.from_text(caller, destination, text))

    async def call(self, command: str, *args: str, destination: str = CHANNEL) -> Reply:
        """A command with typed arguments, the way the Discord adapter passes it."""
        return await self.service.handle(Invocation(ANA, destination, command, args))


@pytest.fixture(scope="session")
def matcher() -> WatchlistMatcher:
    return WatchlistMatcher.load(REPO_ROOT / "watchlists")


@pytest.fixture
def world(store: Store, matcher: WatchlistMatcher) -> World:
    return World(store, matcher)


@pytest.fixture
async def news(world: World) -> World:
    """Six stories over the last five hours (one told by two outlets) and one off-topic item."""
    hours = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    await world.publish("arms", ARMS, "Yonhap", hours(5))
    await world.publish("bridge", BRIDGE, "TASS", hours(4))
    await world.publish("bridge-again", BRIDGE_AGAIN, "Yonhap", hours(3.5))
    await world.publish("veto", VETO, "Reuters", hours(3))
    await world.publish("snow", SNOW, "Reuters", hours(2))
    await world.publish("tanker", TANKER, "NK News", hours(1))
    await world.publish("troops", TROOPS, "BBC", hours(0.5))
    return world


def titles(reply: Reply) -> list[str]:
    """The titles of a reply's story lines, in order."""
    return [line.title for line in reply.stories]
