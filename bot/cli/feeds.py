"""`nkru feeds …`: the operator's feed commands (trusted: any address may be named)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.cli.support import UserError, ago, console, escape, load, run_async
from bot.core.canonical import canonical_url
from bot.core.models import Feed, FeedStatus

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.engine import Store
    from storage.transaction import SqlTransaction

feeds_app = typer.Typer(help="List, add, remove and inspect feeds.", no_args_is_help=True)
STATUS_STYLE = {FeedStatus.OK: "green", FeedStatus.FAILING: "yellow", FeedStatus.DISABLED: "red"}


@asynccontextmanager
async def feed_store(settings: Settings, *, seed: bool = True) -> AsyncIterator[Store]:
    """The database (migrated; with `seed`, the feed list copied in on first start): all the
    feed commands use. Not the bot's runtime: no fetcher, watchlist or parser to start."""
    from bot.core.feedlist import seed_feed_list
    from storage.engine import Store

    store = await Store.open(settings.database_url)
    try:
        if seed:
            await seed_feed_list(store, settings.feeds_file, int(settings.poll_interval))
        yield store
    finally:
        await store.close()


@feeds_app.command("list")
@run_async
async def list_feeds() -> None:
    """List the feeds: id, name, URL, interval."""

    async with feed_store(load()) as store, store.transaction() as conn:
        feeds = await conn.feeds.list_all()
    table = Table("id", "name", "url", "every", "enabled")
    for feed in feeds:
        table.add_row(
            str(feed.id),
            escape(feed.name),  # names and server-made errors are text, never rich markup
            escape(feed.url),
            f"{feed.interval_seconds // 60}m",
            "yes" if feed.enabled else "no",
        )
    console.print(table)


@feeds_app.command("status")
@run_async
async def feeds_status() -> None:
    """Health of every feed: ok / failing since / disabled and why, last poll, items."""

    async with feed_store(load()) as store, store.transaction() as conn:
        feeds = await conn.feeds.list_all()
    table = Table("id", "name", "status", "last poll", "next poll", "items", "problem")
    for feed in feeds:
        table.add_row(
            str(feed.id),
            escape(feed.name),
            _status(feed),
            ago(feed.last_polled_at),
            ago(feed.next_poll_at) if feed.enabled else "—",
            str(feed.item_count),
            escape(feed.disabled_reason or feed.last_error or ""),
        )
    console.print(table)


def _status(feed: Feed) -> str:
    label = feed.status.value
    if feed.status is FeedStatus.FAILING and feed.failing_since:
        label += f" since {ago(feed.failing_since)}"
    return f"[{STATUS_STYLE[feed.status]}]{label}[/]"


@feeds_app.command("add")
@run_async
async def add_feed(
    url: Annotated[str, typer.Argument(help="RSS, Atom or JSON Feed URL (http/https)")],
    name: Annotated[str | None, typer.Argument(help="Display name (default: the URL)")] = None,
    interval: Annotated[
        str, typer.Option(help="Polling interval from 1m to 7d, e.g. 15m or 2h")
    ] = "",
) -> None:
    """Add a feed. Its first fetch stores items without alerting (flood guard)."""
    from bot.core.feed_input import feed_interval, feed_url
    from bot.core.records import FeedExistsError, NewFeed

    try:
        canonical = feed_url(url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    settings = load()
    try:
        seconds = feed_interval(interval) if interval else int(settings.poll_interval)
    except ValueError as exc:
        raise UserError(f"--interval: {exc}") from None
    async with feed_store(settings) as store:
        try:
            async with store.transaction() as conn:
                feed = await conn.feeds.add(
                    NewFeed(canonical, name or canonical, seconds, "cli"), _now()
                )
        except FeedExistsError as exc:
            raise UserError(f"{exc} — see `nkru feeds list`") from None
    console.print(
        f"added feed #{feed.id} {escape(feed.name)} ({escape(feed.url)}), polled every {seconds}s"
    )


@feeds_app.command("remove")
@run_async
async def remove_feed(
    feed: Annotated[str, typer.Argument(help="Feed id or URL")],
) -> None:
    """Remove a feed (articles already stored stay searchable)."""

    async with feed_store(load(), seed=False) as store, store.transaction() as conn:
        found = await _find(conn, feed)
        await conn.feeds.remove(found.id)
    console.print(f"removed feed #{found.id} {escape(found.name)}")


@feeds_app.command("enable")
@run_async
async def enable_feed(feed: Annotated[str, typer.Argument(help="Feed id or URL")]) -> None:
    """Re-enable a feed (clears its failure state; it is polled soon)."""
    await _set_enabled(feed, True)


@feeds_app.command("disable")
@run_async
async def disable_feed(feed: Annotated[str, typer.Argument(help="Feed id or URL")]) -> None:
    """Stop polling a feed without removing it."""
    await _set_enabled(feed, False)


async def _set_enabled(feed: str, enabled: bool) -> None:

    async with feed_store(load(), seed=False) as store, store.transaction() as conn:
        found = await _find(conn, feed)
        await conn.feeds.set_enabled(found.id, enabled, _now())
    console.print(f"feed #{found.id} {escape(found.name)} {'enabled' if enabled else 'disabled'}")


async def _find(conn: SqlTransaction, key: str) -> Feed:
    """A feed by id or URL, or a UserError that says how to find the right one."""

    found = None
    if key.isdigit():
        found = await conn.feeds.get(int(key))
    else:
        found = await conn.feeds.get_by_url(canonical_url(key) or key)
    if found is None:
        raise UserError(f"no feed {key!r} — see `nkru feeds list` for ids and URLs")
    return found


def _now() -> datetime:
    return datetime.now(UTC)
