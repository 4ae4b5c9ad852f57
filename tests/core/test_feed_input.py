"""Feed addresses and intervals as people give them (bot.core.feed_input), and a stored interval
out of range meeting the real scheduler."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.feed_health import PollPolicy
from bot.core.feed_input import feed_interval, feed_url
from bot.core.models import Feed
from bot.core.poll.dispatch import DispatchConfig
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.pipeline import PollContext
from bot.core.records import NewFeed
from bot.core.scheduling import BotScheduler, ScheduleConfig
from storage.engine import Store
from tests.fakes.feed_server import FeedServer

POSTGRES_INTEGER_MAX = 2**31 - 1


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://www.yna.co.kr/rss/northkorea.xml", "https://www.yna.co.kr/rss/northkorea.xml"),
        ("  HTTP://News.Example:80/feed?utm_source=x  ", "http://news.example/feed"),
        ("http://127.0.0.1:8080/rss", "http://127.0.0.1:8080/rss"),
        ("http://[2001:db8::1]/rss", "http://[2001:db8::1]/rss"),
        ("http://localhost/rss", "http://localhost/rss"),  # the operator's own machine
        ("https://пример.рф/rss", "https://xn--e1afmkfd.xn--p1ai/rss"),
        ("https://user:pw@feeds.example/private.xml", "https://user:pw@feeds.example/private.xml"),
    ],
)
def test_good_feed_urls_come_back_canonical(given: str, canonical: str) -> None:
    assert feed_url(given) == canonical


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("http://exa mple.com/", "'http://exa mple.com/' contains a space or control character"),
        ("http://example.com/a b.xml", "contains a space"),
        ("http://example.com/\x00", "contains a space or control character"),
        ("ftp://example.com/feed", "'ftp://example.com/feed' is not an http(s) URL"),
        ("javascript:alert(1)", "is not a full URL: write it starting with https://"),
        ("example.com/rss", "'example.com/rss' is not a full URL"),
        ("http://exa_mple.com/", "has no valid host name ('exa_mple.com')"),
        ("http://-news-.example/", "has no valid host name"),
        ("http://news..example/", "has no valid host name"),
        ("http://999.1.1.1/", "has no valid host name ('999.1.1.1')"),
        ("http://ex%20ample.com/", "has no valid host name"),
        ("http://" + "a" * 64 + ".example/", "has no valid host name"),
        ("http:///rss", "is not an http(s) URL"),
        ("http://example.com:99999/", "is not a valid URL: check the host and the port"),
        ("http://[not-ipv6]/", "is not a valid URL"),
        ("http://example.com:0/", "names port 0"),
        ("", "no URL given"),
    ],
)
def test_bad_feed_urls_get_a_one_line_reason(given: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        feed_url(given)
    assert why in str(caught.value) and "\n" not in str(caught.value)


def test_a_long_bad_url_is_shortened_in_the_reason() -> None:
    with pytest.raises(ValueError) as caught:
        feed_url("gopher://" + "x" * 500)
    assert len(str(caught.value)) < 200 and "…" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "seconds"), [("1m", 60), ("90s", 90), ("15m", 900), ("7d", 604800), (3600, 3600)]
)
def test_intervals_within_range(given: object, seconds: int) -> None:
    assert feed_interval(given) == seconds


@pytest.mark.parametrize("given", ["0", "59s", "8d", "99999999d", "9" * 400, 0, float("inf")])
def test_intervals_out_of_range_say_the_range(given: object) -> None:
    with pytest.raises(ValueError, match="out of range: a feed's interval must be from 1 minute"):
        feed_interval(given)


# --- a feed stored before intervals were checked ----------------------------------------------


@pytest.fixture
async def scheduler(store: Store, fetcher: FeedFetcher) -> AsyncIterator[BotScheduler]:
    config = ScheduleConfig(dispatch=DispatchConfig(tick=0.05))
    bot = BotScheduler(PollContext(store, fetcher), {}, config)
    yield bot
    await bot.stop(grace=2)


@pytest.mark.parametrize(
    ("stored", "used"),
    [(0, 60), (1, 60), (POSTGRES_INTEGER_MAX, 7 * 86400), (99_999_999 * 86400, 7 * 86400)],
)
async def test_a_stored_interval_out_of_range_is_clamped_with_a_warning(
    store: Store,
    store_url: str,
    server: FeedServer,
    scheduler: BotScheduler,
    caplog: pytest.LogCaptureFixture,
    stored: int,
    used: int,
) -> None:
    if stored > POSTGRES_INTEGER_MAX and store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's integer column cannot hold it: only SQLite stored such feeds")
    server.add_feed("/odd.xml", b"<rss version='2.0'><channel><title>Odd</title></channel></rss>")
    async with store.transaction() as tx:
        feed = await tx.feeds.add(
            NewFeed(server.url("/odd.xml"), "Odd Wire", stored), datetime.now(UTC)
        )
    caplog.set_level(logging.WARNING, logger="bot.core.feed_input")

    await scheduler.start()  # `nkru run` died here with APScheduler's OverflowError

    polled = await _polled(store, feed.id)
    expected = min(used, PollPolicy().max_interval)  # the next poll also honours the policy
    assert polled.next_poll_at is not None and polled.last_polled_at is not None
    assert polled.next_poll_at - polled.last_polled_at == timedelta(seconds=expected)
    [warning, *_] = [r.getMessage() for r in caplog.records if r.name == "bot.core.feed_input"]
    assert warning.startswith(f"feed #{feed.id} 'Odd Wire': its stored interval of {stored}s")
    assert f"polling it every {used}s instead" in warning


async def _polled(store: Store, feed_id: int) -> Feed:
    """The feed once its first poll is recorded (waiting for the dispatcher, 20 ms at a time)."""
    deadline = time.monotonic() + 10
    while True:
        async with store.transaction() as tx:
            feed = await tx.feeds.get(feed_id)
        assert feed is not None
        if feed.last_polled_at is not None:
            return feed
        assert time.monotonic() < deadline, "the feed was not polled"
        await asyncio.sleep(0.02)


async def test_a_stored_interval_in_range_is_used_as_it_is(
    store: Store, server: FeedServer, scheduler: BotScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_feed("/a.xml", b"<rss version='2.0'><channel><title>A</title></channel></rss>")
    async with store.transaction() as tx:
        feed = await tx.feeds.add(NewFeed(server.url("/a.xml"), "A", 900), datetime.now(UTC))

    await scheduler.start()

    polled = await _polled(store, feed.id)
    assert polled.next_poll_at is not None and polled.last_polled_at is not None
    assert polled.next_poll_at - polled.last_polled_at == timedelta(seconds=900)
    assert not [r for r in caplog.records if r.name == "bot.core.feed_input"]
