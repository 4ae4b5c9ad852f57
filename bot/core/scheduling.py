"""When work runs: APScheduler 3 jobs that call the standalone units of work.

One job per feed (its own interval, with jitter; moved to the feed's next_poll_at after each
poll so backoff, Retry-After and Cache-Control are honoured), a delivery job, digest jobs, a
retention job, a feed-sync job that notices feeds added or removed by another process, and a
watchlist check that adopts new watchlist versions (bot.core.watchlist_editing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.delivery import DeliveryAdapter, RetryPolicy, deliver_due
from bot.core.digest import send_digest
from bot.core.feed_input import usable_interval
from bot.core.models import Feed
from bot.core.poll.pipeline import PollContext, poll_feed
from bot.core.routing import Route

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DigestJob:
    """A digest route on a cron schedule, covering `since` seconds."""

    route: Route
    cron: str
    since: float


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """Timings for the jobs."""

    poll_jitter: float = 30.0
    delivery_interval: float = 5.0
    feed_sync_interval: float = 60.0
    retention: timedelta = timedelta(days=90)
    digests: list[DigestJob] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    watchlist_check_interval: float = 30.0


class BotScheduler:
    """Owns the AsyncIOScheduler and the in-flight job tasks, for a clean shutdown."""

    def __init__(
        self,
        ctx: PollContext,
        adapters: Mapping[str, DeliveryAdapter],
        config: ScheduleConfig,
        *,
        watchlist_check: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.ctx = ctx
        self.adapters = adapters
        self.config = config
        # LiveWatchlist.refresh: stores an edited watchlist file, adopts newer stored versions.
        self.watchlist_check = watchlist_check
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._inflight: set[asyncio.Task[object]] = set()
        self._stopping = False
        # Polls deliver right after ingesting while the delivery job also runs: one at a time.
        self._delivery_lock = asyncio.Lock()

    async def start(self) -> None:
        """Schedule every job and start the scheduler (on the running event loop)."""
        now = self.ctx.clock()
        await self.sync_feeds()
        self._add(
            "deliver",
            self.deliver,
            IntervalTrigger(seconds=self.config.delivery_interval),
            next_run_time=now,
        )
        self._add(
            "feed-sync", self.sync_feeds, IntervalTrigger(seconds=self.config.feed_sync_interval)
        )
        self._add("retention", self.purge, CronTrigger(hour=3, minute=30, timezone="UTC"))
        if self.watchlist_check is not None:
            interval = IntervalTrigger(seconds=self.config.watchlist_check_interval)
            self._add("watchlist-check", self.watchlist_check, interval)
        for number, digest in enumerate(self.config.digests):
            self._add(
                f"digest:{number}",
                self._digest_runner(digest),
                CronTrigger.from_crontab(digest.cron, timezone="UTC"),
            )
        self.scheduler.start()

    async def stop(self, grace: float = 30.0) -> None:
        """Stop scheduling, then let running polls and deliveries finish their writes."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        pending = [task for task in self._inflight if not task.done()]
        if pending:
            log.info("waiting for %d running job(s) to finish", len(pending))
            await asyncio.wait(pending, timeout=grace)
        # Only now: AsyncIOScheduler.shutdown cancels the tasks of jobs still running, so
        # shutting down first would cancel the polls we meant to wait for (losing writes).
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the next loop iteration

    def _add(
        self,
        job_id: str,
        func: Callable[..., Awaitable[object]],
        trigger: object,
        *args: object,
        **kwargs: object,
    ) -> None:
        self.scheduler.add_job(
            self._tracked,
            trigger,
            args=[func, *args],
            id=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            **kwargs,
        )

    async def _tracked(self, func: Callable[..., Awaitable[object]], *args: object) -> None:
        """Run a job, remembered as in flight, never letting an exception kill the scheduler."""
        if self._stopping:
            return
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await func(*args)
        except Exception:
            name = getattr(func, "__name__", repr(func))
            log.exception("job %s failed; it will run again on schedule", name)
        finally:
            self._inflight.discard(task)

    async def sync_feeds(self) -> None:
        """Give each enabled feed a job, drop jobs of removed or disabled feeds."""
        async with self.ctx.store.transaction() as tx:
            feeds = [feed for feed in await tx.feeds.list_all() if feed.enabled]
        wanted = {f"feed:{feed.id}": feed for feed in feeds}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("feed:") and job.id not in wanted:
                job.remove()
        for job_id, feed in wanted.items():
            if self.scheduler.get_job(job_id) is None:
                self._add_feed_job(job_id, feed)

    def _add_feed_job(self, job_id: str, feed: Feed) -> None:
        # A stored interval out of range (added before they were checked) would stop start-up.
        seconds = usable_interval(feed.id, feed.name, feed.interval_seconds)
        trigger = IntervalTrigger(seconds=seconds, jitter=self.config.poll_jitter)
        first = max(feed.next_poll_at or self.ctx.clock(), self.ctx.clock())
        self._add(job_id, self.poll, trigger, feed.id, next_run_time=first)

    async def poll(self, feed_id: int) -> None:
        """Poll one feed, then move its job to the time its health says."""
        report = await poll_feed(self.ctx, feed_id)
        if report.new_articles:
            log.info(
                "%s: %d new, %d alerts queued",
                report.feed_name,
                report.new_articles,
                report.queued_alerts,
            )
        async with self.ctx.store.transaction() as tx:
            feed = await tx.feeds.get(feed_id)
        job = self.scheduler.get_job(f"feed:{feed_id}")
        if job is None or feed is None or not feed.enabled or self._stopping:
            if job is not None and (feed is None or not feed.enabled):
                job.remove()
            return
        if feed.next_poll_at is not None:
            job.modify(next_run_time=_later_of(feed.next_poll_at, self.ctx.clock()))
        await self.deliver()  # alerts go out right after the poll that found them

    async def deliver(self) -> None:
        """Send what is due in the outbox."""
        async with self._delivery_lock:
            await deliver_due(
                self.ctx.store,
                self.adapters,
                self.ctx.clock,
                self.config.retry,
                routes=self.ctx.alert_policy.routes,
            )

    async def purge(self) -> None:
        """Retention: drop articles and stories older than the retention period."""
        cutoff = self.ctx.clock() - self.config.retention
        async with self.ctx.store.transaction() as tx:
            gone = await tx.articles.purge_fetched_before(cutoff)
            stories = await tx.stories.purge_seen_before(cutoff)
        log.info("retention: removed %d articles and %d stories before %s", gone, stories, cutoff)

    def _digest_runner(self, digest: DigestJob) -> Callable[[], Awaitable[None]]:
        async def run_digest() -> None:
            await send_digest(
                self.ctx.store,
                self.adapters,
                digest.route,
                since=self.ctx.clock() - timedelta(seconds=digest.since),
            )

        return run_digest


def _later_of(when: datetime, now: datetime) -> datetime:
    return when if when > now else now
