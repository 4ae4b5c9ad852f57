"""Group commit: polls that finish together share a transaction, and it changes no outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import NewArticle
from bot.core.poll.group_commit import GroupCommitter
from bot.core.poll.ingest import AlertPolicy, IngestReport
from bot.core.story_cache import StoryCache
from storage import feeds as feed_repo
from storage.engine import Store
from storage.schema import articles, outbox

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOPICS = (
    "Tumen River road bridge opens between Khasan and Tumangang",
    "Security Council veto ends the sanctions panel mandate",
    "Freight trains resume between Vladivostok and Rajin port",
    "Ammunition shipments cross the border by rail at night",
    "Satellite launch assistance discussed by defence ministers",
)


def new_article(feed_id: int, key: str, title: str) -> NewArticle:
    return NewArticle(
        feed_id=feed_id, item_key=key, guid=key, url=f"https://example.org/{key}", title=title,
        summary=f"{title}, officials said on Friday.", published_at=NOW, fetched_at=NOW,
        content_hash=key, source_name=f"feed {feed_id}",
    )  # fmt: skip


async def add_feeds(store: Store, count: int) -> list[int]:
    async with store.transaction() as conn:
        new = [
            feed_repo.NewFeed(f"https://feed{i}.example.org/rss", f"feed {i}", 600)
            for i in range(count)
        ]
        return [(await conn.feeds.add(feed, NOW)).id for feed in new]


async def count(store: Store, table: object) -> int:
    async with store.transaction() as conn:
        return int(
            (await conn.connection.execute(select(func.count()).select_from(table))).scalar_one()
        )  # type: ignore[arg-type]


def committer(store: Store) -> GroupCommitter:
    return GroupCommitter(store, AlertPolicy(destinations=("console",)), StoryCache())


async def test_polls_that_arrive_together_share_transactions_and_keep_their_reports(
    store: Store,
) -> None:
    feeds = await add_feeds(store, 5)
    group = committer(store)
    # Feed i carries topic i, and every feed also carries the item "shared" (first: feed 0).
    batches = [
        [new_article(feed, f"item-{i}", TOPICS[i]), new_article(feed, "shared", "Shared item")]
        for i, feed in enumerate(feeds)
    ]
    reports = await asyncio.gather(*(group.ingest(batch, NOW) for batch in batches))
    assert [len(r.new_articles) for r in reports] == [2, 1, 1, 1, 1]
    assert [r.new_articles[-1].item_key for r in reports] == [
        "shared",
        *(f"item-{i}" for i in range(1, 5)),
    ]
    assert [r.queued_alerts for r in reports] == [2, 1, 1, 1, 1]
    assert group.stats.jobs == 5 and group.stats.groups < 5  # the first alone, the rest together
    assert await count(store, articles) == 6 and await count(store, outbox) == 6


async def test_the_flood_guard_holds_back_only_its_own_feed_in_a_group(store: Store) -> None:
    guarded, open_feed = await add_feeds(store, 2)
    group = committer(store)
    quiet, loud = await asyncio.gather(
        group.ingest([new_article(guarded, "a", TOPICS[0])], NOW, alert=False),
        group.ingest([new_article(open_feed, "b", TOPICS[1])], NOW, alert=True),
    )
    assert (len(quiet.new_articles), quiet.queued_alerts) == (1, 0)
    assert (len(loud.new_articles), loud.queued_alerts) == (1, 1)


async def test_a_failing_poll_in_a_group_fails_alone(store: Store) -> None:
    feeds = await add_feeds(store, 3)
    group = committer(store)
    recorded: list[int] = []

    def after_for(feed: int) -> object:
        async def after(conn: AsyncConnection, report: IngestReport) -> None:
            if feed == feeds[1]:
                raise RuntimeError("feed state could not be recorded")
            recorded.append(feed)

        return after

    outcomes = await asyncio.gather(
        *(
            group.ingest([new_article(f, f"item-{i}", TOPICS[i])], NOW, after=after_for(f))  # type: ignore[arg-type]
            for i, f in enumerate(feeds)
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], RuntimeError)
    assert [len(o.new_articles) for o in (outcomes[0], outcomes[2])] == [1, 1]  # type: ignore[union-attr]
    # (the whole group ran first, then rolled back and ran again poll by poll)
    assert set(recorded) == {feeds[0], feeds[2]}
    assert await count(store, articles) == 2  # the failed poll's article was rolled back


async def test_a_cancelled_poll_still_gets_its_articles_stored(store: Store) -> None:
    [feed] = await add_feeds(store, 1)
    group = committer(store)
    waiting = asyncio.ensure_future(group.ingest([new_article(feed, "a", TOPICS[0])], NOW))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert group._flusher is not None
    await group._flusher  # the write goes on for everyone in the group
    assert await count(store, articles) == 1
