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
from tests.storage.statements import statements

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


async def test_a_poll_job_reads_its_feed_once_and_schedules_the_next_from_its_poll(
    pg_url: str, server: FeedServer, engines: Start
) -> None:
    # The next poll's time is the one the poll wrote: the job does not read the feed again to
    # learn it (a transaction a poll, most of them 304s or unchanged bodies).
    clock, adapter = Clock(), RecordingAdapter()
    paths = await add_feeds(pg_url, server, clock)
    [worker] = await engines(1, adapter, clock)
    await wait_until(lambda: all(hits(server)[path] >= 1 for path in paths))
    await sweeps_pass([worker])
    for path in paths[::2]:  # half the feeds have news: stored, the others unchanged
        server.set_body(path, rss(path.strip("/.xml"), 2))
    with statements(worker.ctx.store) as sent:
        clock.skipped += timedelta(seconds=61)
        await wait_until(lambda: all(hits(server)[path] >= 2 for path in paths))
        await wait_until(lambda: len(worker.jobs.polls) == 2 * FEEDS)
        await sweeps_pass([worker])
    reads = [sql for sql, _ in sent if "FROM feeds" in sql and "WHERE feeds.id = " in sql]
    assert len(reads) == FEEDS  # one a poll job: the read that finds the feed due
    outcomes = Counter(report.outcome for report in worker.jobs.polls[FEEDS:])
    assert outcomes == {"fetched": FEEDS // 2, "unchanged": FEEDS // 2}

    # And each feed's chain goes on at the time its poll wrote: polled once more, once.
    clock.skipped += timedelta(seconds=61)
    await wait_until(lambda: all(hits(server)[path] >= 3 for path in paths))
    await sweeps_pass([worker])
    assert set(hits(server).values()) == {3}


async def test_a_poll_that_disables_its_feed_ends_the_feeds_chain(
    pg_url: str, server: FeedServer, engines: Start
) -> None:
    clock, adapter = Clock(), RecordingAdapter()
    server.add_status("/down.xml", 500)
    store = await Store.open(pg_url)
    try:
        async with store.transaction() as tx:
            added = await tx.feeds.add(NewFeed(server.url("/down.xml"), "down", 60), clock())
    finally:
        await store.close()
    [worker] = await engines(1, adapter, clock)
    await wait_until(lambda: hits(server)["/down.xml"] == 1)
    clock.skipped += timedelta(days=8)  # failing for over a week: the next failure disables it
    await wait_until(lambda: hits(server)["/down.xml"] == 2)
    await wait_until(lambda: len(worker.jobs.polls) == 2)
    [*_, last] = worker.jobs.polls
    assert last.state is not None and last.state.disabled_reason
    clock.skipped += timedelta(days=1)
    await sweeps_pass([worker], rounds=10)
    assert hits(server)["/down.xml"] == 2  # no next poll was queued
    async with worker.ctx.store.transaction() as tx:
        feed = await tx.feeds.get(added.id)
    assert feed is not None and not feed.enabled
