"""A running bot's watchlist parts on one database: the stored watchlist kept live, the real
pipeline polling a loopback feed, and the real CommandService — what the tests drive."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import catalog_source
from bot.core.commands.model import Caller, Invocation, Reply
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.feed_health import PollPolicy
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, PollReport, poll_feed
from bot.core.records import NewFeed
from bot.core.routing import Route
from bot.core.watchlist_editing import LiveWatchlist, WatchlistEditor
from bot.core.watchlist_editing.files import WatchedFile
from storage.engine import Store
from storage.schema import article_themes, articles, outbox
from tests.conftest import REPO_ROOT
from tests.core.poll.test_pipeline import Item, rss
from tests.fakes.feed_server import FeedServer

WATCHLIST = REPO_ROOT / "watchlists" / "nkru.toml"
ADMIN = Caller("slack", "U0BOSS", "boss")
MEMBER = Caller("slack", "U0MEMBER", "member")
POLICY = AdminPolicy(slack_user_ids=frozenset({"U0BOSS"}), discord_role_ids=frozenset({"77"}))
# Needs a term no theme has: "pontoon crossing" (tumen-bridge) once an admin adds it.
PONTOON = Item("pontoon-1", "Russia and North Korea open pontoon crossing")
PONTOON_AGAIN = Item("pontoon-2", "North Korea and Russia plan second pontoon crossing")


def watchlist_folder(root: Path) -> Path:
    """A folder holding a copy of the default watchlist (NKRU_WATCHLISTS)."""
    folder = root / "watchlists"
    folder.mkdir()
    shutil.copy(WATCHLIST, folder / "nkru.toml")
    return folder


async def open_live(
    store: Store, folder: Path | None, routes: tuple[Route, ...] = ()
) -> LiveWatchlist:
    """A started LiveWatchlist, as `open_runtime` builds it."""
    routed = frozenset(t for route in routes for t in route.themes or ())
    editor = WatchlistEditor(store, lambda: datetime.now(UTC), routed_themes=routed)
    live = LiveWatchlist(editor, WatchedFile(folder) if folder else None)
    await live.start()
    return live


@dataclass
class Bench:
    """One bot process: its live watchlist, poll context and command service."""

    store: Store
    live: LiveWatchlist
    ctx: PollContext
    service: CommandService
    server: FeedServer
    feed_id: int
    destination: str
    items: list[Item] = field(default_factory=list)

    @classmethod
    async def open(
        cls, store: Store, fetcher: FeedFetcher, server: FeedServer, folder: Path, destination: str
    ) -> Bench:
        routes = (Route(destination),)  # every theme, instantly
        live = await open_live(store, folder, routes)
        policy = AlertPolicy(destinations=(), routes=routes)
        ctx = PollContext(
            store, fetcher, PollPolicy(flood_guard=False), policy, matcher=live.matcher
        )
        live.on_change(ctx.set_matcher)
        service = CommandService(
            store,
            catalog_source(ctx),
            routes,
            ctx.clock,
            admin=POLICY,
            services=[live.editor, live],
        )
        path = f"/wire-{destination.replace(':', '-')}.xml"
        server.add_feed(path, rss([]))
        async with store.transaction() as conn:
            feed = await conn.feeds.add(NewFeed(server.url(path), "Wire", 900), ctx.clock())
        return cls(store, live, ctx, service, server, feed.id, destination)

    async def run(self, text: str, caller: Caller = ADMIN) -> Reply:
        """`/nkru <text>` typed here (Slack's way: free text)."""
        return await self.service.handle(Invocation.from_text(caller, self.destination, text))

    async def poll(self, *items: Item) -> PollReport:
        """The feed publishes `items` (after the earlier ones); poll it once."""
        self.items.extend(items)
        self.server.set_body(self._path, rss(self.items))
        return await poll_feed(self.ctx, self.feed_id)

    @property
    def _path(self) -> str:
        return f"/wire-{self.destination.replace(':', '-')}.xml"

    async def alerted_themes(self, title: str) -> set[str]:
        """The themes stored for the article with this title, if an alert was queued for it."""
        stmt = (
            select(article_themes.c.theme)
            .join(articles, articles.c.id == article_themes.c.article_id)
            .join(outbox, outbox.c.article_id == articles.c.id)
            .where(articles.c.title == title, outbox.c.destination == self.destination)
        )
        async with self.store.transaction() as conn:
            return set((await conn.connection.execute(stmt)).scalars())


async def documents(store: Store) -> list[str]:
    """Every stored version's document, oldest first."""
    async with store.transaction() as conn:
        latest = await conn.versions.latest_number()
        found = [await conn.versions.get(n) for n in range(1, (latest or 0) + 1)]
    return [version.document for version in found if version is not None]
