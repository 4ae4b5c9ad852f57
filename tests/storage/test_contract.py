"""One contract suite for the repositories, run against SQLite and real PostgreSQL."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from bot.core.models import FeedStatus, NewArticle, PollState
from bot.core.records import FeedExistsError, NewFeed
from bot.core.search_terms.terms import index_text
from storage import outbox
from storage.engine import MIGRATIONS, SCHEMA_HEAD, Store
from storage.schema import declared, metadata
from tests.poll_states import ok_poll
from tests.storage.statements import statements

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# What migration 0013 adds, on each database (to take a database back before it).
UNDO_FULLTEXT_INDEX = {
    "sqlite": [
        *(f"DROP TRIGGER articles_fts_{event}" for event in ("insert", "delete", "update")),
        "DROP TABLE articles_fts",
    ],
    "postgresql": [  # the table 0017 moved the vectors to, with what keeps it
        *(f"DROP TRIGGER article_vectors_{event} ON articles" for event in ("insert", "update")),
        *(f"DROP FUNCTION article_vectors_{event}()" for event in ("insert", "update")),
        "DROP TABLE article_vectors",
    ],
}


# What migration 0015 changes: the one-column articles indexes it widened.
UNDO_TRENDS_INDEXES = [
    "DROP INDEX ix_articles_published",
    "DROP INDEX ix_articles_story_published",
    "CREATE INDEX ix_articles_published_at ON articles (published_at)",
    "CREATE INDEX ix_articles_story_id ON articles (story_id)",
]


def article(key: str, feed_id: int, title: str = "Title", **changes: object) -> NewArticle:
    base = NewArticle(
        feed_id=feed_id,
        item_key=key,
        guid=key,
        url=f"https://news.example/{key}",
        title=title,
        summary=f"Summary of {title}",
        published_at=NOW,
        fetched_at=NOW,
        content_hash="h-" + key,
        source_name="Example News",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def add_feed(store: Store, url: str = "https://news.example/feed.xml") -> int:
    async with store.transaction() as conn:
        feed = await conn.feeds.add(NewFeed(url=url, name="Example", interval_seconds=600), NOW)
    return feed.id


async def test_migrations_are_applied_and_idempotent(store: Store) -> None:
    await store.upgrade()  # a second upgrade is a no-op, not an error
    async with store.transaction() as conn:
        version = (
            await conn.connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_schema_head_names_the_newest_migration() -> None:
    """Store.open skips Alembic for a database at SCHEMA_HEAD: a new migration must move it."""
    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == SCHEMA_HEAD


async def test_a_database_behind_the_head_is_migrated_on_open(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.connection.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        for statement in UNDO_TRENDS_INDEXES:
            await conn.connection.execute(text(statement))
        await conn.connection.execute(text("DROP TABLE watchlist_versions"))
        await conn.connection.execute(text("DROP TABLE audit_log"))
        await conn.connection.execute(text("DROP TABLE instances"))
        await conn.connection.execute(text("DROP TABLE subscriptions"))
        await conn.connection.execute(text("DROP TABLE web_logins"))
        await conn.connection.execute(text("DROP TABLE web_keys"))
        await conn.connection.execute(text("DROP TABLE story_themes"))
        await conn.connection.execute(text("ALTER TABLE outbox DROP COLUMN claimed_by"))
        for statement in UNDO_FULLTEXT_INDEX[store.dialect]:
            await conn.connection.execute(text(statement))
        await conn.connection.execute(text("ALTER TABLE outbox DROP COLUMN rendered_at"))
        await conn.connection.execute(text("ALTER TABLE articles DROP COLUMN image_url"))
    assert not await store.is_current()

    again = await Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        assert await again.is_current()
        async with again.transaction() as conn:
            await conn.connection.execute(text("SELECT count(*) FROM watchlist_versions"))
            await conn.connection.execute(text("SELECT claimed_by FROM outbox, instances"))
            await conn.connection.execute(text("SELECT count(*) FROM subscriptions"))
            await conn.connection.execute(text("SELECT image_url FROM articles"))
            await conn.connection.execute(text("SELECT count(*) FROM web_logins, web_keys"))
            await conn.connection.execute(text("SELECT count(*) FROM story_themes"))
            assert [a.item_key for a in await conn.articles.search("title")] == []
    finally:
        await again.close()


async def test_migrations_build_exactly_the_schema_the_code_uses(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        options = {"compare_type": False, "include_name": declared}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))

    async with store.transaction() as conn:
        assert await conn.connection.run_sync(differences) == []


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(
        f"sqlite:///{tmp_path / 'nested' / 'wal.db'}".replace("sqlite:", "sqlite+aiosqlite:")
    )
    async with store.transaction() as conn:
        mode = (await conn.connection.execute(text("PRAGMA journal_mode"))).scalar()
    await store.close()
    assert mode == "wal"


async def test_insert_returns_only_new_articles(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        first = await conn.articles.insert_new([article("a", feed_id), article("b", feed_id)])
    async with store.transaction() as conn:
        second = await conn.articles.insert_new(
            [article("b", feed_id, "Edited"), article("c", feed_id), article("a", feed_id)]
        )
    assert [a.item_key for a in first] == ["a", "b"]
    assert [a.item_key for a in second] == ["c"]
    assert all(a.id > 0 and a.published_at.tzinfo is not None for a in first + second)


async def test_duplicate_keys_within_one_batch_store_once(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        stored = await conn.articles.insert_new([article("x", feed_id), article("x", feed_id)])
    assert len(stored) == 1


async def test_large_batch_is_split_under_parameter_limits(store: Store) -> None:
    feed_id = await add_feed(store)
    batch = [article(f"k{i}", feed_id) for i in range(1_200)]
    async with store.transaction() as conn:
        stored = await conn.articles.insert_new(batch)
    assert [a.item_key for a in stored] == [a.item_key for a in batch]


async def test_datetimes_round_trip_as_utc(store: Store) -> None:
    feed_id = await add_feed(store)
    tokyo = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Tokyo")
    )
    async with store.transaction() as conn:
        [stored] = await conn.articles.insert_new([article("tz", feed_id, published_at=tokyo)])
        fetched = await conn.articles.get(stored.id)
    assert fetched is not None
    assert fetched.published_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert fetched.published_at.utcoffset() == timedelta(0)


async def test_a_publication_time_after_first_seen_is_stored_as_first_seen(store: Store) -> None:
    """The dates rule (bot.core.dates) holds for whatever is stored: never in the future."""
    feed_id = await add_feed(store)
    ahead = article("ahead", feed_id, published_at=NOW + timedelta(hours=3))
    async with store.transaction() as conn:
        [stored] = await conn.articles.insert_new([ahead])
        fetched = await conn.articles.get(stored.id)
    assert stored.published_at == NOW
    assert fetched is not None and fetched.published_at == NOW


async def test_search_is_case_insensitive_in_any_script(store: Store) -> None:
    feed_id = await add_feed(store)
    batch = [
        article("en", feed_id, "Tumen River bridge opens"),
        article("ru", feed_id, "Мост через реку Туманная открыт"),
        article("ko", feed_id, "두만강 자동차 다리 개통"),
        article("pct", feed_id, "100% of 50_cal rounds"),
    ]
    async with store.transaction() as conn:
        await conn.articles.insert_new(batch)
        assert [a.item_key for a in await conn.articles.search("tumen BRIDGE")] == ["en"]
        assert [a.item_key for a in await conn.articles.search("ТУМАННАЯ")] == ["ru"]
        assert [a.item_key for a in await conn.articles.search("두만강")] == ["ko"]
        assert [a.item_key for a in await conn.articles.search("100%")] == ["pct"]
        assert await conn.articles.search("10_%") == []
        assert await conn.articles.search("   ") == []


async def test_search_terms_made_with_the_parse_are_stored_as_given(store: Store) -> None:
    """The parse workers make an article's search terms (NewArticle.search_text): storing them
    must not make them again, on the event loop; without them, storing makes them."""
    feed_id = await add_feed(store)
    made = index_text("Tumen River bridge opens", "Trucks cross")
    batch = [
        article("parsed", feed_id, "Tumen River bridge opens", search_text=f"{made} zeppelin"),
        article("made-here", feed_id, "Tumen River bridge opens"),
    ]
    async with store.transaction() as conn:
        await conn.articles.insert_new(batch)
        assert [a.item_key for a in await conn.articles.search("zeppelin")] == ["parsed"]
        found = {a.item_key for a in await conn.articles.search("bridges")}
    assert found == {"parsed", "made-here"}


async def test_feed_urls_are_unique_and_duplicates_name_the_existing_feed(store: Store) -> None:
    feed_id = await add_feed(store)
    with pytest.raises(FeedExistsError) as caught:
        await add_feed(store)
    assert caught.value.existing.id == feed_id


async def test_add_missing_feeds_returns_only_added(store: Store) -> None:
    await add_feed(store, "https://a.example/feed")
    new = [
        NewFeed("https://a.example/feed", "A", 600, "seed"),
        NewFeed("https://b.example/feed", "B", 600, "seed"),
    ]
    async with store.transaction() as conn:
        added = await conn.feeds.add_missing(new, NOW)
        everything = await conn.feeds.list_all()
    assert [f.url for f in added] == ["https://b.example/feed"]
    assert len(everything) == 2


async def test_poll_state_round_trip_and_due_feeds(store: Store) -> None:
    feed_id = await add_feed(store)
    state = PollState(
        last_polled_at=NOW,
        next_poll_at=NOW + timedelta(minutes=10),
        status=FeedStatus.FAILING,
        consecutive_failures=2,
        last_error="HTTP 500",
        failing_since=NOW - timedelta(hours=1),
        etag='"abc"',
        new_items=3,
    )
    async with store.transaction() as conn:
        await conn.feeds.record_poll(feed_id, state)
        feed = await conn.feeds.get(feed_id)
        due_now = await conn.feeds.due(NOW)
        due_later = await conn.feeds.due(NOW + timedelta(minutes=11))
    assert feed is not None
    assert (feed.status, feed.etag, feed.item_count, feed.consecutive_failures) == (
        FeedStatus.FAILING,
        '"abc"',
        3,
        2,
    )
    assert feed.failing_since == NOW - timedelta(hours=1)
    assert due_now == [] and [f.id for f in due_later] == [feed_id]


async def test_poll_states_of_several_feeds_in_one_call(store: Store) -> None:
    first, second = await add_feed(store), await add_feed(store, "https://b.example/feed")

    def state(minutes: int, new_items: int, etag: str | None = None) -> PollState:
        return ok_poll(
            NOW, next_poll_at=NOW + timedelta(minutes=minutes), new_items=new_items, etag=etag
        )

    async with store.transaction() as conn:
        # Different columns (one with an ETag), then the same feed twice: the later wins.
        await conn.feeds.record_polls([(first, state(5, 2, '"a"')), (second, state(7, 1))])
        await conn.feeds.record_polls([(second, state(8, 1, '"b"')), (second, state(9, 3))])
        feeds = {f: await conn.feeds.get(f) for f in (first, second)}
    assert {f: (x.etag, x.item_count, x.next_poll_at) for f, x in feeds.items() if x} == {
        first: ('"a"', 2, NOW + timedelta(minutes=5)),
        second: ('"b"', 5, NOW + timedelta(minutes=9)),
    }


async def test_stored_keys_names_only_those_stored(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        await conn.articles.insert_new([article("k1", feed_id), article("k2", feed_id)])
        with statements(store) as executed:
            assert await conn.articles.stored_keys(["k2", "k3", "k1"]) == {"k1", "k2"}
            assert await conn.articles.stored_keys(["k1"]) == {"k1"}
        assert await conn.articles.stored_keys([]) == set()
    if store.dialect == "postgresql":  # one statement to prepare, whatever the number of keys
        assert executed[0][0] == executed[1][0]


async def test_disabled_feed_is_never_due(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        await conn.feeds.set_enabled(feed_id, False, NOW)
        assert await conn.feeds.due(NOW + timedelta(days=1)) == []
        await conn.feeds.set_enabled(feed_id, True, NOW)
        assert [f.id for f in await conn.feeds.due(NOW)] == [feed_id]


async def test_story_signatures_after_an_id_within_the_window(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        first, second = await conn.articles.insert_new(
            [article("s1", feed_id), article("s2", feed_id)]
        )
        old = await conn.stories.create(
            title="old",
            lead_article_id=first.id,
            seen_at=NOW - timedelta(hours=80),
            signature=b"old",
        )
        new = await conn.stories.create(
            title="new", lead_article_id=second.id, seen_at=NOW, signature=b"new"
        )
        since = NOW - timedelta(hours=72)
        assert await conn.stories.signatures_after(0, since) == [(new, b"new", NOW)]
        assert await conn.stories.signatures_after(new, since) == []
        await conn.stories.attach(old, NOW)
        assert [sid for sid, _, _ in await conn.stories.signatures_after(0, since)] == [old, new]
        # Start-up reads the window in pages, by id.
        assert await conn.stories.signatures_after(0, since, limit=1) == [(old, b"old", NOW)]
        assert await conn.stories.signatures_after(old, since, limit=1) == [(new, b"new", NOW)]
        assert await conn.stories.signatures_after(new, since, limit=1) == []


async def test_member_signatures_in_pages_by_article_id(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        lead, *members = await conn.articles.insert_new(
            [article(f"m{n}", feed_id, f"Report {n}") for n in range(4)]
        )
        story = await conn.stories.create(
            title="story", lead_article_id=lead.id, seen_at=NOW, signature=b"lead"
        )
        await conn.articles.set_stories(
            [(lead.id, story, None)] + [(m.id, story, f"sig{m.id}".encode()) for m in members]
        )
        since = NOW - timedelta(hours=72)
        every = await conn.articles.member_signatures_after(0, since)
        assert [row[0] for row in every] == [m.id for m in members]  # not the lead
        pages, after = [], 0
        while page := await conn.articles.member_signatures_after(after, since, limit=2):
            pages.append([row[0] for row in page])
            after = page[-1][0]
        assert pages == [[members[0].id, members[1].id], [members[2].id]]
        assert every[0] == (members[0].id, story, f"sig{members[0].id}".encode(), NOW)


async def test_outbox_queues_once_and_renders_outlets(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        lead, other = await conn.articles.insert_new(
            [
                article("o1", feed_id, "Bridge opens"),
                article("o2", feed_id, "Bridge opened", source_name="Other Wire"),
            ],
        )
        story_id = await conn.stories.create(
            title="Bridge opens",
            lead_article_id=lead.id,
            seen_at=NOW,
            signature=b"s",
        )
        for item in (lead, other):
            await conn.articles.set_story(item.id, story_id)
        entry = outbox.OutboxEntry("console", "new", story_id, lead.id)
        assert await conn.outbox.enqueue([entry, entry], NOW) == 1
        assert await conn.outbox.enqueue([entry], NOW) == 0
        [alert] = await conn.outbox.due(NOW)
    assert (alert.title, alert.also_reported_by, alert.kind) == (
        "Bridge opens",
        ["Other Wire"],
        "new",
    )


async def test_a_report_joining_while_the_first_post_is_sent_gets_its_update(
    store: Store,
) -> None:
    # Regression: the first post is rendered when claimed and stamped sent after the post; a
    # report that joined in between was taken as shown by it, and its outlet never appeared.
    feed_id = await add_feed(store)
    lease = timedelta(minutes=5)
    async with store.transaction() as conn:
        [lead] = await conn.articles.insert_new([article("r1", feed_id, title="Bridge opens")])
        sid = await conn.stories.create(
            title="t", lead_article_id=lead.id, seen_at=NOW, signature=b"s"
        )
        await conn.articles.set_story(lead.id, sid)
        await conn.outbox.enqueue([outbox.OutboxEntry("console", "new", sid, lead.id)], NOW)
    async with store.transaction() as conn:
        [first] = await conn.outbox.claim_due(NOW, lease)  # rendered: one outlet
    joined = NOW + timedelta(seconds=1)  # while the post is on its way
    async with store.transaction() as conn:
        [other] = await conn.articles.insert_new(
            [article("r2", feed_id, source_name="Other Wire", fetched_at=joined)]
        )
        await conn.articles.set_story(other.id, sid)
        await conn.outbox.enqueue([outbox.OutboxEntry("console", "update", sid, other.id)], joined)
    async with store.transaction() as conn:
        await conn.outbox.mark_sent(first.outbox_id, "msg-1", NOW + timedelta(seconds=2))
    async with store.transaction() as conn:
        [update] = await conn.outbox.claim_due(NOW + timedelta(seconds=3), lease)
    assert first.also_reported_by == []
    assert (update.kind, update.superseded, update.remote_id) == ("update", False, "msg-1")
    assert update.also_reported_by == ["Other Wire"]


async def test_outbox_retry_sent_and_dead(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        one, two = await conn.articles.insert_new([article("p1", feed_id), article("p2", feed_id)])
        ids = []
        for item in (one, two):
            sid = await conn.stories.create(
                title="t", lead_article_id=item.id, seen_at=NOW, signature=b"s"
            )
            ids.append(sid)
            await conn.outbox.enqueue([outbox.OutboxEntry("console", "new", sid, item.id)], NOW)
        first, second = await conn.outbox.due(NOW)
        await conn.outbox.mark_failed(first.outbox_id, "HTTP 500", NOW + timedelta(minutes=1))
        await conn.outbox.mark_sent(second.outbox_id, "msg-1", NOW)
        assert await conn.outbox.due(NOW) == []
        [retry] = await conn.outbox.due(NOW + timedelta(minutes=1))
        await conn.outbox.mark_failed(retry.outbox_id, "gave up", None)
        counts = await conn.outbox.count_by_status()
        assert await conn.outbox.attempts(retry.outbox_id) == 2
    assert counts == {"sent": 1, "dead": 1}


async def test_retention_purges_old_rows(store: Store) -> None:
    feed_id = await add_feed(store)
    old = NOW - timedelta(days=100)
    async with store.transaction() as conn:
        await conn.articles.insert_new(
            [article("old", feed_id, fetched_at=old), article("new", feed_id)]
        )
        assert await conn.articles.purge_fetched_before(NOW - timedelta(days=90)) == 1
        assert [a.item_key for a in await conn.articles.latest()] == ["new"]


async def test_claimed_alerts_are_not_claimed_again_until_the_lease_ends(store: Store) -> None:
    feed_id = await add_feed(store)
    lease = timedelta(minutes=5)
    async with store.transaction() as conn:
        [item] = await conn.articles.insert_new([article("c1", feed_id)])
        sid = await conn.stories.create(
            title="t", lead_article_id=item.id, seen_at=NOW, signature=b"s"
        )
        await conn.outbox.enqueue([outbox.OutboxEntry("console", "new", sid, item.id)], NOW)
    async with store.transaction() as conn:
        [claimed] = await conn.outbox.claim_due(NOW, lease)
    async with store.transaction() as conn:
        assert await conn.outbox.claim_due(NOW + timedelta(minutes=4), lease) == []
        [again] = await conn.outbox.claim_due(NOW + lease, lease)
    assert claimed.outbox_id == again.outbox_id


async def test_due_destinations_and_claims_of_one_destination(store: Store) -> None:
    feed_id = await add_feed(store)
    lease = timedelta(minutes=5)
    async with store.transaction() as conn:
        [item] = await conn.articles.insert_new([article("d1", feed_id)])
        sid = await conn.stories.create(
            title="t", lead_article_id=item.id, seen_at=NOW, signature=b"s"
        )
        entries = [outbox.OutboxEntry(name, "new", sid, item.id) for name in ("a", "b")]
        await conn.outbox.enqueue(entries, NOW)
        assert await conn.outbox.due_destinations(NOW) == {"a", "b"}
        assert await conn.outbox.due_destinations(NOW - timedelta(seconds=1)) == set()
    async with store.transaction() as conn:
        [claimed] = await conn.outbox.claim_due(NOW, lease, only="b")
        assert claimed.destination == "b"
        # A claimed alert is not due until its lease ends: only "a" is left.
        assert await conn.outbox.due_destinations(NOW) == {"a"}


async def test_concurrent_transactions_never_exceed_what_the_backend_takes(store: Store) -> None:
    # Regression: 1,000 concurrent polls on SQLite exhausted the pool / hit "database is locked".
    inside = peak = 0

    async def one() -> None:
        nonlocal inside, peak
        async with store.transaction() as conn:
            inside += 1
            peak = max(peak, inside)
            await conn.connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(one() for _ in range(40)))
    assert peak == (1 if store.dialect == "sqlite" else 10)


async def test_busy_transactions_on_postgresql_reuse_the_pools_connections(store: Store) -> None:
    # Regression: the pool kept 5 connections and opened up to 5 more for one transaction
    # each: a busy worker started a server process, and prepared its statements again, for
    # most of its transactions.
    if store.dialect == "sqlite":
        pytest.skip("PostgreSQL's pool (SQLite: one writer, its own connections)")
    backends: set[int] = set()

    async def one() -> None:
        async with store.transaction() as conn:
            backends.add(
                (await conn.connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            )
            await asyncio.sleep(0.01)

    for _ in range(5):  # rounds of more transactions at once than the pool holds
        await asyncio.gather(*(one() for _ in range(20)))
    assert len(backends) <= 10


@contextmanager
def _migration_lock_held(database: Path) -> Iterator[None]:
    with Path(f"{database}.migrate.lock").open("a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock


async def test_a_process_opening_a_new_sqlite_file_waits_for_the_migrating_one(
    tmp_path: Path,
) -> None:
    # Regression (CI, 1 run in ~30): the openers connected before taking the migration lock,
    # and the first connections to a new file race to switch it to WAL; a loser got
    # "database is locked" at once. Now nothing connects until the lock is free.
    database = tmp_path / "fresh.db"
    with _migration_lock_held(database):  # as by another process, migrating
        opening = asyncio.create_task(Store.open(f"sqlite+aiosqlite:///{database}"))
        await asyncio.sleep(0.3)
        assert not opening.done()
        assert not database.exists()  # no connection made, so no WAL switch to race
    store = await asyncio.wait_for(opening, 30)
    assert await store.is_current()
    await store.close()


@pytest.mark.timeout(60)  # without the lock this could also hang on SQLite's file lock
async def test_processes_starting_together_on_a_new_sqlite_file_migrate_once(
    tmp_path: Path,
) -> None:
    # Without the migration lock the second raced the first: "table feeds already exists".
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    opened = await asyncio.gather(*(Store.open(url) for _ in range(4)))
    for store in opened:
        async with store.transaction() as conn:
            version = (
                await conn.connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
        await store.close()
        assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()
