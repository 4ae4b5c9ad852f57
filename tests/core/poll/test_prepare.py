"""prepare_feed (parse → keys → fingerprints) and where it runs: a thread or a process pool."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.core import cluster
from bot.core.dedup import content_hash, item_key
from bot.core.models import NewArticle
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.parse import parse_feed
from bot.core.poll.pipeline import identifiable, poll_feed
from bot.core.poll.prepare import (
    WORKER_NICENESS,
    PreparedFeed,
    ProcessPoolParser,
    ThreadParser,
    prepare_feed,
)
from bot.core.search_terms.terms import index_text
from storage.engine import Store
from storage.schema import articles
from tests.core.poll.test_pipeline import (
    ITEMS,
    STORY_A,
    STORY_B,
    Item,
    add_feed,
    context,
    count,
    rss,
)
from tests.fakes.feed_server import FeedServer

FEED_URL = "https://wire.example/feed.xml"
FETCHED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EMPTY = Item(None, "")  # no id, no link, no text: never stored
BODY = rss([*ITEMS, STORY_A, STORY_B, EMPTY, Item("opaque-7", "Title only, no link")])
KWARGS = {
    "url": FEED_URL,
    "content_type": "application/rss+xml",
    "fetched_at": FETCHED_AT,
    "feed_id": 7,
    "feed_url": FEED_URL,
    "source_name": "Test Wire",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolParser]:
    """Two warmed-up workers, shared by the module (start-up is paid once)."""
    parser = ProcessPoolParser(2)
    asyncio.run(parser.start())
    assert len(parser.worker_pids()) == 2
    yield parser
    asyncio.run(parser.close())


def old_path(body: bytes) -> list[NewArticle]:
    """What pipeline._articles built from parse_feed before prepare_feed existed."""
    parsed = parse_feed(
        body, url=FEED_URL, content_type="application/rss+xml", fetched_at=FETCHED_AT
    )
    return [
        NewArticle(
            feed_id=7,
            item_key=item_key(entry, FEED_URL),
            guid=entry.guid,
            url=entry.link,
            title=entry.title,
            summary=entry.summary,
            published_at=entry.published or FETCHED_AT,
            fetched_at=FETCHED_AT,
            content_hash=content_hash(entry.title, entry.summary),
            source_name="Test Wire",
        )
        for entry in parsed.entries
        if identifiable(entry)
    ]


def test_prepare_feed_matches_the_old_path_plus_fingerprints_and_search_terms() -> None:
    prepared = prepare_feed(BODY, **KWARGS)

    expected = old_path(BODY)
    assert len(expected) == 5  # the empty item is dropped
    made_here = {"signature": None, "band_keys": (), "search_text": None}
    assert [dataclasses.replace(a, **made_here) for a in prepared.articles] == expected
    for article in prepared.articles:
        fp = cluster.fingerprint(article.title, article.summary)
        assert (article.signature, article.band_keys) == (fp.signature, fp.band_keys)
        # Made in the parse worker, so storing a burst of articles does not hold the loop.
        assert article.search_text == index_text(article.title, article.summary)
        assert article.search_text
    assert prepared.articles[2].band_keys  # a real headline has band keys
    assert (prepared.title, prepared.problem, prepared.fatal) == ("Test Wire", None, False)


def test_prepare_feed_carries_ttl_and_fatal_problems() -> None:
    assert prepare_feed(rss(ITEMS, ttl=45), **KWARGS).ttl_minutes == 45
    broken = prepare_feed(b"   ", **KWARGS)
    assert broken.fatal and broken.articles == [] and broken.problem


def test_workers_yield_the_cpu_to_the_main_process(pool: ProcessPoolParser) -> None:
    # Bulk parsing must not take the cores from the event loop that answers chat.
    expected = {min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS, 19)}

    def niceness() -> set[int]:
        return {os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.worker_pids()}

    # A worker is listed once started, and lowers its priority when its initializer runs,
    # a moment later (on a busy machine, after this test has looked): wait for that.
    deadline = time.monotonic() + 20
    while (workers := niceness()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers == expected
    assert WORKER_NICENESS > 0


async def test_pool_result_equals_thread_result(pool: ProcessPoolParser) -> None:
    in_thread = await ThreadParser().prepare(BODY, **KWARGS)
    in_pool = await pool.prepare(BODY, **KWARGS)

    assert isinstance(in_pool, PreparedFeed)
    assert in_pool == in_thread
    assert os.getpid() not in pool.worker_pids()


async def test_poll_feed_through_the_pool_stores_items(
    store: Store, server: FeedServer, fetcher: FeedFetcher, pool: ProcessPoolParser
) -> None:
    server.add_feed("/feed.xml", rss([*ITEMS, STORY_A, STORY_B]))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    ctx = dataclasses.replace(context(store, fetcher, flood_guard=False), parser=pool)

    report = await poll_feed(ctx, feed_id)

    assert (report.outcome, report.new_articles) == ("fetched", 4)
    assert report.queued_alerts == 3  # STORY_B joins STORY_A's story
    assert await count(store, articles) == 4
    assert pool.restarts == 0


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)  # a child of the fork server: it reaps it, not us
        except ProcessLookupError:
            return
        time.sleep(0.01)


async def test_a_broken_pool_falls_back_to_a_thread_and_is_recreated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = await ThreadParser().prepare(BODY, **KWARGS)
    async with ProcessPoolParser(1) as parser:
        [old] = parser.worker_pids()
        _kill(old)
        with caplog.at_level(logging.WARNING, logger="bot.core.poll.prepare"):
            # Several polls see the broken pool at once: each still gets its result.
            results = await asyncio.gather(*(parser.prepare(BODY, **KWARGS) for _ in range(4)))

        assert results == [expected] * 4
        assert parser.restarts == 1  # one restart, however many calls saw it broken
        assert "parser pool broken" in caplog.text
        [new] = parser.worker_pids()
        assert new != old
        assert await parser.prepare(BODY, **KWARGS) == expected
        assert parser.restarts == 1


async def test_poll_feed_survives_a_killed_worker(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    async with ProcessPoolParser(1) as parser:
        ctx = dataclasses.replace(context(store, fetcher, flood_guard=False), parser=parser)
        _kill(parser.worker_pids()[0])

        report = await poll_feed(ctx, feed_id)

        assert (report.outcome, report.new_articles) == ("fetched", 2)
        assert parser.restarts == 1


async def test_a_closed_or_lazy_pool_still_prepares() -> None:
    expected = prepare_feed(BODY, **KWARGS)
    lazy = ProcessPoolParser(1, lazy=True)
    async with lazy:
        assert lazy.worker_pids() == []
        assert await lazy.prepare(BODY, **KWARGS) == expected
        assert len(lazy.worker_pids()) == 1  # started by the first call
    assert lazy.worker_pids() == []
    assert await lazy.prepare(BODY, **KWARGS) == expected  # a thread
