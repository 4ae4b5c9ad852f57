"""StoryCache: the in-memory story index follows the database, across processes and rollbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core import cluster
from bot.core.models import NewArticle
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.story_cache import StoryCache
from storage.engine import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEMO_DIR = Path(__file__).resolve().parents[2] / "seeds" / "demo"
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
        stored = await conn.stories.signatures_after(0, NOW - WINDOW)
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


async def test_a_report_close_to_a_later_member_joins_the_story(store: Store) -> None:
    # The demo's bridge story: Pacific Dispatch words it unlike Border Monitor (the first
    # report) but like Northeast Asia Wire (which joined it): it must join too.
    from bot.core.poll.parse import parse_feed

    demo = DEMO_DIR

    def tumen_item(name: str) -> tuple[str, str]:
        parsed = parse_feed((demo / name).read_bytes(), url=f"http://x/{name}", fetched_at=NOW)
        [entry] = [e for e in parsed.entries if "Tumen" in e.title]
        return entry.title, entry.summary

    first, member, late = (
        tumen_item(n)
        for n in ("border-monitor.json", "northeast-asia-wire.xml", "pacific-dispatch.xml")
    )
    sig = {k: cluster.fingerprint(*v).signature for k, v in
           {"first": first, "member": member, "late": late}.items()}  # fmt: skip
    assert cluster.similarity(sig["late"], sig["first"]) < cluster.THRESHOLD
    assert cluster.similarity(sig["late"], sig["member"]) >= cluster.THRESHOLD
    cache, policy = StoryCache(), AlertPolicy(destinations=(), story_window=WINDOW)
    reports = []
    for key, (title, summary) in zip("abc", (first, member, late), strict=True):
        async with store.transaction() as conn:
            reports.append(
                await ingest(conn, [new_article(key, title, summary)], NOW, policy, cache=cache)
            )
    assert [(r.new_stories, r.joined_stories) for r in reports] == [(1, 0), (0, 1), (0, 1)]


async def test_a_story_seen_again_by_another_process_stays_in_this_ones_window(
    store: Store,
) -> None:
    # Process B learns that the story was seen again only from the report process A attached.
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    process_a, process_b = StoryCache(), StoryCache()
    async with store.transaction() as conn:
        await ingest(conn, [new_article("a", *BRIDGE)], NOW, policy, cache=process_a)
        await process_b.sync(conn, NOW, WINDOW)
    later = NOW + timedelta(hours=60)
    async with store.transaction() as conn:
        joined = await ingest(
            conn, [new_article("b", *BRIDGE_AGAIN, at=later)], later, policy, cache=process_a
        )
    assert joined.joined_stories == 1
    async with store.transaction() as conn:
        await process_b.sync(conn, NOW + timedelta(hours=100), WINDOW)
    assert len(process_b.index) == 1


async def test_a_cold_start_reads_the_window_in_pages(store: Store) -> None:
    stories = [
        (f"{place} opens a new {thing} for {crowd}", f"The {thing} in {place} serves {crowd}.")
        for place, thing, crowd in [
            ("Khasan", "road bridge", "lorries"),
            ("Rajin", "container terminal", "freighters"),
            ("Wonsan", "beach resort", "tourists"),
            ("Vladivostok", "ferry line", "passengers"),
            ("Tumangang", "railway station", "commuters"),
            ("Sinuiju", "customs office", "traders"),
            ("Nampo", "fish market", "buyers"),
        ]
    ]
    retold = [(title + " on Monday", summary) for title, summary in stories[:3]]
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    async with store.transaction() as conn:
        articles = [new_article(f"s{n}", *text) for n, text in enumerate(stories)]
        articles += [new_article(f"r{n}", *text) for n, text in enumerate(retold)]
        report = await ingest(conn, articles, NOW, policy, cache=StoryCache())
    assert (report.new_stories, report.joined_stories) == (7, 3)
    cache = StoryCache(page=2)  # a new process: seven stories and three members, two at a time
    async with store.transaction() as conn:
        await cache.sync(conn, NOW, WINDOW)
        stored = await conn.stories.signatures_after(0, NOW - WINDOW)
    assert len(cache.index) == 7
    ids = [story_id for story_id, _, _ in stored]
    found = cache.index.best_matches([cluster.fingerprint(*text) for text in stories + retold])
    assert [story for story, _ in found] == ids + ids[:3]
    assert all(equal == cluster.NUM_PERM for _, equal in found)  # each met its own report


async def test_a_sync_does_not_read_again_the_articles_that_never_joined_a_story(
    store: Store,
) -> None:
    # Regression: the reports read were counted from the last one that joined a story, and
    # most never join one (each a story of its own): every sync re-read them all, 139 ms a
    # sync with 200,000 stored, most of the bot's time at 10,000 feeds.
    cache = StoryCache()
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    words = ["harbour", "tariff", "glacier", "senate", "orchestra", "vaccine", "railway", "monsoon"]
    for batch in ("a", "b"):
        async with store.transaction() as conn:
            articles = [
                new_article(f"{batch}{n}", f"{word} {batch} " * 6, f"{batch} {word} report")
                for n, word in enumerate(words)
            ]
            report = await ingest(conn, articles, NOW, policy, cache=cache)
            assert report.joined_stories == 0
    read_after: list[int] = []
    async with store.transaction() as conn:
        last = await conn.articles.last_id()
        real = conn.articles.member_signatures_after

        async def recorded(after_id: int, since: datetime, limit: int | None = None) -> Any:
            read_after.append(after_id)
            return await real(after_id, since, limit)

        conn.articles.member_signatures_after = recorded  # type: ignore[method-assign]
        await cache.sync(conn, NOW, WINDOW)
        await cache.sync(conn, NOW, WINDOW)
    # The first reads the second batch (its own ingest stopped before it), the next nothing.
    assert last == 16 and read_after == [8, 16]


async def test_a_report_that_joins_in_a_later_batch_is_read_once_committed(store: Store) -> None:
    # The reading stops before the ingest's own articles (not placed yet when it syncs): a
    # report that joined in one ingest is still found by the next.
    writer, reader = StoryCache(), StoryCache()
    policy = AlertPolicy(destinations=(), story_window=WINDOW)
    async with store.transaction() as conn:
        await ingest(conn, [new_article("a", *BRIDGE)], NOW, policy, cache=writer)
    async with store.transaction() as conn:
        await reader.sync(conn, NOW, WINDOW)
        joined = await ingest(conn, [new_article("b", *BRIDGE_AGAIN)], NOW, policy, cache=reader)
    assert joined.joined_stories == 1
    async with store.transaction() as conn:
        await reader.sync(conn, NOW, WINDOW)
        await writer.sync(conn, NOW, WINDOW)
    again = cluster.fingerprint(*BRIDGE_AGAIN)
    # Each holds the story's two reports: its first ("a") and "b", which joined it.
    assert len(reader.index.candidates(again)) == len(writer.index.candidates(again)) == 2
