"""Poll one feed by id: fetch → parse → normalise → store only what is new → stories → outbox.

Parse and normalise (with dedup keys and story fingerprints) is `prepare.prepare_feed`, run by
`PollContext.parser` in a worker thread or a pool of worker processes.

`poll_feed` is a standalone, idempotent unit of work: it takes an id and a storage handle, keeps
no state in memory, and can run in any process (APScheduler only decides when).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bot.core import feed_health
from bot.core.feed_health import PollPolicy
from bot.core.feed_input import usable_interval
from bot.core.feed_safety import needs_guard
from bot.core.models import Feed, FetchOutcome, FetchRequest, FetchResult, ParsedFeed, PollState
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.group_commit import GroupCommitter
from bot.core.poll.ingest import AlertPolicy, IngestReport
from bot.core.poll.parse import parse_feed
from bot.core.poll.prepare import Parser, ThreadParser
from bot.core.poll.prepare import identifiable as identifiable
from bot.core.repositories import Database, DatabaseError
from bot.core.routing import ThemeMatcher
from bot.core.story_cache import StoryCache

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollContext:
    """Everything a poll needs; built once by the wiring code."""

    store: Database
    fetcher: FeedFetcher
    poll_policy: PollPolicy = field(default_factory=PollPolicy)
    alert_policy: AlertPolicy = field(default_factory=AlertPolicy)
    clock: Callable[[], datetime] = utcnow
    # Where parsing, normalising and fingerprinting run: a worker thread unless the wiring
    # code passes a bot.core.poll.prepare.ProcessPoolParser (NKRU_PARSE_WORKERS).
    parser: Parser = field(default_factory=lambda: ThreadParser(_parse))
    # This process's index of the stories in the window (the database stays the truth).
    stories: StoryCache = field(default_factory=StoryCache)
    # The watchlist's matcher (bot.core.watchlist): new articles get their themes from it.
    matcher: ThemeMatcher | None = None
    # Stores the polls that finish together in one transaction (bot.core.poll.group_commit).
    committer: GroupCommitter = field(init=False)

    def __post_init__(self) -> None:
        # Built here, not passed in: it must write with this context's store, policy and cache.
        committer = GroupCommitter(self.store, self.alert_policy, self.stories, self.matcher)
        object.__setattr__(self, "committer", committer)

    def set_matcher(self, matcher: ThemeMatcher | None) -> None:
        """Match with a new watchlist from now on (bot.core.watchlist_editing swaps it in).

        The context is shared by every poll, so this is the one place the matcher changes: the
        committer reads it once per group, so each stored group is matched by one watchlist.
        """
        object.__setattr__(self, "matcher", matcher)
        self.committer.matcher = matcher


def _parse(body: bytes, *, url: str, content_type: str | None, fetched_at: datetime) -> ParsedFeed:
    # `parse_feed` looked up at call time: replacing `pipeline.parse_feed` (tests observe
    # parsing that way) reaches the thread path. Worker processes use `prepare.parse_feed`.
    return parse_feed(body, url=url, content_type=content_type, fetched_at=fetched_at)


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
    # The feed state the poll wrote (None when it wrote none: missing, disabled, a database
    # error): whoever schedules the next poll reads its time here instead of reading the feed.
    state: PollState | None = None


async def poll_feed(ctx: PollContext, feed_id: int) -> PollReport:
    """Poll one feed by id and record its health; never raises for feed or database problems."""
    return await _reported(feed_id, _poll_by_id(ctx, feed_id))


async def poll_loaded(ctx: PollContext, feed: Feed, origin: str) -> PollReport:
    """`poll_feed` for a feed just read with who added it (the dispatcher's due query): the
    poll itself then opens no transaction unless it has something to store or record."""
    return await _reported(feed.id, _poll(ctx, feed, origin))


async def _reported(feed_id: int, poll: Awaitable[PollReport]) -> PollReport:
    try:
        return await poll
    except DatabaseError as exc:
        # Nothing was half-written (each step is one transaction); the next poll retries it all.
        log.exception("feed #%s: database error during the poll", feed_id)
        return PollReport(
            feed_id,
            "?",
            "failed",
            error=f"database error: {exc} — the poll is retried on schedule; check the database",
        )


async def _poll_by_id(ctx: PollContext, feed_id: int) -> PollReport:
    async with ctx.store.transaction() as tx:
        found = await tx.feeds.get_with_origin(feed_id)
    if found is None:
        return PollReport(feed_id, "?", "missing", error=f"feed #{feed_id} no longer exists")
    return await _poll(ctx, *found)


async def _poll(ctx: PollContext, feed: Feed, origin: str) -> PollReport:
    if not feed.enabled:  # a stale job (disabled by another process): keep its state as it is
        return PollReport(feed.id, feed.name, "disabled", error=feed.disabled_reason)
    # A stored interval out of range (added before intervals were checked) is polled at the
    # nearest bound, with a warning naming the feed.
    usable = usable_interval(
        feed.id, feed.name, feed.interval_seconds, ctx.poll_policy.min_interval
    )
    if usable != feed.interval_seconds:
        feed = replace(feed, interval_seconds=usable)
    request = FetchRequest(feed.url, feed.etag, feed.last_modified, feed.body_hash)
    # Feeds added from chat may only reach public addresses, checked on every poll (DNS moves).
    result = await ctx.fetcher.fetch(request, guarded=needs_guard(origin))
    if result.outcome is FetchOutcome.FAILED:
        return await _record_failure(ctx, feed, result.error or "unknown error", result)
    if result.outcome is not FetchOutcome.FETCHED:
        state = feed_health.succeeded(feed, result, ctx.clock(), ctx.poll_policy)
        await _record(ctx, feed, state)
        return PollReport(feed.id, feed.name, result.outcome.value, state=state)
    return await _ingest_body(ctx, feed, result)


async def _ingest_body(ctx: PollContext, feed: Feed, result: FetchResult) -> PollReport:
    fetched_at = ctx.clock()
    # Parsing, dedup keys and fingerprints are CPU work: off the event loop (thread or process).
    prepared = await ctx.parser.prepare(
        result.body or b"",
        url=result.final_url or feed.url,
        content_type=result.content_type,
        fetched_at=fetched_at,
        feed_id=feed.id,
        feed_url=feed.url,
        source_name=feed.name,
    )
    if prepared.fatal:
        return await _record_failure(ctx, feed, prepared.problem or "not a feed", result)
    guarded = ctx.poll_policy.flood_guard and not feed.first_fetch_done
    written: list[PollState] = []

    def outcome(report: IngestReport) -> tuple[int, PollState]:
        state = feed_health.succeeded(
            feed,
            result,
            fetched_at,
            ctx.poll_policy,
            ttl_minutes=prepared.ttl_minutes,
            problem=prepared.problem,
            new_items=len(report.new_articles),
        )
        written[:] = [state]  # a group retried one by one builds it again: the last is stored
        return feed.id, state

    # The feed's new state is written in the same transaction as its articles.
    report = await ctx.committer.ingest(
        prepared.articles, fetched_at, alert=not guarded, outcome=outcome
    )
    if prepared.problem:
        log.warning("feed #%s %s: %s (items still read)", feed.id, feed.url, prepared.problem)
    return PollReport(
        feed.id,
        feed.name,
        "fetched",
        new_articles=len(report.new_articles),
        queued_alerts=report.queued_alerts,
        flood_guarded=guarded and bool(report.new_articles),
        warning=prepared.problem,
        state=written[-1] if written else None,
    )


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
    return PollReport(feed.id, feed.name, "failed", error=error, state=state)


async def _record(ctx: PollContext, feed: Feed, state: PollState) -> None:
    """The feed's new state, written in the same transaction as the other polls finishing now."""
    await ctx.committer.record(ctx.clock(), feed.id, state)
