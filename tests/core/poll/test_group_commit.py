"""Group commit: polls that finish together share a transaction, and it changes no outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.core.models import NewArticle, PollState
from bot.core.poll.group_commit import FeedOutcome, GroupCommitter
from bot.core.poll.ingest import AlertPolicy, IngestReport
from bot.core.story_cache import StoryCache
from storage import feeds as feed_repo
from storage.engine import Store
from storage.schema import articles, outbox
from tests.poll_states import ok_poll
from tests.storage.statements import statements

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


def polled(new_items: int, **changes: Any) -> PollState:
    return ok_poll(NOW, **({"next_poll_at": NOW, "new_items": new_items} | changes))


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

    def outcome_for(feed: int) -> FeedOutcome:
        def outcome(report: IngestReport) -> tuple[int, PollState]:
            if feed == feeds[1]:
                raise RuntimeError("feed state could not be recorded")
            recorded.append(feed)
            return feed, polled(len(report.new_articles))

        return outcome

    outcomes = await asyncio.gather(
        *(
            group.ingest([new_article(f, f"item-{i}", TOPICS[i])], NOW, outcome=outcome_for(f))
            for i, f in enumerate(feeds)
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], RuntimeError)
    assert [len(o.new_articles) for o in (outcomes[0], outcomes[2])] == [1, 1]  # type: ignore[union-attr]
    # (the whole group ran first, then rolled back and ran again poll by poll)
    assert set(recorded) == {feeds[0], feeds[2]}
    assert await count(store, articles) == 2  # the failed poll's article was rolled back
    async with store.transaction() as tx:
        counts = {f: (await tx.feeds.get(f)).item_count for f in feeds}  # type: ignore[union-attr]
    assert counts == {feeds[0]: 1, feeds[1]: 0, feeds[2]: 1}


async def test_the_feed_states_of_a_group_are_written_together_and_each_kept(
    store: Store,
) -> None:
    feeds = await add_feeds(store, 4)
    group = committer(store)
    # Two polls with new items and two with nothing to store (one with an ETag: other columns).
    later = NOW + timedelta(minutes=5)

    def counted(feed: int) -> FeedOutcome:
        return lambda report: (feed, polled(len(report.new_articles)))

    two = [new_article(feeds[1], "b", TOPICS[1]), new_article(feeds[1], "c", TOPICS[2])]
    with statements(store) as executed:
        await asyncio.gather(
            group.ingest([new_article(feeds[0], "a", TOPICS[0])], NOW, outcome=counted(feeds[0])),
            group.ingest(two, NOW, outcome=counted(feeds[1])),
            group.record(NOW, feeds[2], polled(0, etag='"v2"')),
            group.record(NOW, feeds[3], polled(0, next_poll_at=later)),
        )
    assert group.stats.groups == 1
    # One statement per set of columns written (with an ETag, without), not one per poll.
    assert len([sql for sql, _ in executed if sql.startswith("UPDATE feeds")]) == 2
    async with store.transaction() as tx:
        stored = {f: await tx.feeds.get(f) for f in feeds}
    assert {f: feed.item_count for f, feed in stored.items() if feed} == {
        feeds[0]: 1, feeds[1]: 2, feeds[2]: 0, feeds[3]: 0,
    }  # fmt: skip
    assert stored[feeds[2]] and stored[feeds[2]].etag == '"v2"'
    assert stored[feeds[0]] and stored[feeds[0]].etag is None
    assert stored[feeds[3]] and stored[feeds[3]].next_poll_at == later
    assert all(feed and feed.last_polled_at == NOW for feed in stored.values())


async def test_an_ingest_inserts_only_what_is_not_stored_and_looks_before_the_lock(
    store: Store,
) -> None:
    [feed] = await add_feeds(store, 1)
    group = committer(store)
    first = [new_article(feed, f"item-{i}", TOPICS[i]) for i in range(4)]
    await group.ingest(first, NOW)
    changed = [*first, new_article(feed, "item-new", "Rail freight to Rajin doubles")]
    with statements(store) as executed:
        report = await group.ingest(changed, NOW)
    assert [a.item_key for a in report.new_articles] == ["item-new"]
    [(_, inserted)] = [(sql, p) for sql, p in executed if sql.startswith("INSERT INTO articles")]
    assert "item-new" in str(inserted) and "item-0" not in str(inserted)
    order = [sql for sql, _ in executed]
    looked = next(i for i, sql in enumerate(order) if sql.startswith("SELECT articles.item_key"))
    locks = [i for i, sql in enumerate(order) if "pg_advisory_xact_lock" in sql]
    assert locks == ([] if store.engine.dialect.name == "sqlite" else [looked + 1])


async def test_polls_queued_while_a_group_waits_for_the_ingest_lock_join_it(
    store: Store,
) -> None:
    if store.dialect == "sqlite":
        pytest.skip("SQLite has no ingest lock to wait for (one writer at a time)")
    feeds = await add_feeds(store, 2)
    group = committer(store)
    held, release = asyncio.Event(), asyncio.Event()

    async def other_process_ingesting() -> None:
        async with store.transaction() as other:
            await other.lock_ingest()
            held.set()
            await release.wait()

    holder = asyncio.create_task(other_process_ingesting())
    await held.wait()
    first = asyncio.ensure_future(group.ingest([new_article(feeds[0], "a", TOPICS[0])], NOW))
    await until_waiting_for_the_lock(store)
    second = asyncio.ensure_future(group.ingest([new_article(feeds[1], "b", TOPICS[1])], NOW))
    await asyncio.sleep(0.05)  # queued behind the first group
    release.set()
    await holder
    reports = [await first, await second]
    assert [[a.item_key for a in r.new_articles] for r in reports] == [["a"], ["b"]]
    assert [r.queued_alerts for r in reports] == [1, 1]
    assert (group.stats.groups, group.stats.jobs) == (1, 2)
    assert await count(store, articles) == 2 and await count(store, outbox) == 2


async def until_waiting_for_the_lock(store: Store) -> None:
    """Until a session of this database waits for an advisory lock (at most 10 s)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    for _ in range(200):
        async with store.transaction() as tx:
            if (await tx.connection.execute(query)).scalar_one():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no session waited for the ingest lock")


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
