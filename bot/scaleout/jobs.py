"""The jobs every `nkru run` on one PostgreSQL database shares, each a unit of work of the core.

* `nkru.poll` (feed_id): one waiting at a time per feed (queueing lock `poll:<id>`) and one
  running (lock `poll:<id>`), scheduled at the feed's next poll time; a poll defers the next one.
  It polls only a feed that is due, so a job left over (a sweep racing a poll) does nothing.
* `nkru.deliver` (destination): one running at a time per destination, in every process, so a
  channel gets its alerts in order and paced, whichever process sends them.
* `nkru.digest.<n>`, `nkru.retention`, `nkru.retry_stalled`: periodic; procrastinate defers each
  cron tick once for all processes.
* `nkru.subscription_digests`: each minute, once for all processes, the digests of the
  subscriptions made from chat (`/nkru subscribe … digest <cron>`) whose crontab fires in that
  minute. They change while running, and procrastinate's periodic tasks are fixed at start, so
  one fixed task reads them at each tick.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from procrastinate import App
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

from bot.core.cron import fires_in_minute
from bot.core.delivery import DeliveryAdapter, DeliveryReport, deliver_one
from bot.core.digest import send_digest
from bot.core.instances import this_process_id
from bot.core.models import Alert, Feed
from bot.core.poll.pipeline import PollContext, PollReport, poll_loaded
from bot.core.repositories import DatabaseError
from bot.core.scheduling import DigestJob, ScheduleConfig
from bot.scaleout.queue import defer_once

log = logging.getLogger(__name__)

POLL, DELIVER, RETENTION, RETRY_STALLED, SUBSCRIPTION_DIGESTS = (
    "nkru.poll",
    "nkru.deliver",
    "nkru.retention",
    "nkru.retry_stalled",
    "nkru.subscription_digests",
)
# A worker whose heartbeat is older than this is dead: its running jobs are queued again.
STALLED_AFTER = 20.0
# Slack takes about one post a second per channel: the next sender, maybe another process,
# starts no sooner than this after the last post of a delivery job.
HANDOFF_GAP = 1.1
# The digests of stored subscriptions, as they are now (read again at each tick).
SubscribedDigests = Callable[[], Awaitable[Sequence[DigestJob]]]
# A poll job this early is a left-over (the feed was polled and rescheduled): it only chains.
EARLY = timedelta(seconds=1)


def poll_lock(feed_id: int) -> str:
    """The lock of a feed's poll jobs."""
    return f"poll:{feed_id}"


def deliver_lock(destination: str) -> str:
    """The lock of a destination's delivery jobs."""
    return f"deliver:{destination}"


class SharedJobs:
    """Registers the jobs on `app` and runs them with this process's context."""

    def __init__(
        self,
        app: App,
        ctx: PollContext,
        adapters: Mapping[str, DeliveryAdapter],
        config: ScheduleConfig,
        *,
        batch: int = 100,
        subscribed: SubscribedDigests | None = None,
    ) -> None:
        self.app = app
        self.ctx = ctx
        self.adapters = adapters
        self.config = config
        self.batch = batch
        self.subscribed = subscribed
        self.report = DeliveryReport()  # what this process delivered, for logs and tests
        self.polls: list[PollReport] = []  # recent polls of this process (tests, benchmarks)
        app.task(name=POLL)(self.poll)
        app.task(name=DELIVER)(self.deliver)
        app.periodic(cron="30 3 * * *", periodic_id="retention")(
            app.task(name=RETENTION)(self.retention)
        )
        app.periodic(cron="* * * * * */10", periodic_id="stalled")(
            app.task(name=RETRY_STALLED)(self.retry_stalled)
        )
        for number, digest in enumerate(config.digests):
            app.periodic(cron=digest.cron, periodic_id=f"digest:{number}")(
                app.task(name=f"nkru.digest.{number}")(self._digest_job(digest))
            )
        if subscribed is not None:
            app.periodic(cron="* * * * *", periodic_id="subscription-digests")(
                app.task(name=SUBSCRIPTION_DIGESTS)(self.subscription_digests)
            )

    async def poll(self, feed_id: int) -> None:
        """Poll the feed if it is due, queue its next poll, and its alerts' delivery."""
        async with self.ctx.store.transaction() as tx:
            found = await tx.feeds.get_with_origin(feed_id)
        if found is None or not found[0].enabled:
            return  # removed or disabled: the chain ends (a sweep starts it again if enabled)
        feed, origin = found
        if feed.next_poll_at is None or feed.next_poll_at <= self.ctx.clock() + EARLY:
            report = await poll_loaded(self.ctx, feed, origin)
            self.polls.append(report)
            del self.polls[:-1000]
            if report.new_articles:
                log.info("%s: %d new, %d alerts queued", *_counts(report))
            if report.queued_alerts:
                await self.queue_deliveries()
            next_at = await self._next_poll(report)
            if next_at is None:
                return
        else:  # not due yet (a job from before an interval changed): wait for its time
            next_at = _at(feed)
        await defer_once(self.app, POLL, poll_lock(feed_id), {"feed_id": feed_id}, at=next_at)

    async def _next_poll(self, report: PollReport) -> datetime | None:
        """When the feed is polled next, from the state its poll wrote; None: the chain ends
        (the poll disabled it, or it is gone). A poll that wrote no state (a database error)
        leaves the stored time, read again. An admin who disables or removes the feed
        meanwhile ends the chain at its next job, which finds it so."""
        if report.state is not None:
            disabled = report.state.disabled_reason is not None
            return None if disabled else report.state.next_poll_at.astimezone(UTC)
        async with self.ctx.store.transaction() as tx:
            polled = await tx.feeds.get(report.feed_id)
        if polled is None or not polled.enabled:
            return None
        return _at(polled) or self.ctx.clock()

    async def queue_deliveries(self) -> None:
        """Queue a delivery job for each destination with alerts due (one waits per channel)."""
        async with self.ctx.store.transaction() as tx:
            destinations = await tx.outbox.due_destinations(self.ctx.clock())
        for destination in sorted(destinations):
            lock = deliver_lock(destination)
            await defer_once(self.app, DELIVER, lock, {"destination": destination})

    async def deliver(self, destination: str) -> None:
        """Send the destination's due alerts in order, then keep its lock for the pacing gap."""
        last_post: float | None = None
        try:
            while True:
                alerts, muted = await self._claim(destination)
                if not alerts:
                    break
                for alert in alerts:
                    outcome = await deliver_one(
                        self.ctx.store,
                        self.adapters,
                        alert,
                        self.ctx.clock,
                        self.config.retry,
                        self.ctx.alert_policy.routes,
                        muted,
                    )
                    setattr(self.report, outcome, getattr(self.report, outcome) + 1)
                    if outcome == "sent":
                        last_post = time.monotonic()
        except DatabaseError as exc:  # what stays claimed is retried when its lease ends
            log.warning("delivery to %s stopped: %s", destination, exc)
        if last_post is not None:
            await asyncio.sleep(max(0.0, last_post + HANDOFF_GAP - time.monotonic()))

    async def _claim(self, destination: str) -> tuple[list[Alert], dict[str, set[str]]]:
        now = self.ctx.clock()
        async with self.ctx.store.transaction() as tx:
            alerts = await tx.outbox.claim_due(
                now,
                self.config.retry.claim_lease,
                self.batch,
                by=this_process_id(),
                only=destination,
            )
            muted = await tx.mutes.muted_themes({destination}, now) if alerts else {}
        return alerts, muted

    async def retention(self, timestamp: int) -> None:
        """Drop articles and stories older than the retention period (once a day)."""
        cutoff = self.ctx.clock() - self.config.retention
        async with self.ctx.store.transaction() as tx:
            gone = await tx.articles.purge_fetched_before(cutoff)
            stories = await tx.stories.purge_seen_before(cutoff)
        log.info("retention: removed %d articles and %d stories before %s", gone, stories, cutoff)

    async def retry_stalled(self, timestamp: int) -> None:
        """Queue again the jobs of workers that stopped beating (killed, host lost)."""
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
            try:
                await manager.retry_job(job)
            except UniqueViolation:
                # A job with its queueing lock waits already (a delivery queued by a poll while
                # this one ran): that one does the same work, once this one, still "doing", no
                # longer holds the lock. Queued again, it would break the lock's uniqueness.
                await manager.finish_job(job, Status.FAILED, delete_job=False)
                log.warning(
                    "job %s of a stopped worker: one queued since takes over", job.call_string
                )
            else:
                log.warning("job %s of a stopped worker is queued again", job.call_string)

    async def subscription_digests(self, timestamp: int) -> None:
        """Post the digest of each subscription whose crontab fires in this tick's minute."""
        assert self.subscribed is not None
        tick = datetime.fromtimestamp(timestamp, UTC)
        for digest in await self.subscribed():
            if not fires_in_minute(digest.cron, tick):
                continue
            since = self.ctx.clock() - timedelta(seconds=digest.since)
            try:
                await send_digest(self.ctx.store, self.adapters, digest.route, since=since)
            except Exception:  # one channel's failure must not cost the others their digest
                log.exception("digest for %s failed", digest.route.destination)

    def _digest_job(self, digest: DigestJob) -> Callable[[int], Awaitable[None]]:
        async def digest_job(timestamp: int) -> None:
            """Build and post one digest (once per cron tick, in one process)."""
            since = self.ctx.clock() - timedelta(seconds=digest.since)
            await send_digest(self.ctx.store, self.adapters, digest.route, since=since)

        return digest_job


def _at(feed: Feed) -> datetime | None:
    return None if feed.next_poll_at is None else feed.next_poll_at.astimezone(UTC)


def _counts(report: PollReport) -> tuple[str, int, int]:
    return report.feed_name, report.new_articles, report.queued_alerts
