"""Which feeds poll now: the due ones, read from the database, a bounded number at a time.

One loop instead of one APScheduler job per feed. Each tick costs one indexed query for at most
as many feeds as there are free poll slots, whatever the number of feeds, so 100,000 feeds
start and schedule as cheaply as ten; feeds added, removed or disabled by any process are seen
on the next tick. The database stays the truth (every poll writes its feed's next_poll_at);
this process only remembers which polls it is running, so it never starts a feed twice.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.models import Feed
from bot.core.poll.pipeline import PollContext, PollReport, poll_loaded
from bot.core.repositories import DatabaseError

log = logging.getLogger(__name__)

# How many recent due-to-start lags the lag summary covers.
LAG_SAMPLES = 2_000


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """How many polls run at once and how often the due feeds are read."""

    max_in_flight: int = 100
    tick: float = 1.0  # seconds between reads of the due feeds while nothing waits
    busy_tick: float = 0.1  # … while due feeds wait for a free slot


@dataclass(slots=True)
class LagStats:
    """Seconds from each feed's due time to the start of its poll (recent polls)."""

    samples: deque[float] = field(default_factory=lambda: deque(maxlen=LAG_SAMPLES))
    started: int = 0

    def add(self, seconds: float) -> None:
        """Count one poll that started `seconds` after it was due."""
        self.samples.append(max(0.0, seconds))
        self.started += 1

    def summary(self) -> tuple[float, float, float] | None:
        """(p50, p95, max) of the recent lags, or None before any poll."""
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return statistics.median(ordered), p95, ordered[-1]


class FeedDispatcher:
    """Starts the polls of due feeds, never more than `max_in_flight` at once."""

    def __init__(
        self,
        ctx: PollContext,
        config: DispatchConfig = DispatchConfig(),
        *,
        on_polled: Callable[[PollReport], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.on_polled = on_polled
        self.lag = LagStats()
        self._polls: dict[int, asyncio.Task[PollReport]] = {}
        self._stopping = False

    @property
    def in_flight(self) -> int:
        """Polls running now."""
        return len(self._polls)

    async def run(self) -> None:
        """Start due polls until `stop`; a database outage is logged and retried next tick."""
        while not self._stopping:
            try:
                backlog = await self.dispatch_due()
                pause = self.config.busy_tick if backlog else await self._until_next_due()
            except DatabaseError as exc:
                log.warning("could not read which feeds are due (%s); retrying", exc)
                pause = self.config.tick
            await asyncio.sleep(pause)

    async def _until_next_due(self) -> float:
        """Seconds until the next feed falls due, at most one tick (feeds added or changed by
        another process are seen within a tick): polls start on time, not up to a tick late."""
        async with self.ctx.store.transaction() as tx:
            next_due = await tx.feeds.next_due_at(self._polls.keys())
        if next_due is None:
            return self.config.tick
        wait = (next_due - self.ctx.clock()).total_seconds()
        return min(max(wait, self.config.busy_tick), self.config.tick)

    async def dispatch_due(self) -> bool:
        """Start the polls of the feeds due now, as slots allow; True if some had to wait."""
        free = self.config.max_in_flight - len(self._polls)
        if free <= 0 or self._stopping:
            return free <= 0
        now = self.ctx.clock()
        async with self.ctx.store.transaction() as tx:
            # Ask for enough to fill the free slots even if some are already being polled here.
            due = await tx.feeds.due_for_poll(now, free + len(self._polls))
        waiting = [(feed, origin) for feed, origin in due if feed.id not in self._polls]
        for feed, origin in waiting[:free]:
            self._start(feed, origin, now)
        return len(waiting) > free

    def _start(self, feed: Feed, origin: str, now: datetime) -> None:
        self.lag.add((now - feed.next_poll_at).total_seconds() if feed.next_poll_at else 0.0)
        task = asyncio.create_task(poll_loaded(self.ctx, feed, origin), name=f"poll:{feed.id}")
        self._polls[feed.id] = task
        task.add_done_callback(lambda done: self._finished(feed.id, done))

    def _finished(self, feed_id: int, task: asyncio.Task[PollReport]) -> None:
        self._polls.pop(feed_id, None)
        if task.cancelled():
            return
        if (exc := task.exception()) is not None:  # poll_loaded reports failures; a bug is not
            log.error("poll of feed #%s crashed", feed_id, exc_info=exc)
            return
        if self.on_polled is not None:
            self.on_polled(task.result())

    async def stop(self, grace: float) -> None:
        """Start no more polls; let the running ones finish their writes (up to `grace` s)."""
        self._stopping = True
        running = list(self._polls.values())
        if running:
            log.info("waiting for %d running poll(s) to finish", len(running))
            await asyncio.wait(running, timeout=grace)
