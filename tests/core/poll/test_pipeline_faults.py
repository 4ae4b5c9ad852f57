"""Every way a feed can fail ends as a recorded feed error, with backoff, and then recovers."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.core.feed_health import PollPolicy
from bot.core.models import Feed, FeedStatus
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, poll_feed
from bot.core.records import NewFeed
from storage.engine import Store
from tests.fakes.feed_server import FeedServer

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><guid>w-1</guid><title>Russia and North Korea hold talks</title>
<link>https://wire.example/1</link></item>
<item><guid>w-2</guid><title>Khasan rail freight doubles</title>
<link>https://wire.example/2</link></item>
</channel></rss>"""
KB = 1024
MB = 1024 * KB
BASE = 60.0  # PollPolicy.backoff_base used below: failure n waits in [BASE·2^(n-1)/2, BASE·2^(n-1)]
PATH = "/feed.xml"


async def add_feed(store: Store, url: str) -> int:
    async with store.transaction() as conn:
        feed = await conn.feeds.add(NewFeed(url, "Wire", 600), datetime.now(UTC))
    return feed.id


async def get_feed(store: Store, feed_id: int) -> Feed:
    async with store.transaction() as conn:
        feed = await conn.feeds.get(feed_id)
    assert feed is not None
    return feed


def delay_of(feed: Feed) -> float:
    assert feed.next_poll_at is not None and feed.last_polled_at is not None
    return (feed.next_poll_at - feed.last_polled_at).total_seconds()


# --- the faults -------------------------------------------------------------------------------


def gzip_bomb(megabytes: int) -> bytes:
    """`megabytes` MB of zeros, gzip-compressed to a few KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(bytes(MB)) for _ in range(megabytes)]
    return b"".join([*parts, compressor.flush()])


async def slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(1.0)  # cancelled as soon as the client gives up
    return web.Response(body=RSS)


async def drop_mid_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": str(len(RSS) * 10)})
    await response.prepare(request)
    await response.write(RSS)
    assert request.transport is not None
    request.transport.close()
    return response


async def bomb(request: web.Request) -> web.StreamResponse:
    return web.Response(
        body=gzip_bomb(20),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
    )


def install_status(status: int) -> Callable[[FeedServer], None]:
    return lambda server: server.add_status(PATH, status, body=b"<html>oops</html>")


def install_loop(server: FeedServer) -> None:
    server.add_redirect(PATH, "/elsewhere.xml")
    server.add_redirect("/elsewhere.xml", PATH)


@dataclass(frozen=True)
class Fault:
    install: Callable[[FeedServer], None]
    needles: tuple[str, ...]
    fetcher: dict[str, Any] = field(default_factory=dict)


FAULTS = {
    "404": Fault(install_status(404), ("HTTP 404", "check the feed URL")),
    "500": Fault(install_status(500), ("HTTP 500", "usually temporary")),
    "timeout": Fault(
        lambda s: s.add_handler(PATH, slow),
        ("no complete response", "within 0.2 s", "NKRU_FETCH_TOTAL_TIMEOUT"),
        {"total_timeout": 0.2},
    ),
    "body-over-limit": Fault(
        lambda s: s.add_feed(PATH, b"<rss>" + b"x" * (300 * KB)),
        ("body exceeds the 64 KB limit", "NKRU_FETCH_MAX_BODY_BYTES"),
        {"max_body_bytes": 64 * KB},
    ),
    "redirect-loop": Fault(install_loop, ("too many redirects",)),
    "gzip-bomb": Fault(
        lambda s: s.add_handler(PATH, bomb),
        ("body exceeds the 1 MB limit", "sent more than that"),
        {"max_body_bytes": MB},
    ),
    "empty-200": Fault(lambda s: s.add_status(PATH, 200), ("empty response body",)),
    "html-page": Fault(
        lambda s: s.add_feed(
            PATH,
            b"<!DOCTYPE html><html><body><p>Subscribe!</p></body></html>",
            content_type="text/html; charset=utf-8",
        ),
        ("not a feed", "HTML page", "check the feed URL"),
    ),
    "dropped-mid-body": Fault(
        lambda s: s.add_handler(PATH, drop_mid_body), ("cut off", "usually temporary")
    ),
    "not-xml-at-all": Fault(
        lambda s: s.add_feed(PATH, b"\x00\x01binary garbage\xff", content_type="image/png"),
        ("not a feed",),
    ),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_fault_is_recorded_then_recovers(
    store: Store, server: FeedServer, fault: Fault
) -> None:
    fault.install(server)
    feed_id = await add_feed(store, server.url(PATH))
    policy = PollPolicy(backoff_base=BASE, backoff_cap=3600)
    async with FeedFetcher(**fault.fetcher) as fetcher:
        ctx = PollContext(store, fetcher, policy, AlertPolicy())

        report = await poll_feed(ctx, feed_id)  # must not raise

        assert report.outcome == "failed" and report.new_articles == 0
        feed = await get_feed(store, feed_id)
        assert feed.status is FeedStatus.FAILING and feed.enabled
        assert feed.consecutive_failures == 1
        assert feed.last_error == report.error
        assert feed.last_error and "\n" not in feed.last_error
        for needle in fault.needles:
            assert needle in feed.last_error, feed.last_error
        assert feed.failing_since == feed.last_polled_at
        assert feed.last_success_at is None and feed.item_count == 0
        assert BASE / 2 <= delay_of(feed) <= BASE

        await poll_feed(ctx, feed_id)  # still broken: the backoff doubles
        again = await get_feed(store, feed_id)
        assert again.consecutive_failures == 2
        assert again.failing_since == feed.failing_since
        assert BASE <= delay_of(again) <= 2 * BASE

        server.add_feed(PATH, RSS)  # the publisher fixes it
        healed = await poll_feed(ctx, feed_id)

    assert (healed.outcome, healed.new_articles) == ("fetched", 2)
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.OK and feed.consecutive_failures == 0
    assert feed.last_error is None and feed.failing_since is None
    assert feed.last_success_at == feed.last_polled_at and feed.item_count == 2
    assert delay_of(feed) == 600


async def test_429_retry_after_is_honoured(store: Store, server: FeedServer) -> None:
    server.add_status(PATH, 429, headers={"Retry-After": "1800"})
    feed_id = await add_feed(store, server.url(PATH))
    async with FeedFetcher() as fetcher:
        ctx = PollContext(store, fetcher, PollPolicy(backoff_base=BASE), AlertPolicy())
        report = await poll_feed(ctx, feed_id)
        feed = await get_feed(store, feed_id)
        assert report.outcome == "failed"
        assert feed.status is FeedStatus.FAILING and feed.consecutive_failures == 1
        assert feed.last_error and "HTTP 429" in feed.last_error
        assert "it asked for 1800 s" in feed.last_error
        assert delay_of(feed) == 1800  # the server's wish, not our one-minute backoff

        server.add_status(PATH, 503, headers={"Retry-After": "86400000"})
        await poll_feed(ctx, feed_id)
        capped = await get_feed(store, feed_id)
        assert delay_of(capped) == PollPolicy().backoff_cap  # absurd waits are capped

        server.add_feed(PATH, RSS)
        assert (await poll_feed(ctx, feed_id)).outcome == "fetched"
    assert (await get_feed(store, feed_id)).status is FeedStatus.OK


async def test_feed_failing_too_long_is_disabled(store: Store, server: FeedServer) -> None:
    server.add_status(PATH, 500)
    feed_id = await add_feed(store, server.url(PATH))
    start = datetime.now(UTC)
    now = [start]
    policy = PollPolicy(backoff_base=BASE, disable_after=3600)
    async with FeedFetcher() as fetcher:
        ctx = PollContext(store, fetcher, policy, AlertPolicy(), clock=lambda: now[0])

        await poll_feed(ctx, feed_id)
        now[0] = start + timedelta(minutes=59)
        await poll_feed(ctx, feed_id)
        assert (await get_feed(store, feed_id)).status is FeedStatus.FAILING

        now[0] = start + timedelta(hours=1, seconds=1)
        report = await poll_feed(ctx, feed_id)

    assert report.outcome == "failed"
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.DISABLED and not feed.enabled
    assert feed.consecutive_failures == 3
    assert feed.disabled_reason is not None
    assert f"failing since {start:%Y-%m-%d %H:%M} UTC (3 attempts)" in feed.disabled_reason
    assert "HTTP 500" in feed.disabled_reason
    assert f"nkru feeds enable {feed_id}" in feed.disabled_reason
    async with store.transaction() as conn:
        due = await conn.feeds.due(now[0] + timedelta(days=365))
    assert feed_id not in [f.id for f in due]

    async with store.transaction() as conn:  # an admin re-enables it: due again, state cleared
        await conn.feeds.set_enabled(feed_id, True, now[0])
        due = await conn.feeds.due(now[0])
    assert feed_id in [f.id for f in due]
    revived = await get_feed(store, feed_id)
    assert revived.status is FeedStatus.OK and revived.disabled_reason is None
    assert revived.consecutive_failures == 0 and revived.failing_since is None


async def test_fetcher_bug_is_recorded_not_raised(
    store: Store, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("bot.core.poll.fetch._fetched", broken)
    server.add_feed(PATH, RSS)
    feed_id = await add_feed(store, server.url(PATH))
    async with FeedFetcher() as fetcher:
        report = await poll_feed(PollContext(store, fetcher), feed_id)
    assert report.outcome == "failed"
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.FAILING
    assert feed.last_error and "bug in nkru-monitor" in feed.last_error
