"""Wiring: settings → storage → fetcher → pipeline context → adapters → scheduler."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy.engine import make_url

from bot.adapters.console.adapter import ConsoleAdapter
from bot.chat_wiring import ChatOpener, ChatPlatforms, ChatSetupError, ChatWiring
from bot.collector import settle_collector
from bot.core.commands.model import ThemeCatalog
from bot.core.commands.service import CommandService
from bot.core.delivery import DeliveryAdapter, RetryPolicy
from bot.core.feed_health import PollPolicy
from bot.core.feed_probe import ChatFeeds
from bot.core.feed_safety import ALLOW_SETTING, NetworkGuard, parse_networks
from bot.core.feedlist import seed_feed_list
from bot.core.instances import announced
from bot.core.models import Feed
from bot.core.poll.dispatch import DispatchConfig
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, PollReport, poll_feed
from bot.core.poll.prepare import ProcessPoolParser
from bot.core.scheduling import BotScheduler, DigestJob, ScheduleConfig
from bot.core.subscriptions.live import LiveRoutes
from bot.core.subscriptions.model import DIGEST_SINCE
from bot.core.watchlist_editing import LiveWatchlist
from bot.service import StartupError, catalog_of, load_matcher
from bot.settings import Settings
from storage.engine import Store

if TYPE_CHECKING:
    from bot.scaleout.engine import QueueEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The live parts of one process."""

    settings: Settings
    store: Store
    ctx: PollContext
    adapters: dict[str, DeliveryAdapter]
    commands: CommandService
    chat: ChatPlatforms = field(default_factory=ChatPlatforms)
    watchlist: LiveWatchlist | None = None  # the stored watchlist in force, kept current
    routes: LiveRoutes | None = None  # config routes + stored subscriptions, kept current


def catalog_source(ctx: PollContext) -> Callable[[], ThemeCatalog]:
    """The current watchlist's themes, read when asked (the watchlist may be replaced)."""
    return catalog_of(lambda: ctx.matcher)


def poll_policy(settings: Settings) -> PollPolicy:
    """Polling rules from the settings."""
    return PollPolicy(
        min_interval=settings.poll_min_interval,
        max_interval=settings.poll_max_interval,
        backoff_base=settings.failure_backoff_base,
        backoff_cap=settings.failure_backoff_cap,
        disable_after=settings.disable_after,
        flood_guard=settings.flood_guard,
        jitter=settings.poll_jitter,
    )


def alert_policy(settings: Settings) -> AlertPolicy:
    """Alert rules from the settings."""
    max_age = settings.alert_max_age
    return AlertPolicy(
        destinations=(),
        routes=settings.route_list(),
        story_window=timedelta(seconds=settings.story_window),
        alert_max_age=timedelta(seconds=max_age) if max_age else None,
    )


def network_guard(settings: Settings) -> NetworkGuard:
    """What feeds added from chat may reach: public addresses and the allowed networks."""
    try:
        return NetworkGuard(parse_networks(settings.chat_feed_allow_networks, ALLOW_SETTING))
    except ValueError as exc:
        raise StartupError(str(exc)) from exc


def make_fetcher(settings: Settings) -> FeedFetcher:
    """An HTTP fetcher bounded as the settings say."""
    return FeedFetcher(
        user_agent=settings.user_agent,
        connect_timeout=settings.fetch_connect_timeout,
        total_timeout=settings.fetch_total_timeout,
        max_body_bytes=settings.fetch_max_body_bytes,
        global_limit=settings.fetch_global_concurrency,
        per_host_limit=settings.fetch_per_host_concurrency,
        network_guard=network_guard(settings),
    )


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, console: Console | None = None, chat: ChatOpener | None = None
) -> AsyncIterator[Runtime]:
    """Open storage (migrating it), the fetcher, the parser pool and the chat platforms; close
    them on exit.

    With `parse_workers` > 0 parsing runs in that many worker processes, started by the first
    poll (or `start_parser`), so commands that never poll start none; with 0 in a thread.
    `chat` opens Slack and Discord (`bot.chat.chat_platforms("send" or "serve")`); without it
    alerts go to the console only and no command is heard.
    """
    store = await Store.open(settings.database_url)
    try:
        async with AsyncExitStack() as stack:
            fetcher = await stack.enter_async_context(make_fetcher(settings))
            policy = alert_policy(settings)
            watchlist = await load_matcher(settings, store, policy.routes)
            # One live object: ingest, delivery and commands all route by its current union.
            live_routes = LiveRoutes(store, policy.routes)
            await live_routes.refresh()
            policy = dataclasses.replace(policy, routes=live_routes)
            ctx = PollContext(
                store, fetcher, poll_policy(settings), policy, matcher=watchlist.matcher
            )
            # Before any delivery: what a previous life of this process had claimed is due now.
            await stack.enter_async_context(announced(store, ctx.clock))
            if settings.parse_workers > 0:
                pool = ProcessPoolParser(settings.parse_workers, lazy=True)
                await stack.enter_async_context(pool)
                ctx = dataclasses.replace(ctx, parser=pool)
            watchlist.on_change(ctx.set_matcher)  # new versions reach the polls
            adapters: dict[str, DeliveryAdapter] = {"console": ConsoleAdapter(console)}
            routes, catalog = policy.routes, catalog_source(ctx)
            chat_feeds = ChatFeeds(fetcher, int(settings.poll_interval), settings.flood_guard)
            commands = CommandService(
                store,
                catalog,
                routes,
                ctx.clock,
                admin=settings.admin_policy(),
                services=[
                    chat_feeds,
                    watchlist.editor,
                    watchlist,
                    live_routes,
                    settings.web_links(),  # /nkru web
                ],
            )
            platforms = ChatPlatforms()
            if chat is not None:
                wiring = ChatWiring(
                    settings, store, commands, catalog, routes, adapters, ctx.clock,
                    editor=watchlist.editor,
                )  # fmt: skip
                try:
                    platforms = await stack.enter_async_context(chat(wiring))
                except ChatSetupError as exc:
                    raise StartupError(str(exc)) from exc
            adapters.update(platforms.adapters)
            yield Runtime(
                settings, store, ctx, adapters, commands, platforms, watchlist, live_routes
            )
    finally:
        await store.close()


async def start_parser(runtime: Runtime) -> None:
    """Start and warm up the parser's worker processes now, if it has any."""
    if isinstance(runtime.ctx.parser, ProcessPoolParser):
        await runtime.ctx.parser.start()


async def seed_feeds(runtime: Runtime) -> list[Feed]:
    """On first start (no feeds stored yet) copy the feed list file into the database."""
    settings = runtime.settings
    return await seed_feed_list(runtime.store, settings.feeds_file, int(settings.poll_interval))


async def poll_all_once(
    runtime: Runtime,
    on_done: Callable[[PollReport], None] | None = None,
    *,
    on_total: Callable[[int], None] | None = None,
) -> list[PollReport]:
    """Poll every enabled feed once, concurrently (the fetcher bounds concurrency); `on_total`
    hears how many feeds there are before the first poll, `on_done` each report."""
    async with runtime.store.transaction() as conn:
        feeds = [feed for feed in await conn.feeds.list_all() if feed.enabled]
    if on_total:
        on_total(len(feeds))

    async def one(feed: Feed) -> PollReport:
        report = await poll_feed(runtime.ctx, feed.id)
        if on_done:
            on_done(report)
        return report

    # The parser's workers start while the first bodies are being fetched.
    starting = asyncio.create_task(start_parser(runtime))
    reports = await asyncio.gather(*(one(feed) for feed in feeds))
    await starting
    return list(reports)


def schedule_config(settings: Settings) -> ScheduleConfig:
    """Job timings from the settings."""
    return ScheduleConfig(
        delivery_interval=settings.delivery_interval,
        # A poll waiting for a fetch slot costs little: keep the fetcher's slots busy.
        dispatch=DispatchConfig(max_in_flight=2 * settings.fetch_global_concurrency),
        retention=timedelta(seconds=settings.retention),
        digests=[
            DigestJob(r.route(), r.cron, r.since) for r in settings.routes if r.mode == "digest"
        ],
        retry=RetryPolicy(
            settings.delivery_max_attempts,
            settings.delivery_backoff_base,
            settings.delivery_backoff_cap,
        ),
        watchlist_check_interval=settings.watchlist_check_interval,
    )


def checks(runtime: Runtime) -> Callable[[], Awaitable[None]] | None:
    """The periodic check: the watchlist, then the subscriptions (changes by any process)."""
    parts = [part.refresh for part in (runtime.watchlist, runtime.routes) if part is not None]
    if not parts:
        return None

    async def check() -> None:
        for refresh in parts:
            await refresh()

    return check


def subscribed_digests(routes: LiveRoutes) -> Callable[[], Awaitable[list[DigestJob]]]:
    """The digests of the stored subscriptions, read again when asked (any process may have
    changed them): what the shared queue's digest job posts at each tick."""

    async def current() -> list[DigestJob]:
        await routes.refresh()
        return [DigestJob(route, cron, DIGEST_SINCE) for route, cron in routes.digests]

    return current


async def run_until_stopped(runtime: Runtime, stop: asyncio.Event | None = None) -> None:
    """Run the scheduler until SIGINT/SIGTERM (or `stop`), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await start_parser(runtime)
    config = schedule_config(runtime.settings)
    scheduler: BotScheduler | QueueEngine
    if make_url(runtime.settings.database_url).get_backend_name() == "postgresql":
        # Imported here: procrastinate's driver (psycopg) needs libpq, which SQLite users may
        # not have.
        from bot.scaleout.engine import QueueEngine, WorkerConfig

        # Every `nkru run` on this database shares one job queue (bot.scaleout).
        worker = WorkerConfig(concurrency=2 * runtime.settings.fetch_global_concurrency)
        scheduler = QueueEngine(
            runtime.settings.database_url,
            runtime.ctx,
            runtime.adapters,
            config,
            worker,
            watchlist_check=checks(runtime),
            subscribed=None if runtime.routes is None else subscribed_digests(runtime.routes),
        )
    else:
        local = BotScheduler(runtime.ctx, runtime.adapters, config, watchlist_check=checks(runtime))
        if runtime.routes is not None:
            runtime.routes.on_digests(
                lambda digests: local.set_subscription_digests(
                    [DigestJob(route, cron, DIGEST_SINCE) for route, cron in digests]
                )
            )
        scheduler = local
    await scheduler.start()
    settle_collector()  # start-up's objects frozen, young collections less often (why: there)
    log.info("nkru-monitor running; press Ctrl+C to stop")
    try:
        await stop.wait()
    finally:
        log.info("stopping: letting running polls and deliveries finish")
        await scheduler.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
