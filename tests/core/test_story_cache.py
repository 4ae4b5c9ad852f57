"""StoryCache: the in-memory story index follows the database, across processes and rollbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core import cluster
from bot.core.ingest import AlertPolicy, ingest
from bot.core.models import NewArticle
from bot.core.story_cache import StoryCache
from storage import stories as story_repo
from storage.engine import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
BRIDGE = (
    "Russia and North Korea open first road bridge over Tumen River",
    "The road bridge links Khasan in Russia's Primorye with Tumangang in North Korea.",
)
BRIDGE_AGAIN = (
    "North Korea, Russia open Tumen River road bridge linking Khasan and Tumangang",
    "The first road crossing between the two countries links Khasan with Tumangang.",
)


def new_article(key: str, title: str, summary: str, at: datetime = NOW) -> NewArticle:
    return NewArticle(
        feed_id=None,  # type: ignore[arg-type]
        item_key=key, guid=key, url=None, title=title, summary=summary,
        published_at=at, fetched_at=at, content_hash=key, source_name=key,
    )  # fmt: skip


async def test_a_story_started_by_another_process_is_joined(store: Store) -> None:
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    first_process, second_process = StoryCache(), StoryCache()
    async with store.transaction() as conn:
        await second_process.sync(conn, NOW, WINDOW)  # warm, before the story exists
        one = await ingest(conn, [new_article("a", *BRIDGE)], NOW, policy, cache=first_process)
    async with store.transaction() as conn:
        two = await ingest(
            conn, [new_article("b", *BRIDGE_AGAIN)], NOW, policy, cache=second_process
        )
    assert (
        cluster.similarity(
            cluster.fingerprint(*BRIDGE).signature, cluster.fingerprint(*BRIDGE_AGAIN).signature
        )
        >= cluster.THRESHOLD
    )
    assert (one.new_stories, two.joined_stories) == (1, 1)


async def test_a_rolled_back_story_never_enters_the_cache(store: Store) -> None:
    cache = StoryCache()
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    try:
        async with store.transaction() as conn:
            await ingest(conn, [new_article("a", *BRIDGE)], NOW, policy, cache=cache)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    async with store.transaction() as conn:
        report = await ingest(conn, [new_article("b", *BRIDGE_AGAIN)], NOW, policy, cache=cache)
        stored = await story_repo.signatures_after(conn, 0, NOW - WINDOW)
    assert report.new_stories == 1 and len(stored) == 1
    assert len(cache.index) == 0  # the new story is picked up by the next sync, once committed


async def test_stories_leave_the_cache_with_the_window_unless_seen_again(store: Store) -> None:
    cache = StoryCache()
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    async with store.transaction() as conn:
        await ingest(conn, [new_article("a", *BRIDGE)], NOW, policy, cache=cache)
    later = NOW + timedelta(hours=60)
    async with store.transaction() as conn:
        joined = await ingest(
            conn, [new_article("b", *BRIDGE_AGAIN, at=later)], later, policy, cache=cache
        )
        await cache.sync(conn, NOW + timedelta(hours=100), WINDOW)
    assert joined.joined_stories == 1
    assert len(cache.index) == 1  # seen again at +60 h: still inside a 72 h window at +100 h
    async with store.transaction() as conn:
        await cache.sync(conn, later + WINDOW + timedelta(seconds=1), WINDOW)
    assert len(cache.index) == 0
