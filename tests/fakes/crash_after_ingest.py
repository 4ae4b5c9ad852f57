"""Child process for tests/test_crash_recovery.py: poll one feed, then die by SIGKILL.

    python -m tests.fakes.crash_after_ingest <database url> <feed url>

It adds the feed, polls it once (articles, stories and outbox entries are committed), prints
the poll report as one JSON line, and kills itself before anything is delivered.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime

from bot.core.feed_health import PollPolicy
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, poll_feed
from bot.core.records import NewFeed
from storage.engine import Store

DESTINATION = "recorder"


async def main(database_url: str, feed_url: str) -> None:
    store = await Store.open(database_url)
    async with store.transaction() as conn:
        feed = await conn.feeds.add(NewFeed(feed_url, "Wire", 600), datetime.now(UTC))
    async with FeedFetcher() as fetcher:
        policy = AlertPolicy(destinations=[DESTINATION])
        ctx = PollContext(store, fetcher, PollPolicy(flood_guard=False), policy)
        report = await poll_feed(ctx, feed.id)
        print(json.dumps({"feed_id": feed.id, "new": report.new_articles,
                          "queued": report.queued_alerts, "outcome": report.outcome}),
              flush=True)  # fmt: skip
        # No store.close(), no fetcher close, no finally blocks: the hardest way to stop.
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
