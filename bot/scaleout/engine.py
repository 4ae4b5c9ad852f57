"""QueueEngine: this process's share of the PostgreSQL job queue, started and stopped as
BotScheduler is (bot.app.run_until_stopped picks one by the database URL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.core.delivery import DeliveryAdapter
from bot.core.poll.pipeline import PollContext
from bot.core.repositories import DatabaseError
from bot.core.scheduling import ScheduleConfig
from bot.scaleout.jobs import POLL, STALLED_AFTER, SharedJobs, SubscribedDigests, poll_lock
from bot.scaleout.queue import defer_once, make_app, queued_locks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How this process takes part in the queue."""

    concurrency: int = 50  # jobs at once (polls mostly wait on the network)
    sweep: float = 1.0  # seconds between looks for due feeds and alerts without a job
    fetch_interval: float = 1.0  # seconds between looks for jobs whose scheduled time came
    heartbeat: float = 5.0  # seconds between this worker's heartbeats
    graceful: float = 30.0  # seconds running jobs get to finish on stop
    sweep_limit: int = 1000  # due feeds looked at per sweep


class QueueEngine:
    """Runs a procrastinate worker for this process, and the sweeps that queue due work."""

    def __init__(
        self,
        database_url: str,
        ctx: PollContext,
        adapters: Mapping[str, DeliveryAdapter],
        config: ScheduleConfig,
        worker: WorkerConfig = WorkerConfig(),
        *,
        watchlist_check: Callable[[], Awaitable[object]] | None = None,
        subscribed: SubscribedDigests | None = None,
        name: str = "nkru",
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.worker = worker
        self.watchlist_check = watchlist_check
        self.name = name
        self.app = make_app(database_url)
        self.jobs = SharedJobs(self.app, ctx, adapters, config, subscribed=subscribed)
        self.sweeps = 0  # sweeps done (tests wait for them)
        self._tasks: list[asyncio.Task[None]] = []
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the queue: open the connection pool, run the worker and the sweeps."""
        await self.app.open_async()
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                name=self.name,
                concurrency=self.worker.concurrency,
                fetch_job_polling_interval=self.worker.fetch_interval,
                shutdown_graceful_timeout=self.worker.graceful,
                install_signal_handlers=False,  # bot.app handles SIGINT/SIGTERM
                update_heartbeat_interval=self.worker.heartbeat,
                stalled_worker_timeout=STALLED_AFTER,
                delete_jobs="successful",  # a poll every few minutes per feed adds up
            ),
            name="nkru-queue-worker",
        )
        self._tasks = [asyncio.create_task(self._sweeping(), name="nkru-queue-sweep")]
        if self.watchlist_check is not None:
            self._tasks.append(asyncio.create_task(self._checking(), name="nkru-watchlist"))

    async def stop(self, grace: float | None = None) -> None:
        """Queue nothing more; let running jobs finish (procrastinate's graceful shutdown)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
            await self.app.close_async()

    async def sweep(self) -> None:
        """Queue a poll for each due feed that has no poll job (new, enabled again, or its
        chain broken) and a delivery for each destination with alerts due."""
        async with self.ctx.store.transaction() as tx:
            due = await tx.feeds.due_for_poll(self.ctx.clock(), self.worker.sweep_limit)
        locks = [poll_lock(feed.id) for feed, _ in due]
        queued = await queued_locks(self.app, locks)
        for (feed, _), lock in zip(due, locks, strict=True):
            if lock not in queued:
                await defer_once(self.app, POLL, lock, {"feed_id": feed.id})
        await self.jobs.queue_deliveries()
        self.sweeps += 1

    async def _sweeping(self) -> None:
        while True:
            try:
                await self.sweep()
            except (DatabaseError, OSError) as exc:
                log.warning("could not queue due work (%s); retrying", exc)
            except Exception:  # procrastinate's errors too: the sweep must go on
                log.exception("queueing due work failed; retrying")
            await asyncio.sleep(self.worker.sweep)

    async def _checking(self) -> None:
        assert self.watchlist_check is not None
        while True:
            await asyncio.sleep(self.config.watchlist_check_interval)
            try:
                await self.watchlist_check()
            except Exception:  # the next check tries again; the watchlist in force stays
                log.exception("watchlist check failed")
