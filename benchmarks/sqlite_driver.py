"""What storage/sqlite_driver.py saves: its one trip per statement against SQLAlchemy's own.

Run ``.venv/bin/python benchmarks/sqlite_driver.py`` (about a minute; ``--rounds`` to change).
Two SQLite file databases, opened as the bot opens them (migrated, WAL, the same pragmas), one
through ``Store.open`` (sqlite_driver) and one through SQLAlchemy's own aiosqlite adapter
(``create_async_engine(url)``: cursor, execute, fetch and close are a trip each). Each round
times, on each database in turn (which goes first alternates):

- **record_poll**: 100 calls of ``feeds.record_poll`` in one transaction (one UPDATE each);
- **ingest**: 5 transactions, each a feed of 50 new items through ``GroupCommitter.ingest``
  with ``record_poll`` after it, as ``poll_feed`` does (about ten statements).

Figures are process CPU time (both threads: the event loop's and aiosqlite's) and wall time
per call or transaction: min, median and max over the rounds, and the median and range of the
per-round ratio SQLAlchemy's adapter / sqlite_driver (a busy machine slows both alike within a
round). benchmarks/pipeline.py gives the end-to-end figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _synthetic as synthetic

from bot.core import feed_health
from bot.core.feed_health import PollPolicy
from bot.core.models import Feed, FetchOutcome, FetchResult, NewArticle, PollState
from bot.core.poll.group_commit import GroupCommitter
from bot.core.poll.ingest import AlertPolicy, IngestReport
from bot.core.poll.prepare import prepare_feed
from bot.core.records import NewFeed
from bot.core.story_cache import StoryCache
from storage.engine import Store, _sqlite_pragmas

CALLS = 100  # record_poll calls per round
FEEDS_PER_ROUND = 5  # ingest transactions per round
ITEMS = 50
WINDOW_HOURS = 72


def sqlalchemy_adapter(url: str) -> AsyncEngine:
    """SQLAlchemy's own aiosqlite adapter, with the bot's connect arguments and pragmas."""
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


async def open_stores(workdir: Path) -> dict[str, Store]:
    """The two stores, migrated."""
    driver = await Store.open(f"sqlite+aiosqlite:///{workdir / 'driver.db'}")
    adapter = Store(sqlalchemy_adapter(f"sqlite+aiosqlite:///{workdir / 'adapter.db'}"))
    await adapter.upgrade()
    return {"sqlite_driver": driver, "SQLAlchemy's adapter": adapter}


async def add_feeds(store: Store, count: int, now: datetime) -> list[Feed]:
    """`count` feeds, in id order."""
    new = [
        NewFeed(f"https://feed{i}.test/feed.xml", f"feed {i}", 900, "seed") for i in range(count)
    ]
    async with store.transaction() as conn:
        return sorted(await conn.feeds.add_missing(new, now), key=lambda feed: feed.id)


class Timings:
    """CPU and wall microseconds per unit, one value per round and store."""

    def __init__(self, names: list[str]) -> None:
        self.cpu: dict[str, list[float]] = {name: [] for name in names}
        self.wall: dict[str, list[float]] = {name: [] for name in names}

    async def time(self, name: str, units: int, work: Awaitable[None]) -> None:
        """Await `work` and keep its cost per unit."""
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        await work
        self.wall[name].append((time.perf_counter() - wall) / units * 1e6)
        self.cpu[name].append((time.process_time() - cpu) / units * 1e6)

    def print(self, title: str) -> None:
        """min/median/max per store and the per-round ratio of the second to the first."""
        print(f"\n{title}")
        for kind, values in (("CPU", self.cpu), ("wall", self.wall)):
            for name, numbers in values.items():
                print(
                    f"  {kind:4} {name:20} min {min(numbers):8.0f}"
                    f"  median {statistics.median(numbers):8.0f}  max {max(numbers):8.0f} µs"
                )
            first, second = values.values()
            ratios = [b / a for a, b in zip(first, second, strict=True)]
            print(
                f"  {kind:4} ratio {' / '.join(reversed(values))}: median"
                f" {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"
            )


async def record_polls(store: Store, feed: Feed, state: PollState) -> None:
    """CALLS record_poll calls in one transaction."""
    async with store.transaction() as conn:
        for _ in range(CALLS):
            await conn.feeds.record_poll(feed.id, state)


async def ingest_feeds(
    committer: GroupCommitter,
    feeds: list[Feed],
    articles: list[list[NewArticle]],
    indexes: range,
    now: datetime,
) -> None:
    """One ingest transaction per feed, its poll recorded in it, one after another."""
    for index in indexes:
        outcome = _outcome(feeds[index], now)
        await committer.ingest(articles[index], now, outcome=outcome)


def _outcome(feed: Feed, now: datetime) -> Callable[[IngestReport], tuple[int, PollState]]:
    def outcome(report: IngestReport) -> tuple[int, PollState]:
        result = FetchResult(FetchOutcome.FETCHED, feed.url, http_status=200, body=b"")
        new = len(report.new_articles)
        state = feed_health.succeeded(feed, result, now, PollPolicy(), new_items=new)
        return feed.id, state

    return outcome


async def main_async(rounds: int) -> None:
    """Every round: record_poll, then ingest transactions, on each store in turn."""
    now = datetime.now(UTC)
    bodies = synthetic.make_feeds(rounds * FEEDS_PER_ROUND, ITEMS)
    with tempfile.TemporaryDirectory(prefix="nkru-driver-") as tmp:
        stores = await open_stores(Path(tmp))
        names = list(stores)
        feeds = {name: await add_feeds(store, len(bodies), now) for name, store in stores.items()}
        articles = [
            prepare_feed(
                body.body,
                url=feed.url,
                content_type=body.content_type,
                fetched_at=now,
                feed_id=feed.id,
                feed_url=feed.url,
                source_name=feed.name,
            ).articles
            for body, feed in zip(bodies, feeds[names[0]], strict=True)
        ]  # the same feed ids in both databases
        policy = AlertPolicy(destinations=("console",), story_window=timedelta(hours=WINDOW_HOURS))
        committers = {n: GroupCommitter(s, policy, StoryCache()) for n, s in stores.items()}
        polls, ingests = Timings(names), Timings(names)
        try:
            for number in range(rounds):
                order = names if number % 2 == 0 else names[::-1]
                for name in order:
                    feed = feeds[name][0]
                    result = FetchResult(FetchOutcome.FETCHED, feed.url, http_status=200, body=b"")
                    state = feed_health.succeeded(feed, result, now, PollPolicy(), new_items=1)
                    await polls.time(name, CALLS, record_polls(stores[name], feed, state))
                chunk = range(number * FEEDS_PER_ROUND, (number + 1) * FEEDS_PER_ROUND)
                for name in order:
                    work = ingest_feeds(committers[name], feeds[name], articles, chunk, now)
                    await ingests.time(name, FEEDS_PER_ROUND, work)
        finally:
            for store in stores.values():
                await store.close()
    polls.print(f"record_poll: {CALLS} calls in a transaction, {rounds} rounds, per call")
    ingests.print(
        f"ingest: a feed of {ITEMS} new items + record_poll per transaction,"
        f" {FEEDS_PER_ROUND} a round, {rounds} rounds, per transaction"
    )


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds (default 40)")
    args = parser.parse_args()
    asyncio.run(main_async(args.rounds))


if __name__ == "__main__":
    main()
