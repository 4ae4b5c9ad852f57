"""When work runs: the feed dispatcher, the delivery worker and APScheduler 3 for the rest.

Polls are started by one dispatcher (bot.core.poll.dispatch) that reads the due feeds from the
database, so scheduling costs the same at 10 feeds or 100,000 and sees feeds added or removed by
any process; each poll writes its feed's next poll time (backoff, Retry-After and Cache-Control
included). A poll that queued alerts wakes the delivery worker (bot.core.delivery_worker) and
never waits for it. APScheduler runs the digests, the retention job and the watchlist check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.delivery import DeliveryAdapter, DeliveryReport, RetryPolicy
from bot.core.delivery_worker import DeliveryWorker
from bot.core.digest import send_digest
from bot.core.poll.dispatch import DispatchConfig, FeedDispatcher
from bot.core.poll.pipeline import PollContext, PollReport, poll_feed
from bot.core.routing import Route

log = logging.getLogger(__name__)

# Polls starting this many seconds late (p95) mean the bot cannot keep up: say so.
LAG_WARNING = 30.0


@dataclass(frozen=True, slots=True)
class DigestJob:
    """A digest route on a cron schedule, covering `since` seconds."""

    route: Route
    cron: str
    since: float


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """Timings for the jobs."""

    delivery_interval: float = 5.0
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    lag_report_interval: float = 60.0
    retention: timedelta = timedelta(days=90)
    digests: list[DigestJob] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    watchlist_check_interval: float = 30.0


class BotScheduler:
    """Owns the dispatcher, the delivery worker and the AsyncIOScheduler, for a clean shutdown."""

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
        self.delivery = DeliveryWorker(
            ctx.store,
            adapters,
            ctx.clock,
            config.retry,
            routes=ctx.alert_policy.routes,
            interval=config.delivery_interval,
        )
        self.dispatcher = FeedDispatcher(ctx, config.dispatch, on_polled=self._polled)
        self._loops: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[object]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Start polling and delivering, and schedule the other jobs (on the running loop)."""
        self._loops = [
            asyncio.create_task(self.dispatcher.run(), name="nkru-dispatch"),
            asyncio.create_task(self.delivery.run(), name="nkru-deliver"),
        ]
        self._add("retention", self.purge, CronTrigger(hour=3, minute=30, timezone="UTC"))
        lag = IntervalTrigger(seconds=self.config.lag_report_interval)
        self._add("poll-lag", self.report_lag, lag)
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

    def set_subscription_digests(self, digests: Sequence[DigestJob]) -> None:
        """Schedule exactly these digests of stored subscriptions (they change while running)."""
        wanted = {f"subscription:{d.route.destination}:{d.cron}": d for d in digests}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("subscription:") and job.id not in wanted:
                job.remove()
        for job_id, digest in wanted.items():
            trigger = CronTrigger.from_crontab(digest.cron, timezone="UTC")
            self._add(job_id, self._digest_runner(digest), trigger)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop starting work, then let running polls, deliveries and jobs finish their writes."""
        if self._stopping:  # stopped already (a second stop would shut APScheduler down twice)
            return
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        await self.dispatcher.stop(grace)
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.delivery.stop(grace)
        pending = [task for task in self._inflight if not task.done()]
        if pending:
            log.info("waiting for %d running job(s) to finish", len(pending))
            await asyncio.wait(pending, timeout=grace)
        # Only now: AsyncIOScheduler.shutdown cancels the tasks of jobs still running, so
        # shutting down first would cancel the jobs we meant to wait for (losing writes).
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

    def _polled(self, report: PollReport) -> None:
        """After each poll: log what it found; wake delivery if it queued alerts."""
        if report.new_articles:
            log.info(
                "%s: %d new, %d alerts queued",
                report.feed_name,
                report.new_articles,
                report.queued_alerts,
            )
        if report.queued_alerts:
            self.delivery.wake()

    async def poll(self, feed_id: int) -> PollReport:
        """Poll one feed now, outside the dispatcher (tests, tools), as a dispatched poll."""
        report = await poll_feed(self.ctx, feed_id)
        self._polled(report)
        return report

    async def deliver(self) -> DeliveryReport:
        """Send what is due now and wait until it is sent (tests, tools)."""
        return await self.delivery.deliver_now()

    async def report_lag(self) -> None:
        """Log how late polls start (due time to start), loudly when they fall behind."""
        summary = self.dispatcher.lag.summary()
        if summary is None:
            return
        p50, p95, worst = summary
        level = logging.WARNING if p95 > LAG_WARNING else logging.DEBUG
        log.log(
            level,
            "polls start %.1fs after they are due (p50), %.1fs (p95), %.1fs at worst; %d running%s",
            p50,
            p95,
            worst,
            self.dispatcher.in_flight,
            " — falling behind: raise NKRU_FETCH_GLOBAL_CONCURRENCY or poll fewer feeds"
            if level == logging.WARNING
            else "",
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
            now = self.ctx.clock()
            since = now - timedelta(seconds=digest.since)
            await send_digest(self.ctx.store, self.adapters, digest.route, since, now=now)

        return run_digest
