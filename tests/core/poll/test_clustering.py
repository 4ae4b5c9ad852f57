"""Clustering inside an ingest: bounded work per article, and the event loop keeps running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core import cluster
from bot.core.models import Article, NewArticle
from bot.core.poll import clustering
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.story_cache import MEMBER_CAP, StoryCache
from storage.engine import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def _text(n: int) -> tuple[str, str]:
    return f"Story number {n} about the weather in the city", f"Body of story {n}: sun, rain."


def new_article(n: int) -> NewArticle:
    title, summary = _text(n)
    fp = cluster.fingerprint(title, summary)
    return NewArticle(
        feed_id=None,  # type: ignore[arg-type]
        item_key=f"k{n}", guid=None, url=None, title=title, summary=summary,
        published_at=NOW, fetched_at=NOW, content_hash=f"h{n}", source_name="flood",
        signature=fp.signature, band_keys=fp.band_keys,
    )  # fmt: skip


async def test_one_headline_two_thousand_times_is_one_story_at_bounded_cost(store: Store) -> None:
    cache, policy = StoryCache(), AlertPolicy(destinations=(), story_window=WINDOW)
    async with store.transaction() as tx:
        report = await ingest(tx, [new_article(n) for n in range(2_000)], NOW, policy, cache=cache)
    assert (report.new_stories, report.joined_stories) == (1, 1_999)
    # Each report is compared with the story's first MEMBER_CAP reports at most (it used to be
    # compared with every report before it: two million comparisons).
    assert cache.compared <= MEMBER_CAP * 2_000
    async with store.transaction() as tx:  # the next ingest loads the story's capped reports
        later = await ingest(tx, [new_article(5_000)], NOW, policy, cache=cache)
    assert later.joined_stories == 1 and len(cache.index) == 1


async def test_the_event_loop_runs_between_slices() -> None:
    prints = [cluster.fingerprint(*_text(n)) for n in range(2_000)]
    articles = [
        Article(
            id=n,
            feed_id=1,
            item_key=f"k{n}",
            url=None,
            title=_text(n)[0],
            summary="",
            published_at=NOW,
            fetched_at=NOW,
            source_name="flood",
        )
        for n in range(2_000)
    ]
    turns = 0
    done = False

    async def other_task() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    chosen, started = await clustering.choose(articles, prints, StoryCache())
    done = True
    await running
    assert len(started) == 1 and len(chosen) == 2_000
    # The loop turned at least once every 300 articles (without slices: never, once started).
    assert turns >= 2_000 // 300
