"""Poll one feed by id: fetch → parse → normalise → store only what is new → stories → outbox.

`poll_feed` is a standalone, idempotent unit of work: it takes an id and a storage handle, keeps
no state in memory, and can run in any process (APScheduler only decides when).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.core import feed_health
from bot.core.dedup import content_hash, item_key
from bot.core.feed_health import PollPolicy
from bot.core.fetch import FeedFetcher
from bot.core.ingest import AlertPolicy, ingest
from bot.core.models import (
    Feed,
    FetchOutcome,
    FetchRequest,
    FetchResult,
    NewArticle,
    ParsedEntry,
    ParsedFeed,
    PollState,
)
from bot.core.parse import UNTITLED, parse_feed
from storage import feeds as feed_repo
from storage.engine import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollContext:
    """Everything a poll needs; built once by the wiring code."""

    store: Store
    fetcher: FeedFetcher
    poll_policy: PollPolicy = field(default_factory=PollPolicy)
    alert_policy: AlertPolicy = field(default_factory=AlertPolicy)
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll did, for logs, progress bars and tests."""

    feed_id: int
    feed_name: str
    outcome: str  # fetched | not_modified | unchanged | failed | missing | disabled
    new_articles: int = 0
    queued_alerts: int = 0
    flood_guarded: bool = False
    error: str | None = None
    warning: str | None = None


async def poll_feed(ctx: PollContext, feed_id: int) -> PollReport:
    """Poll one feed and record its health; never raises for feed or database problems."""
    try:
        return await _poll(ctx, feed_id)
    except SQLAlchemyError as exc:
        # Nothing was half-written (each step is one transaction); the next poll retries it all.
        log.exception("feed #%s: database error during the poll", feed_id)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return PollReport(
            feed_id,
            "?",
            "failed",
            error=f"database error: {reason} — the poll is retried on schedule; check the database",
        )


async def _poll(ctx: PollContext, feed_id: int) -> PollReport:
    async with ctx.store.transaction() as conn:
        feed = await feed_repo.get(conn, feed_id)
    if feed is None:
        return PollReport(feed_id, "?", "missing", error=f"feed #{feed_id} no longer exists")
    if not feed.enabled:  # a stale job (disabled by another process): keep its state as it is
        return PollReport(feed.id, feed.name, "disabled", error=feed.disabled_reason)
    request = FetchRequest(feed.url, feed.etag, feed.last_modified, feed.body_hash)
    result = await ctx.fetcher.fetch(request)
    if result.outcome is FetchOutcome.FAILED:
        return await _record_failure(ctx, feed, result.error or "unknown error", result)
    if result.outcome is not FetchOutcome.FETCHED:
        state = feed_health.succeeded(feed, result, ctx.clock(), ctx.poll_policy)
        await _record(ctx, feed, state)
        return PollReport(feed.id, feed.name, result.outcome.value)
    return await _ingest_body(ctx, feed, result)


async def _ingest_body(ctx: PollContext, feed: Feed, result: FetchResult) -> PollReport:
    fetched_at = ctx.clock()
    parsed = await asyncio.to_thread(  # feedparser is CPU-bound: keep the event loop free
        parse_feed,
        result.body or b"",
        url=result.final_url or feed.url,
        content_type=result.content_type,
        fetched_at=fetched_at,
    )
    if parsed.fatal:
        return await _record_failure(ctx, feed, parsed.problem or "not a feed", result)
    guarded = ctx.poll_policy.flood_guard and not feed.first_fetch_done
    async with ctx.store.transaction() as conn:
        report = await ingest(
            conn,
            _articles(feed, parsed, fetched_at),
            fetched_at,
            ctx.alert_policy,
            alert=not guarded,
        )
        state = feed_health.succeeded(
            feed,
            result,
            fetched_at,
            ctx.poll_policy,
            ttl_minutes=parsed.ttl_minutes,
            problem=parsed.problem,
            new_items=len(report.new_articles),
        )
        await feed_repo.record_poll(conn, feed.id, state)
    if parsed.problem:
        log.warning("feed #%s %s: %s (items still read)", feed.id, feed.url, parsed.problem)
    return PollReport(
        feed.id,
        feed.name,
        "fetched",
        new_articles=len(report.new_articles),
        queued_alerts=report.queued_alerts,
        flood_guarded=guarded and bool(report.new_articles),
        warning=parsed.problem,
    )


def _articles(feed: Feed, parsed: ParsedFeed, fetched_at: datetime) -> list[NewArticle]:
    return [
        NewArticle(
            feed_id=feed.id,
            item_key=item_key(entry, feed.url),
            guid=entry.guid,
            url=entry.link,
            title=entry.title,
            summary=entry.summary,
            published_at=entry.published or fetched_at,
            fetched_at=fetched_at,
            content_hash=content_hash(entry.title, entry.summary),
            source_name=feed.name,
        )
        for entry in parsed.entries
        if identifiable(entry)
    ]


def identifiable(entry: ParsedEntry) -> bool:
    """An entry with no id, no link and no text can be neither shown nor recognised again
    (its dedup key would be the hash of nothing, shared by every such entry): skip it."""
    has_text = entry.summary.strip() or entry.title not in ("", UNTITLED)
    return bool(entry.guid or entry.link or has_text)


async def _record_failure(
    ctx: PollContext, feed: Feed, error: str, result: FetchResult
) -> PollReport:
    state = feed_health.failed(
        feed, error, ctx.clock(), ctx.poll_policy, retry_after=result.retry_after
    )
    await _record(ctx, feed, state)
    log.warning(
        "feed #%s %r failed (%s in a row, next try %s): %s",
        feed.id,
        feed.name,
        state.consecutive_failures,
        f"{state.next_poll_at:%H:%M:%S}",
        error,
    )
    if state.disabled_reason:
        log.error("feed #%s disabled: %s", feed.id, state.disabled_reason)
    return PollReport(feed.id, feed.name, "failed", error=error)


async def _record(ctx: PollContext, feed: Feed, state: PollState) -> None:
    async with ctx.store.transaction() as conn:
        await feed_repo.record_poll(conn, feed.id, state)
