"""Time the daily retention job (BotScheduler.purge's two calls) on a SQLite file.

Stories arrive evenly over 120 days, each with a second report up to 3 days after its first,
so a retention of 90 days deletes a month of articles and stories and moves the lead of the
stories whose first report goes while a later one stays. Prints the seconds of the purge, and
of a second purge with nothing to delete: the cost of looking for stories without a lead.

    .venv/bin/python benchmarks/retention.py [--stories 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.engine import Store
from storage.schema import articles, stories

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN, RETENTION = timedelta(days=120), timedelta(days=90)


def _sqlite_time(value: datetime) -> str:
    # How SQLAlchemy's SQLite DATETIME stores the naive UTC values UTCDateTime hands it.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(db: Path, count: int) -> None:
    """`count` stories, each led by one report and joined by a second one (sqlite3, fast)."""
    rng = random.Random(7)
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "INSERT INTO feeds (id, url, name, interval_seconds, enabled, origin, status,"
                " first_fetch_done, consecutive_failures, item_count, created_at)"
                " VALUES (1, 'https://wire.example/rss', 'Wire', 600, 1, 'cli', 'ok', 1, 0, 0, ?)",
                (_sqlite_time(NOW - SPAN),),
            )
            for story in range(1, count + 1):
                first = NOW - SPAN * rng.random()
                second = min(NOW, first + timedelta(hours=72 * rng.random()))
                lead, joined = 2 * story - 1, 2 * story
                conn.execute(
                    "INSERT INTO stories (id, title, lead_article_id, first_seen_at, last_seen_at,"
                    " article_count, signature) VALUES (?, ?, ?, ?, ?, 2, x'00')",
                    (story, f"story {story}", lead, _sqlite_time(first), _sqlite_time(second)),
                )
                conn.executemany(
                    "INSERT INTO articles (id, item_key, feed_id, story_id, title, summary,"
                    " search_text, source_name, content_hash, published_at, fetched_at)"
                    " VALUES (?, ?, 1, ?, ?, '', '', 'Wire', '', ?, ?)",
                    [
                        (i, f"k{i}", story, f"report {i}", _sqlite_time(at), _sqlite_time(at))
                        for i, at in ((lead, first), (joined, second))
                    ],
                )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def purge(store: Store) -> tuple[float, int, int]:
    """One retention run as the scheduler does it: seconds, articles and stories deleted."""
    started = time.perf_counter()
    async with store.transaction() as tx:
        gone = await tx.articles.purge_fetched_before(NOW - RETENTION)
        old = await tx.stories.purge_seen_before(NOW - RETENTION)
    return time.perf_counter() - started, gone, old


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "retention.db"
        store = await Store.open(f"sqlite+aiosqlite:///{db}")
        fill(db, count)
        seconds, gone, old = await purge(store)
        async with store.transaction() as tx:
            moved = await tx.connection.execute(
                select(func.count()).select_from(stories).where(stories.c.title.like("report %"))
            )
            left = await tx.connection.execute(select(func.count()).select_from(articles))
            moved_count, left_count = int(moved.scalar_one()), int(left.scalar_one())
        again, _, _ = await purge(store)
        await store.close()
    print(f"{count:,} stories, {2 * count:,} articles over {SPAN.days} days (SQLite)")
    print(f"purge: {seconds:.3f} s — {gone:,} articles and {old:,} stories deleted,")
    print(f"       {moved_count:,} stories re-led by their oldest report left, {left_count:,} kept")
    print(f"purge with nothing to delete (the search for lost leads): {again:.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().stories))
