"""Three queue engines on one PostgreSQL database share the work: each feed polled once per
interval, each alert posted once and in order per channel."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.records import NewFeed
from bot.scaleout.engine import QueueEngine
from storage.engine import Store
from tests.fakes.feed_server import FeedServer
from tests.fakes.recording_adapter import RecordingAdapter
from tests.fakes.waiting import wait_until
from tests.scaleout.conftest import Clock, Start

pytestmark = pytest.mark.postgres
FEEDS = 30


def title(name: str, i: int) -> str:
    """A headline unlike every other feed's and item's (no two cluster into one story)."""
    return " ".join(hashlib.sha256(f"{name}/{i}/{k}".encode()).hexdigest()[:9] for k in range(8))


def rss(name: str, items: int) -> bytes:
    entries = "".join(
        f"<item><guid>{name}-{i}</guid><title>{title(name, i)}</title>"
        f"<link>https://{name}.example/{i}</link></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{entries}'.encode()
        + b"</channel></rss>"
    )


async def add_feeds(url: str, server: FeedServer, clock: Clock) -> list[str]:
    paths = [f"/f{n}.xml" for n in range(FEEDS)]
    store = await Store.open(url)
    try:
        async with store.transaction() as tx:
            for path in paths:
                server.add_feed(path, rss(path.strip("/.xml"), 1), etag=False, last_modified=False)
                await tx.feeds.add(NewFeed(server.url(path), path, 60), clock())
    finally:
        await store.close()
    return paths


def hits(server: FeedServer) -> Counter[str]:
    return Counter(request.path for request in server.requests)


async def sweeps_pass(engines: list[QueueEngine], rounds: int = 5) -> None:
    """Wait until every engine has looked for due work `rounds` more times."""
    marks = [engine.sweeps + rounds for engine in engines]
    await wait_until(lambda: all(e.sweeps >= m for e, m in zip(engines, marks, strict=True)))


async def test_three_workers_poll_each_feed_once_per_interval_and_post_each_alert_once(
    pg_url: str, server: FeedServer, engines: Start
) -> None:
    clock, adapter = Clock(), RecordingAdapter()
    paths = await add_feeds(pg_url, server, clock)
    workers = await engines(3, adapter, clock)

    await wait_until(lambda: all(hits(server)[path] >= 1 for path in paths))
    await wait_until(lambda: len(adapter.sent) == FEEDS)
    await sweeps_pass(workers)  # time enough for a duplicate poll or post to show
    assert set(hits(server).values()) == {1}

    # The interval passes: each feed has a new story, polled once more, alerted once more.
    for path in paths:
        server.set_body(path, rss(path.strip("/.xml"), 2))
    clock.skipped += timedelta(seconds=61)
    await wait_until(lambda: all(hits(server)[path] >= 2 for path in paths))
    await wait_until(lambda: len(adapter.sent) == 2 * FEEDS)
    await sweeps_pass(workers)
    assert set(hits(server).values()) == {2}

    ids = [alert.outbox_id for alert in adapter.sent]
    assert len(ids) == len(set(ids)) == 2 * FEEDS  # each alert posted once
    assert ids == sorted(ids)  # one channel: oldest first, whichever worker sent it
    assert sum(len(worker.jobs.polls) for worker in workers) == 2 * FEEDS


async def test_a_feed_added_while_running_is_polled_at_once(
    pg_url: str, server: FeedServer, engines: Start
) -> None:
    clock, adapter = Clock(), RecordingAdapter()
    await engines(2, adapter, clock)
    server.add_feed("/late.xml", rss("late", 1))
    store = await Store.open(pg_url)
    try:
        async with store.transaction() as tx:  # `nkru feeds add` in another process
            await tx.feeds.add(NewFeed(server.url("/late.xml"), "late", 60), datetime.now(UTC))
    finally:
        await store.close()
    await wait_until(lambda: hits(server)["/late.xml"] == 1, seconds=10)
