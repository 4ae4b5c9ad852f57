"""BotScheduler with a real AsyncIOScheduler, real HTTP and real storage (both backends)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.core.feed_health import PollPolicy
from bot.core.models import Feed
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext
from bot.core.records import NewFeed
from bot.core.scheduling import BotScheduler, ScheduleConfig
from storage.engine import Store
from storage.schema import articles
from tests.fakes.feed_server import FeedServer
from tests.fakes.recording_adapter import RecordingAdapter

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><guid>s-1</guid><title>Russia and North Korea open a road bridge</title>
<link>https://wire.example/1</link></item></channel></rss>"""


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
async def scheduler(
    store: Store, fetcher: FeedFetcher, adapter: RecordingAdapter
) -> AsyncIterator[BotScheduler]:
    ctx = PollContext(
        store,
        fetcher,
        PollPolicy(min_interval=1, flood_guard=False),
        AlertPolicy(destinations=["rec"]),
    )
    config = ScheduleConfig(poll_jitter=0, delivery_interval=0.2, feed_sync_interval=3600)
    bot = BotScheduler(ctx, {"rec": adapter}, config)
    yield bot
    await bot.stop(grace=2)


async def add_feed(store: Store, url: str, interval: int = 60) -> Feed:
    async with store.transaction() as conn:
        return await conn.feeds.add(NewFeed(url, url.rsplit("/", 1)[-1], interval), now())


async def get_feed(store: Store, feed_id: int) -> Feed:
    async with store.transaction() as conn:
        feed = await conn.feeds.get(feed_id)
    assert feed is not None
    return feed


async def article_count(store: Store) -> int:
    async with store.transaction() as conn:
        return int(
            (await conn.connection.execute(select(func.count()).select_from(articles))).scalar_one()
        )


def now() -> datetime:
    return datetime.now(UTC)


def feed_jobs(bot: BotScheduler) -> set[str]:
    return {job.id for job in bot.scheduler.get_jobs() if job.id.startswith("feed:")}


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait (polling every 20 ms) until `check()` is true."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_one_job_per_enabled_feed_kept_in_sync(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    server.add_feed("/a.xml", RSS)
    a = await add_feed(store, server.url("/a.xml"))
    b = await add_feed(store, server.url("/b.xml"))
    off = await add_feed(store, server.url("/off.xml"))
    async with store.transaction() as conn:
        await conn.feeds.set_enabled(off.id, False, now())

    await scheduler.start()
    assert feed_jobs(scheduler) == {f"feed:{a.id}", f"feed:{b.id}"}
    assert {"deliver", "feed-sync", "retention"} <= {j.id for j in scheduler.scheduler.get_jobs()}

    c = await add_feed(store, server.url("/c.xml"))  # added by another process
    await scheduler.sync_feeds()
    assert feed_jobs(scheduler) == {f"feed:{a.id}", f"feed:{b.id}", f"feed:{c.id}"}

    async with store.transaction() as conn:
        await conn.feeds.remove(b.id)
        await conn.feeds.set_enabled(c.id, False, now())
        await conn.feeds.set_enabled(off.id, True, now())
    await scheduler.sync_feeds()
    assert feed_jobs(scheduler) == {f"feed:{a.id}", f"feed:{off.id}"}


async def test_feed_job_runs_and_follows_next_poll_at(
    store: Store, server: FeedServer, scheduler: BotScheduler, adapter: RecordingAdapter
) -> None:
    server.add_feed("/a.xml", RSS, headers={"Cache-Control": "max-age=900"})
    feed = await add_feed(store, server.url("/a.xml"), interval=1)

    await scheduler.start()  # the feed is due now: its job runs at once

    async def polled() -> bool:
        return (await get_feed(store, feed.id)).last_polled_at is not None and bool(adapter.sent)

    await eventually(polled)
    polled_feed = await get_feed(store, feed.id)
    assert polled_feed.next_poll_at is not None and polled_feed.last_polled_at is not None
    # Cache-Control max-age beats the 1 s interval, and the job follows the feed's next_poll_at.
    assert polled_feed.next_poll_at - polled_feed.last_polled_at == timedelta(seconds=900)

    async def job_moved() -> bool:
        job = scheduler.scheduler.get_job(f"feed:{feed.id}")
        return job is not None and job.next_run_time == polled_feed.next_poll_at

    await eventually(job_moved, within=2)
    assert [alert.title for alert in adapter.sent] == ["Russia and North Korea open a road bridge"]
    assert server.hits("/a.xml") == 1


async def test_failing_feed_job_moves_to_its_backoff(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    server.add_status("/down.xml", 503, headers={"Retry-After": "600"})
    feed = await add_feed(store, server.url("/down.xml"), interval=1)
    await scheduler.poll(feed.id)  # what the job runs

    stored = await get_feed(store, feed.id)
    assert stored.next_poll_at is not None and stored.last_polled_at is not None
    assert stored.next_poll_at - stored.last_polled_at == timedelta(seconds=600)
    await scheduler.start()
    job = scheduler.scheduler.get_job(f"feed:{feed.id}")
    assert job is not None and job.next_run_time == stored.next_poll_at


async def test_stop_waits_for_an_in_flight_poll(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.sleep(0.5)
        return web.Response(body=RSS, content_type="application/rss+xml")

    server.add_handler("/slow.xml", slow)
    feed = await add_feed(store, server.url("/slow.xml"))
    await scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)

    await scheduler.stop(grace=5)

    assert not scheduler.scheduler.running
    assert await article_count(store) == 1  # the poll's write was committed, not cancelled
    stored = await get_feed(store, feed.id)
    assert stored.last_success_at is not None and stored.item_count == 1


async def test_job_exception_does_not_kill_the_scheduler(
    store: Store, scheduler: BotScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("job bug")

    await scheduler._tracked(broken)
    await scheduler._tracked(broken)
    assert calls == 2
    assert "job broken failed; it will run again on schedule" in caplog.text


async def test_stop_gives_up_on_a_hung_poll_after_the_grace_period(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    started = asyncio.Event()

    async def hung(request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.sleep(1.0)  # cancelled when the client goes away
        return web.Response(body=RSS)

    server.add_handler("/hung.xml", hung)
    feed = await add_feed(store, server.url("/hung.xml"))
    await scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)

    began = time.monotonic()
    await scheduler.stop(grace=0.1)

    assert time.monotonic() - began < 0.5
    assert not scheduler.scheduler.running
    assert await article_count(store) == 0
    assert (await get_feed(store, feed.id)).last_polled_at is None  # nothing half-written


async def test_feed_disabled_elsewhere_is_not_polled_by_its_stale_job(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    server.add_feed("/a.xml", RSS)
    feed = await add_feed(store, server.url("/a.xml"))
    await scheduler.sync_feeds()
    async with store.transaction() as conn:  # `nkru feeds disable` in another process
        await conn.feeds.set_enabled(feed.id, False, now())

    await scheduler.poll(feed.id)  # the job fires before the next feed sync

    assert server.hits("/a.xml") == 0
    stored = await get_feed(store, feed.id)
    assert not stored.enabled and stored.status.value == "disabled"
    assert stored.disabled_reason == "disabled by an admin"
    assert feed_jobs(scheduler) == set()  # and its job is gone


async def test_feed_disabled_by_failures_loses_its_job(
    store: Store, server: FeedServer, fetcher: FeedFetcher, adapter: RecordingAdapter
) -> None:
    server.add_status("/gone.xml", 410)
    feed = await add_feed(store, server.url("/gone.xml"))
    ctx = PollContext(store, fetcher, PollPolicy(disable_after=0), AlertPolicy())
    bot = BotScheduler(ctx, {"rec": adapter}, ScheduleConfig(poll_jitter=0))
    await bot.sync_feeds()
    assert feed_jobs(bot) == {f"feed:{feed.id}"}

    await bot.poll(feed.id)

    stored = await get_feed(store, feed.id)
    assert not stored.enabled and stored.disabled_reason and "HTTP 410" in stored.disabled_reason
    assert feed_jobs(bot) == set()
