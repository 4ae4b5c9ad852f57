"""BotScheduler with a real AsyncIOScheduler, real HTTP and real storage (both backends)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.core.feed_health import PollPolicy
from bot.core.models import Alert, DeliveryReceipt, Feed
from bot.core.poll.dispatch import DispatchConfig
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, poll_feed, poll_loaded
from bot.core.records import NewFeed
from bot.core.scheduling import BotScheduler, ScheduleConfig
from storage.engine import Store
from storage.schema import articles
from storage.transaction import SqlTransaction
from tests.fakes.feed_server import FeedServer
from tests.fakes.recording_adapter import RecordingAdapter

# Due feeds are looked for every 50 ms: the tests wait for events, not for the tick.
FAST = DispatchConfig(max_in_flight=10, tick=0.05, busy_tick=0.02)
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
    config = ScheduleConfig(delivery_interval=0.2, dispatch=FAST)
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


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Wait (polling every 20 ms) until `check()` is true."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_due_enabled_feeds_are_polled_as_the_database_says(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    for name in ("a", "b", "off", "c"):
        server.add_feed(f"/{name}.xml", RSS.replace(b"s-1", name.encode()))
    a = await add_feed(store, server.url("/a.xml"))
    b = await add_feed(store, server.url("/b.xml"))
    off = await add_feed(store, server.url("/off.xml"))
    async with store.transaction() as conn:
        await conn.feeds.set_enabled(off.id, False, now())

    await scheduler.start()

    async def polled(*paths: str) -> bool:
        return all(server.hits(path) == 1 for path in paths)

    await eventually(lambda: polled("/a.xml", "/b.xml"))
    c = await add_feed(store, server.url("/c.xml"))  # added by another process: no restart
    await eventually(lambda: polled("/c.xml"))
    await eventually(lambda: _settled(scheduler))
    assert server.hits("/off.xml") == 0
    # Each poll moved its feed's next poll time ahead: nothing is due now.
    for feed in (a, b, c):
        stored = await get_feed(store, feed.id)
        assert stored.next_poll_at is not None and stored.next_poll_at > now()
    assert await scheduler.dispatcher.dispatch_due() is False
    assert scheduler.dispatcher.in_flight == 0


async def test_next_poll_follows_cache_control_and_the_alert_goes_out(
    store: Store, server: FeedServer, scheduler: BotScheduler, adapter: RecordingAdapter
) -> None:
    server.add_feed("/a.xml", RSS, headers={"Cache-Control": "max-age=900"})
    feed = await add_feed(store, server.url("/a.xml"), interval=1)

    await scheduler.start()  # the feed is due now: it is polled at once

    async def delivered() -> bool:
        return bool(adapter.sent)

    await eventually(delivered)
    polled_feed = await get_feed(store, feed.id)
    assert polled_feed.next_poll_at is not None and polled_feed.last_polled_at is not None
    # Cache-Control max-age beats the 1 s interval.
    assert polled_feed.next_poll_at - polled_feed.last_polled_at == timedelta(seconds=900)
    assert [alert.title for alert in adapter.sent] == ["Russia and North Korea open a road bridge"]
    await scheduler.dispatcher.dispatch_due()
    assert server.hits("/a.xml") == 1


async def test_failing_feed_waits_for_its_backoff(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    server.add_status("/down.xml", 503, headers={"Retry-After": "600"})
    feed = await add_feed(store, server.url("/down.xml"), interval=1)
    await scheduler.dispatcher.dispatch_due()
    await eventually(lambda: _settled(scheduler))

    stored = await get_feed(store, feed.id)
    assert stored.next_poll_at is not None and stored.last_polled_at is not None
    assert stored.next_poll_at - stored.last_polled_at == timedelta(seconds=600)
    assert await scheduler.dispatcher.dispatch_due() is False
    assert server.hits("/down.xml") == 1


async def _settled(scheduler: BotScheduler) -> bool:
    return scheduler.dispatcher.in_flight == 0


async def test_no_more_polls_at_once_than_allowed(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    running = peak = 0
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return web.Response(body=RSS, content_type="application/rss+xml")

    for n in range(6):
        server.add_handler(f"/slow{n}.xml", slow)
        await add_feed(store, server.url(f"/slow{n}.xml"))
    ctx = PollContext(store, fetcher, PollPolicy(min_interval=1), AlertPolicy())
    config = ScheduleConfig(dispatch=DispatchConfig(max_in_flight=2, tick=0.05, busy_tick=0.02))
    bot = BotScheduler(ctx, {}, config)
    await bot.start()
    try:

        async def two_running() -> bool:
            return running == 2

        await eventually(two_running)
        assert bot.dispatcher.in_flight == 2
        release.set()

        async def all_polled() -> bool:
            return all(server.hits(f"/slow{n}.xml") == 1 for n in range(6))

        await eventually(all_polled)
    finally:
        release.set()
        await bot.stop(grace=2)
    assert peak == 2


class BlockedChannel:
    """A destination that takes alerts only when released: a slow, rate-limited channel."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> DeliveryReceipt:
        self.waiting.set()
        await self.release.wait()
        self.sent.append(alert)
        return DeliveryReceipt(f"b-{alert.outbox_id}")


async def test_a_poll_never_waits_for_delivery_and_a_slow_channel_holds_up_only_itself(
    store: Store, server: FeedServer, fetcher: FeedFetcher, adapter: RecordingAdapter
) -> None:
    slow = BlockedChannel()
    ctx = PollContext(
        store,
        fetcher,
        PollPolicy(min_interval=1, flood_guard=False),
        AlertPolicy(destinations=["slow", "rec"]),
    )
    bot = BotScheduler(ctx, {"slow": slow, "rec": adapter}, ScheduleConfig(dispatch=FAST))
    server.add_feed("/a.xml", RSS)
    other = RSS.replace(b"s-1", b"s-2").replace(
        b"Russia and North Korea open a road bridge", b"Pyongyang hosts a spring trade fair"
    )
    server.add_feed("/b.xml", other)
    first = await add_feed(store, server.url("/a.xml"))
    second = await add_feed(store, server.url("/b.xml"))
    delivering = asyncio.create_task(bot.delivery.run())  # the worker alone: polls by hand
    try:
        report = await bot.poll(first.id)  # returns while the slow channel holds its alert
        assert report.queued_alerts == 2
        await asyncio.wait_for(slow.waiting.wait(), timeout=5)

        async def fast_got_first() -> bool:
            return len(adapter.sent) == 1

        await eventually(fast_got_first)
        await bot.poll(second.id)

        async def fast_got_both() -> bool:
            return len(adapter.sent) == 2

        await eventually(fast_got_both)  # while the slow channel still holds its first alert
        assert slow.sent == []
        slow.release.set()

        async def slow_got_both() -> bool:
            return len(slow.sent) == 2

        await eventually(slow_got_both)
    finally:
        slow.release.set()
        delivering.cancel()
        await bot.stop(grace=2)
    assert [a.title for a in slow.sent] == [a.title for a in adapter.sent]  # in order


class CountingStore:
    """The real store, counting the transactions opened through it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.opened = 0

    def transaction(self) -> AbstractAsyncContextManager[SqlTransaction]:
        self.opened += 1
        return self.store.transaction()

    def reading(self) -> AbstractAsyncContextManager[SqlTransaction]:
        self.opened += 1
        return self.store.reading()


async def test_a_304_poll_opens_one_transaction_for_its_state_and_reads_nothing(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/a.xml", RSS)
    feed = await add_feed(store, server.url("/a.xml"))
    counting = CountingStore(store)
    ctx = PollContext(counting, fetcher, PollPolicy(min_interval=1), AlertPolicy())
    await poll_feed(ctx, feed.id)  # the first poll stores the item and the ETag
    async with store.transaction() as tx:
        [(due, origin)] = await tx.feeds.due_for_poll(now() + timedelta(days=1), 10)

    counting.opened = 0
    report = await poll_loaded(ctx, due, origin)

    assert report.outcome == "not_modified"
    assert counting.opened == 1  # the state write, shared with any poll finishing beside it
    assert ctx.committer.stats.groups == 2 and ctx.committer.stats.jobs == 2


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


async def test_feed_disabled_elsewhere_is_not_polled(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    server.add_feed("/a.xml", RSS)
    feed = await add_feed(store, server.url("/a.xml"))
    async with store.transaction() as conn:  # `nkru feeds disable` in another process
        await conn.feeds.set_enabled(feed.id, False, now())

    assert await scheduler.dispatcher.dispatch_due() is False
    await scheduler.poll(feed.id)  # a poll by id that raced the change keeps its state

    assert server.hits("/a.xml") == 0
    stored = await get_feed(store, feed.id)
    assert not stored.enabled and stored.status.value == "disabled"
    assert stored.disabled_reason == "disabled by an admin"


async def test_feed_disabled_by_failures_is_polled_no_more(
    store: Store, server: FeedServer, fetcher: FeedFetcher, adapter: RecordingAdapter
) -> None:
    server.add_status("/gone.xml", 410)
    feed = await add_feed(store, server.url("/gone.xml"))
    ctx = PollContext(store, fetcher, PollPolicy(disable_after=0), AlertPolicy())
    bot = BotScheduler(ctx, {"rec": adapter}, ScheduleConfig(dispatch=FAST))

    await bot.poll(feed.id)

    stored = await get_feed(store, feed.id)
    assert not stored.enabled and stored.disabled_reason and "HTTP 410" in stored.disabled_reason
    async with store.transaction() as tx:
        assert await tx.feeds.due_for_poll(now() + timedelta(days=30), 10) == []


async def test_lag_summary_and_the_warning_when_polls_fall_behind(
    scheduler: BotScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    lag = scheduler.dispatcher.lag
    assert lag.summary() is None
    for seconds in [0.5] * 90:
        lag.add(seconds)
    await scheduler.report_lag()
    assert "falling behind" not in caplog.text
    for seconds in [40.0] * 10:
        lag.add(seconds)
    assert lag.summary() == (0.5, 40.0, 40.0)

    await scheduler.report_lag()

    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "40.0s (p95)" in warning.getMessage() and "falling behind" in warning.getMessage()


async def test_scheduling_work_does_not_grow_with_the_number_of_feeds(
    store: Store, server: FeedServer, scheduler: BotScheduler
) -> None:
    """No job per feed (10,000 feeds were 10,000 APScheduler jobs, 35 s to start): the same
    jobs with 3 feeds or 300, and one read of the due feeds fills only the free slots."""
    async with store.transaction() as tx:
        await tx.feeds.add_missing(
            [NewFeed(server.url(f"/f{n}.xml"), f"f{n}", 600) for n in range(300)], now()
        )
    await scheduler.start()
    jobs = {job.id for job in scheduler.scheduler.get_jobs()}
    assert jobs == {"retention", "poll-lag"}

    async def slots_full() -> bool:
        return scheduler.dispatcher.in_flight > 0 or server.hits("/f0.xml") > 0

    await eventually(slots_full)
    assert scheduler.dispatcher.in_flight <= FAST.max_in_flight


async def test_stopping_hands_back_what_a_slow_channel_has_not_sent(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    slow = BlockedChannel()
    ctx = PollContext(
        store, fetcher, PollPolicy(min_interval=1, flood_guard=False), AlertPolicy(["slow"])
    )
    bot = BotScheduler(ctx, {"slow": slow}, ScheduleConfig(dispatch=FAST))
    two = RSS.replace(
        b"</channel>",
        b"<item><guid>s-2</guid><title>Pyongyang hosts a spring "
        b"trade fair</title><link>https://wire.example/2</link></item></channel>",
    )
    server.add_feed("/a.xml", two)
    feed = await add_feed(store, server.url("/a.xml"))
    assert (await bot.poll(feed.id)).queued_alerts == 2
    claiming = asyncio.create_task(bot.delivery.claim_and_send())
    await asyncio.wait_for(slow.waiting.wait(), timeout=5)  # the first alert is being sent

    stopping = asyncio.create_task(bot.stop(grace=5))
    slow.release.set()  # the alert in hand goes out; the one after it must not
    await asyncio.wait_for(stopping, timeout=10)
    await claiming

    assert len(slow.sent) == 1
    async with store.transaction() as tx:  # handed back: due now, for the next run
        [left] = await tx.outbox.claim_due(now(), timedelta(minutes=5))
    assert left.title != slow.sent[0].title
