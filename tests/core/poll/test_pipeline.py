"""poll_feed end to end: real HTTP (FeedServer), real FeedFetcher, real storage on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import Table, func, select, text

from bot.core import cluster
from bot.core.feed_health import PollPolicy
from bot.core.models import Feed, FeedStatus, ParsedFeed, PollState
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.parse import parse_feed as real_parse
from bot.core.poll.pipeline import PollContext, poll_feed
from bot.core.records import NewFeed
from storage.engine import Store
from storage.schema import articles, outbox, stories
from tests.fakes.feed_server import FeedServer


@dataclass(frozen=True, slots=True)
class Item:
    """One <item> of a test feed."""

    guid: str | None
    title: str
    summary: str = ""
    link: str | None = None
    published: datetime | None = None


def rss(items: Sequence[Item], *, ttl: int | None = None, title: str = "Test Wire") -> bytes:
    """A small RSS 2.0 document; dates default to 'now' so alerts are fresh."""
    now = datetime.now(UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://wire.example/</link>",
        f"<ttl>{ttl}</ttl>" if ttl is not None else "",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.link is not None:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        when = item.published or now
        parts.append(f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


ITEMS = [
    Item("wire-1", "Lavrov visits Pyongyang for talks", "Talks on the 2024 treaty.",
         "https://wire.example/1"),
    Item("wire-2", "Rail freight from Khasan doubles", "Cargo over the Tumen bridge.",
         "https://wire.example/2"),
]  # fmt: skip

# Two outlets telling one story in their own words (checked against the clusterer below).
STORY_A = Item(
    "a-77",
    "Russia and North Korea sign new air defence agreement in Pyongyang",
    "Russia and North Korea signed an agreement on air defence cooperation in Pyongyang on "
    "Tuesday, with Russian Defence Minister Andrei Belousov and North Korean officials "
    "attending the ceremony.",
    "https://outlet-a.example/2026/air-defence-deal",
)
STORY_B = Item(
    "b-1203",
    "North Korea and Russia sign air defence cooperation deal during Belousov visit",
    "North Korean and Russian officials signed an air defence cooperation agreement in "
    "Pyongyang, where Russian Defence Minister Andrei Belousov arrived for talks on Tuesday.",
    "https://outlet-b.example/news/belousov-pyongyang",
)


def context(store: Store, fetcher: FeedFetcher, **policy: Any) -> PollContext:
    return PollContext(store, fetcher, PollPolicy(**policy), AlertPolicy(destinations=["console"]))


async def add_feed(store: Store, url: str, name: str = "Test Wire", interval: int = 600) -> int:
    async with store.transaction() as conn:
        feed = await conn.feeds.add(NewFeed(url, name, interval), datetime.now(UTC))
    return feed.id


async def get_feed(store: Store, feed_id: int) -> Feed:
    async with store.transaction() as conn:
        feed = await conn.feeds.get(feed_id)
    assert feed is not None
    return feed


async def count(store: Store, table: Table) -> int:
    async with store.transaction() as conn:
        return int(
            (await conn.connection.execute(select(func.count()).select_from(table))).scalar_one()
        )


async def outbox_kinds(store: Store) -> list[tuple[str, int, int]]:
    """(kind, story_id, article_id) of every outbox entry, in queue order."""
    stmt = select(outbox.c.kind, outbox.c.story_id, outbox.c.article_id).order_by(outbox.c.id)
    async with store.transaction() as conn:
        return [(r[0], r[1], r[2]) for r in (await conn.connection.execute(stmt)).all()]


async def stored_titles(store: Store) -> list[str]:
    async with store.transaction() as conn:
        rows = await conn.connection.execute(select(articles.c.title).order_by(articles.c.id))
        return list(rows.scalars())


def interval_of(feed: Feed) -> float:
    assert feed.next_poll_at is not None and feed.last_polled_at is not None
    return (feed.next_poll_at - feed.last_polled_at).total_seconds()


# --- storing and conditional GET -------------------------------------------------------------


async def test_poll_stores_items_and_queues_alerts(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"), interval=900)

    report = await poll_feed(context(store, fetcher, flood_guard=False), feed_id)

    assert (report.outcome, report.new_articles, report.queued_alerts) == ("fetched", 2, 2)
    assert report.feed_name == "Test Wire" and report.error is None and report.warning is None
    assert await stored_titles(store) == [item.title for item in ITEMS]
    assert [kind for kind, _, _ in await outbox_kinds(store)] == ["new", "new"]
    assert await count(store, stories) == 2
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.OK and feed.consecutive_failures == 0
    assert feed.etag and feed.last_modified and feed.body_hash
    assert feed.first_fetch_done and feed.item_count == 2
    assert feed.last_success_at == feed.last_polled_at
    assert interval_of(feed) == 900


async def test_second_poll_is_not_modified_and_stores_nothing(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    ctx = context(store, fetcher, flood_guard=False)
    await poll_feed(ctx, feed_id)
    first = await get_feed(store, feed_id)

    report = await poll_feed(ctx, feed_id)

    assert (report.outcome, report.new_articles, report.queued_alerts) == ("not_modified", 0, 0)
    assert server.requests[-1].headers["If-None-Match"] == first.etag
    assert server.requests[-1].headers["If-Modified-Since"] == first.last_modified
    assert await count(store, articles) == 2
    assert len(await outbox_kinds(store)) == 2
    second = await get_feed(store, feed_id)
    assert second.etag == first.etag and second.item_count == 2
    assert second.last_polled_at is not None and first.last_polled_at is not None
    assert second.last_polled_at > first.last_polled_at


async def test_same_body_without_validators_is_unchanged_and_not_parsed(
    store: Store, server: FeedServer, fetcher: FeedFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[ParsedFeed] = []

    def counting_parse(*args: Any, **kwargs: Any) -> ParsedFeed:
        parsed.append(real_parse(*args, **kwargs))
        return parsed[-1]

    monkeypatch.setattr("bot.core.poll.pipeline.parse_feed", counting_parse)
    server.add_feed("/feed.xml", rss(ITEMS), etag=False, last_modified=False)
    feed_id = await add_feed(store, server.url("/feed.xml"))
    ctx = context(store, fetcher)
    await poll_feed(ctx, feed_id)

    report = await poll_feed(ctx, feed_id)

    assert report.outcome == "unchanged" and report.new_articles == 0
    assert len(parsed) == 1  # the second body was recognised by its hash, never parsed
    assert "If-None-Match" not in server.requests[-1].headers
    assert server.hits("/feed.xml") == 2
    assert await count(store, articles) == 2
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.OK and feed.etag is None and feed.body_hash


async def test_same_item_in_two_feeds_is_stored_once(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    shared = Item("https://wire.example/2026/11/shared-story", "Shared wire story", "Text.")
    server.add_feed("/a.xml", rss([shared, ITEMS[0]]))
    # The syndicating feed has the same GUID URL; a second copy is keyed by its tracked link.
    tracked = Item(None, "Shared wire story", "Text.",
                   link="https://wire.example/2026/11/shared-story?utm_source=rss#top")  # fmt: skip
    server.add_feed("/b.xml", rss([shared, ITEMS[1]]))
    server.add_feed("/c.xml", rss([tracked]))
    ctx = context(store, fetcher, flood_guard=False)
    feed_a = await add_feed(store, server.url("/a.xml"), "Outlet A")
    feed_b = await add_feed(store, server.url("/b.xml"), "Outlet B")
    feed_c = await add_feed(store, server.url("/c.xml"), "Outlet C")

    report_a = await poll_feed(ctx, feed_a)
    report_b = await poll_feed(ctx, feed_b)
    report_c = await poll_feed(ctx, feed_c)

    assert (report_a.new_articles, report_b.new_articles, report_c.new_articles) == (2, 1, 0)
    assert await stored_titles(store) == ["Shared wire story", ITEMS[0].title, ITEMS[1].title]
    assert len(await outbox_kinds(store)) == 3
    assert (await get_feed(store, feed_b)).item_count == 1
    assert (await get_feed(store, feed_c)).status is FeedStatus.OK


async def test_edited_title_is_not_a_new_article(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    ctx = context(store, fetcher, flood_guard=False)
    await poll_feed(ctx, feed_id)
    edited = [Item("wire-1", "UPDATE: Lavrov arrives in Pyongyang for treaty talks",
                   ITEMS[0].summary, ITEMS[0].link), ITEMS[1]]  # fmt: skip
    server.set_body("/feed.xml", rss(edited))

    report = await poll_feed(ctx, feed_id)

    assert (report.outcome, report.new_articles, report.queued_alerts) == ("fetched", 0, 0)
    assert await count(store, articles) == 2
    assert len(await outbox_kinds(store)) == 2
    assert (await get_feed(store, feed_id)).item_count == 2


def test_story_pair_is_similar_for_the_clusterer() -> None:
    """Guards the fixture: the two wordings must be one story for the clusterer itself."""
    a = cluster.fingerprint(STORY_A.title, STORY_A.summary)
    b = cluster.fingerprint(STORY_B.title, STORY_B.summary)
    unrelated = cluster.fingerprint(ITEMS[1].title, ITEMS[1].summary)
    assert set(a.band_keys) & set(b.band_keys)  # LSH would find it as a candidate
    assert cluster.similarity(a.signature, b.signature) >= cluster.THRESHOLD
    assert cluster.best_match(b, [(1, unrelated.signature), (2, a.signature)]) == 2


async def test_same_story_from_two_outlets_is_one_story_with_an_update(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/a.xml", rss([STORY_A]))
    server.add_feed("/b.xml", rss([STORY_B, ITEMS[1]]))
    ctx = context(store, fetcher, flood_guard=False)
    feed_a = await add_feed(store, server.url("/a.xml"), "Outlet A")
    feed_b = await add_feed(store, server.url("/b.xml"), "Outlet B")

    await poll_feed(ctx, feed_a)
    report = await poll_feed(ctx, feed_b)

    assert (report.new_articles, report.queued_alerts) == (2, 2)
    async with store.transaction() as conn:
        rows = (await conn.connection.execute(select(articles.c.title, articles.c.story_id))).all()
    story_of = {title: story_id for title, story_id in rows}
    assert story_of[STORY_A.title] == story_of[STORY_B.title]
    assert story_of[ITEMS[1].title] != story_of[STORY_A.title]
    assert await count(store, stories) == 2
    entries = await outbox_kinds(store)
    assert [(kind, story) for kind, story, _ in entries] == [
        ("new", story_of[STORY_A.title]),
        ("update", story_of[STORY_A.title]),
        ("new", story_of[ITEMS[1].title]),
    ]
    async with store.transaction() as conn:
        count_row = select(stories.c.article_count).where(stories.c.id == story_of[STORY_A.title])
        assert (await conn.connection.execute(count_row)).scalar_one() == 2


# --- flood guard ---------------------------------------------------------------------------


async def test_flood_guard_stores_first_fetch_silently_then_alerts(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    ctx = context(store, fetcher)  # flood guard on by default

    first = await poll_feed(ctx, feed_id)

    assert (first.new_articles, first.queued_alerts, first.flood_guarded) == (2, 0, True)
    assert await outbox_kinds(store) == []
    assert (await get_feed(store, feed_id)).first_fetch_done

    fresh = Item("wire-3", "Kim Jong Un receives Russian delegation", "Meeting in Pyongyang.")
    server.set_body("/feed.xml", rss([fresh, *ITEMS]))
    second = await poll_feed(ctx, feed_id)

    assert (second.new_articles, second.queued_alerts, second.flood_guarded) == (1, 1, False)
    entries = await outbox_kinds(store)
    assert len(entries) == 1 and entries[0][0] == "new"
    assert (await stored_titles(store))[-1] == fresh.title


async def test_flood_guard_off_alerts_on_first_fetch(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))

    report = await poll_feed(context(store, fetcher, flood_guard=False), feed_id)

    assert (report.new_articles, report.queued_alerts, report.flood_guarded) == (2, 2, False)
    assert len(await outbox_kinds(store)) == 2


# --- malformed feeds, caching hints, missing feeds -------------------------------------------


async def test_bozo_feed_stores_items_and_records_the_problem(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    broken = rss(ITEMS).replace(b"Rail freight from Khasan", b"Rail & freight from Khasan")
    server.add_feed("/bozo.xml", broken)
    feed_id = await add_feed(store, server.url("/bozo.xml"))

    report = await poll_feed(context(store, fetcher), feed_id)

    assert report.outcome == "fetched" and report.new_articles == 2
    assert report.warning and "not well-formed XML" in report.warning
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.OK and feed.consecutive_failures == 0
    assert feed.last_error == report.warning
    assert feed.item_count == 2

    server.set_body("/bozo.xml", rss(ITEMS))  # fixed by the publisher: the warning clears
    await poll_feed(context(store, fetcher), feed_id)
    assert (await get_feed(store, feed_id)).last_error is None


@pytest.mark.parametrize(("validators", "outcome"), [(True, "not_modified"), (False, "unchanged")])
async def test_a_parse_problem_stays_until_a_body_parses_cleanly(
    store: Store, server: FeedServer, fetcher: FeedFetcher, validators: bool, outcome: str
) -> None:
    broken = rss(ITEMS).replace(b"Rail freight from Khasan", b"Rail & freight from Khasan")
    server.add_feed("/bozo.xml", broken, etag=validators, last_modified=validators)
    feed_id = await add_feed(store, server.url("/bozo.xml"))
    first = await poll_feed(context(store, fetcher), feed_id)
    assert first.warning and "not well-formed XML" in first.warning

    again = await poll_feed(context(store, fetcher), feed_id)  # 304, or the same body again

    assert again.outcome == outcome
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.OK and feed.last_error == first.warning
    server.set_body("/bozo.xml", rss(ITEMS))
    fixed = await poll_feed(context(store, fetcher), feed_id)
    assert fixed.outcome == "fetched" and fixed.warning is None
    assert (await get_feed(store, feed_id)).last_error is None


async def test_a_poll_that_is_not_read_after_a_failure_clears_the_failure(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    await poll_feed(context(store, fetcher), feed_id)
    async with store.transaction() as conn:  # a failed poll since: the server was down
        failing = PollState(
            datetime.now(UTC), datetime.now(UTC), FeedStatus.FAILING, 1, "HTTP 503", None
        )
        await conn.feeds.record_poll(feed_id, failing)

    report = await poll_feed(context(store, fetcher), feed_id)

    assert report.outcome == "not_modified"
    feed = await get_feed(store, feed_id)
    assert (feed.status, feed.last_error, feed.consecutive_failures) == (FeedStatus.OK, None, 0)


@pytest.mark.parametrize(
    ("ttl", "headers", "policy", "expected"),
    [
        (120, {}, {}, 7200),  # <ttl> in minutes, longer than the configured 10 min
        (5, {}, {}, 600),  # shorter hints never make us poll more often
        (None, {"Cache-Control": "public, max-age=1800"}, {}, 1800),
        (None, {"Cache-Control": "max-age=60"}, {}, 600),
        (30, {"Cache-Control": "max-age=3000"}, {}, 3000),  # the longer of the two
        (10080, {}, {"max_interval": 3 * 3600}, 3 * 3600),  # a week-long ttl is capped
        (None, {"Cache-Control": "max-age=999999"}, {"max_interval": 7200}, 7200),
    ],
)
async def test_ttl_and_max_age_push_next_poll_later(
    store: Store,
    server: FeedServer,
    fetcher: FeedFetcher,
    ttl: int | None,
    headers: dict[str, str],
    policy: dict[str, float],
    expected: float,
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS, ttl=ttl), headers=headers)
    feed_id = await add_feed(store, server.url("/feed.xml"), interval=600)

    report = await poll_feed(context(store, fetcher, **policy), feed_id)

    assert report.outcome == "fetched"
    assert interval_of(await get_feed(store, feed_id)) == expected


async def test_max_age_on_304_is_honoured(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS), headers={"Cache-Control": "max-age=2400"})
    feed_id = await add_feed(store, server.url("/feed.xml"), interval=600)
    ctx = context(store, fetcher)
    await poll_feed(ctx, feed_id)

    report = await poll_feed(ctx, feed_id)

    assert report.outcome == "not_modified"
    assert interval_of(await get_feed(store, feed_id)) == 2400


async def test_deleted_feed_is_missing(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    async with store.transaction() as conn:
        assert await conn.feeds.remove(feed_id)

    report = await poll_feed(context(store, fetcher), feed_id)

    assert report.outcome == "missing"
    assert report.error == f"feed #{feed_id} no longer exists"
    assert server.hits("/feed.xml") == 0
    assert await count(store, articles) == 0


async def test_disabled_feed_is_not_fetched(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    async with store.transaction() as conn:
        await conn.feeds.set_enabled(feed_id, False, datetime.now(UTC))

    report = await poll_feed(context(store, fetcher), feed_id)

    assert (report.outcome, report.error) == ("disabled", "disabled by an admin")
    assert server.hits("/feed.xml") == 0
    feed = await get_feed(store, feed_id)
    assert feed.status is FeedStatus.DISABLED and feed.last_polled_at is None


async def test_clock_is_taken_from_the_context(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    fixed = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock: Callable[[], datetime] = lambda: fixed  # noqa: E731
    server.add_feed("/feed.xml", rss(ITEMS, title="Clocked"))
    feed_id = await add_feed(store, server.url("/feed.xml"), interval=600)
    ctx = PollContext(store, fetcher, PollPolicy(), AlertPolicy(), clock=clock)

    await poll_feed(ctx, feed_id)

    feed = await get_feed(store, feed_id)
    assert feed.last_polled_at == fixed
    assert feed.next_poll_at == fixed + timedelta(seconds=600)


async def test_entries_without_id_link_or_text_are_skipped_not_merged(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    empty = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title>'
        b"<item><title></title></item><item><description> </description></item>"
        b"<item><title>Real item with only a title</title></item></channel></rss>"
    )
    server.add_feed("/a.xml", empty)
    server.add_feed("/b.xml", empty.replace(b"Real item", b"Other item"))
    ctx = context(store, fetcher, flood_guard=False)
    first = await poll_feed(ctx, await add_feed(store, server.url("/a.xml"), "A"))
    second = await poll_feed(ctx, await add_feed(store, server.url("/b.xml"), "B"))
    assert (first.new_articles, second.new_articles) == (1, 1)
    assert sorted(await stored_titles(store)) == [
        "Other item with only a title",
        "Real item with only a title",
    ]


async def test_many_feeds_polled_at_once_all_succeed(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    # Regression: 1,000 concurrent first polls on SQLite ran out of pool connections or hit
    # "database is locked"; transactions now queue at the Store instead.
    feed_ids = []
    for n in range(40):
        items = [Item(f"f{n}-{i}", f"Story {i} from feed {n}", link=f"https://w.example/{n}/{i}")
                 for i in range(20)]  # fmt: skip
        server.add_feed(f"/f{n}.xml", rss(items))
        feed_ids.append(await add_feed(store, server.url(f"/f{n}.xml"), f"Feed {n}"))
    ctx = context(store, fetcher, flood_guard=False)
    reports = await asyncio.gather(*(poll_feed(ctx, feed_id) for feed_id in feed_ids))
    assert {report.outcome for report in reports} == {"fetched"}
    assert await count(store, articles) == 40 * 20


async def test_database_error_is_reported_not_raised(
    store: Store, server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", rss(ITEMS))
    feed_id = await add_feed(store, server.url("/feed.xml"))
    async with store.transaction() as conn:
        await conn.connection.execute(text("DROP TABLE outbox"))
    report = await poll_feed(context(store, fetcher, flood_guard=False), feed_id)
    assert report.outcome == "failed"
    assert report.error is not None and report.error.startswith("database error:")
    assert await stored_titles(store) == []  # the ingest transaction was rolled back whole
