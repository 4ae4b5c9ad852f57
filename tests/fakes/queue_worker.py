"""A queue engine (bot.scaleout) as a child process, for tests that kill it: `python -m
tests.fakes.queue_worker <database url>` polls and delivers until killed."""

from __future__ import annotations

import asyncio
import sys

from bot.core.feed_health import PollPolicy
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext
from bot.core.scheduling import ScheduleConfig
from bot.scaleout.engine import QueueEngine, WorkerConfig
from storage.engine import Store
from tests.fakes.recording_adapter import RecordingAdapter

FAST = WorkerConfig(concurrency=20, sweep=0.1, fetch_interval=0.2, heartbeat=1.0, graceful=5)


async def main(url: str) -> None:
    """Join the queue on `url` and work until killed."""
    store = await Store.open(url)
    async with FeedFetcher() as fetcher:
        policy = AlertPolicy(destinations=["rec"])
        ctx = PollContext(store, fetcher, PollPolicy(flood_guard=False), policy)
        engine = QueueEngine(url, ctx, {"rec": RecordingAdapter()}, ScheduleConfig(), FAST)
        await engine.start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
