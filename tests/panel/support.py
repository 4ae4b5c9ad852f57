"""A real panel for the tests: the bot's aiohttp listener on 127.0.0.1 with the panel mounted
(bot.web.add_web_panel), over a real database, the real command service (admin rules, the
chat feed service with a real guarded fetcher) and stories stored by the real ingest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp.typedefs import Middleware

from bot.chat_wiring import ChatWiring
from bot.core.commands.model import Caller, Invocation, ThemeCatalog
from bot.core.commands.service import CommandService
from bot.core.feed_probe import ChatFeeds
from bot.core.poll.fetch import FeedFetcher
from bot.core.records import AuditEntry
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist_editing import WatchlistEditor, When
from bot.core.watchlist_editing.editor import FILE_AUTHOR
from bot.core.web_login import WebLinks
from bot.settings import Settings
from bot.web import add_web_panel, bound_port, build_web_app, start_http
from storage.engine import Store
from tests.conftest import REPO_ROOT
from tests.core.commands.conftest import (
    ARMS,
    BRIDGE,
    BRIDGE_AGAIN,
    NOW,
    SNOW,
    TANKER,
    TROOPS,
    VETO,
    Clock,
    World,
)
from tests.core.test_feed_safety import guard

ADMIN = Caller("slack", "U0ADMIN", "Ada")
MEMBER = Caller("slack", "U0MEMBER", "Mo")  # a team member, not an admin
OPERATOR = Caller("console", "operator", "operator")
CHANNEL = "slack:C0123"
WATCHLIST = REPO_ROOT / "watchlists" / "nkru.toml"
LINK_TTL = timedelta(minutes=10)
# Korean and Russian reports of the bridge story, for the language filter.
BRIDGE_KO = ("러시아와 북한, 두만강 자동차 다리 개통", "하산과 두만강역을 잇는 다리가 열렸다.")
BRIDGE_RU = ("Россия и КНДР открыли автомобильный мост через Туманную", "Мост соединил Хасан.")


def settings(**overrides: object) -> Settings:
    """The bot's settings as an operator would give them (the admin rules are the chat's)."""
    return Settings(slack_admin_user_ids=[ADMIN.user_id], **overrides)  # type: ignore[arg-type]


@dataclass
class Panel:
    """The running panel and what stands behind it."""

    url: str
    store: Store
    world: World
    service: CommandService
    clock: Clock
    editor: WatchlistEditor
    audited_before: int  # the last audit entry before the panel started (storing the watchlist)

    async def link(self, caller: Caller = ADMIN) -> str:
        """A sign-in link, asked for with `/nkru web` in a channel, as chat users do."""
        reply = await self.service.handle(Invocation(caller, CHANNEL, "web"))
        assert reply.ephemeral and not reply.error, reply
        return reply.lines[0]

    async def audit(self) -> list[AuditEntry]:
        """The audit log since the panel started, newest first."""
        async with self.store.transaction() as tx:
            entries = await tx.audit.recent(50)
        return [entry for entry in entries if (entry.id or 0) > self.audited_before]

    async def feed_urls(self) -> list[str]:
        """Every stored feed's URL."""
        async with self.store.transaction() as tx:
            return [feed.url for feed in await tx.feeds.list_all()]


async def publish_news(world: World) -> None:
    """Eight stories over five hours: the bridge told by TASS and Yonhap (and, as stories of their
    own, in Korean and Russian), one off-topic item."""
    hours = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    await world.publish("arms", ARMS, "Yonhap", hours(5))
    await world.publish("bridge", BRIDGE, "TASS", hours(4))
    await world.publish("bridge-again", BRIDGE_AGAIN, "Yonhap", hours(3.5))
    await world.publish("bridge-ko", BRIDGE_KO, "KBS", hours(3.4))
    await world.publish("bridge-ru", BRIDGE_RU, "RIA", hours(3.3))
    await world.publish("veto", VETO, "Reuters", hours(3))
    await world.publish("snow", SNOW, "Reuters", hours(2))
    await world.publish("tanker", TANKER, "NK News", hours(1))
    await world.publish("troops", TROOPS, "BBC", hours(0.5))


@asynccontextmanager
async def running_panel(
    store: Store,
    matcher: WatchlistMatcher,
    *,
    allow: str = "127.0.0.1/32",
    middleware: Middleware | None = None,
    editor: WatchlistEditor | None = None,
) -> AsyncIterator[Panel]:
    """The panel on 127.0.0.1 (a free port); feeds added from it may reach `allow` (the chat's
    rule: public addresses, and the networks NKRU_CHAT_FEED_ALLOW_NETWORKS names). `middleware`
    wraps every request (benchmarks/panel.py times them with it). The watchlist pages edit
    through `editor` (a running bot's), else through one over `store` with the default
    watchlist stored as version 1."""
    world = World(store, matcher)
    clock = world.clock
    if editor is None:
        editor = WatchlistEditor(store, clock)
        text = WATCHLIST.read_text(encoding="utf-8")
        await editor.store_document(text, WATCHLIST, FILE_AUTHOR, source="seed", when=When.EMPTY)
    async with store.transaction() as tx:
        audited = [entry.id or 0 for entry in await tx.audit.recent(1)]
    config = settings()
    catalog: ThemeCatalog = world.catalog
    async with FeedFetcher(network_guard=guard(allow=allow)) as fetcher:
        service = CommandService(
            store,
            lambda: catalog,
            (),
            clock,
            admin=config.admin_policy(),
            services=[ChatFeeds(fetcher, 1800, True)],
        )
        app = build_web_app(store, {}, clock)
        if middleware is not None:
            app.middlewares.append(middleware)
        wiring = ChatWiring(config, store, service, lambda: catalog, (), {}, clock, editor=editor)
        await add_web_panel(app, wiring)
        runner = await start_http(app, "127.0.0.1", 0)
        try:
            url = f"http://127.0.0.1:{bound_port(runner)}"
            # The links name the address the listener got (port 0 until it started).
            service.services[WebLinks] = WebLinks(url, LINK_TTL)
            yield Panel(url, store, world, service, clock, editor, max(audited, default=0))
        finally:
            await runner.cleanup()


def browser_session() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 (as a browser does) and never follows
    redirects on its own (the tests look at them)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
