"""Each repository method the core calls, called directly, on SQLite and real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.models import FeedStatus, PollState, ThemeHit
from bot.core.records import (
    DEAD,
    MUTED,
    PENDING,
    SENT,
    AuditEntry,
    DeadDeliveries,
    FeedTrouble,
    NewFeed,
    NewStory,
    OutboxEntry,
)
from storage.engine import Store
from storage.transaction import SqlTransaction
from tests.storage.test_contract import NOW, add_feed, article

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=5)
TOKYO = ZoneInfo("Asia/Tokyo")  # aware but not UTC: windows must still compare instants


@pytest.fixture
async def feed_id(store: Store) -> int:
    """One stored feed for the test's articles."""
    return await add_feed(store)


async def start_story(
    tx: SqlTransaction, feed_id: int, key: str, *, source: str = "Lead News", at: datetime = NOW
) -> tuple[int, int]:
    """Store an article fetched at `at` and start a story seen at `at` led by it: (article id,
    story id)."""
    [lead] = await tx.articles.insert_new(
        [article(key, feed_id, f"Title {key}", source_name=source, fetched_at=at)]
    )
    [story_id] = await tx.stories.create_many(
        [NewStory(f"Story {key}", lead.id, b"s-" + key.encode())], at
    )
    await tx.articles.set_stories([(lead.id, story_id, None)])
    return lead.id, story_id


async def join_story(
    tx: SqlTransaction,
    feed_id: int,
    key: str,
    story_id: int,
    *,
    source: str = "Other Wire",
    at: datetime = NOW,
) -> int:
    """Store an article fetched at `at` as a later report of a story (with its signature)."""
    [joined] = await tx.articles.insert_new(
        [article(key, feed_id, f"Title {key}", source_name=source, fetched_at=at)]
    )
    await tx.articles.set_stories([(joined.id, story_id, b"j-" + key.encode())])
    await tx.stories.attach_many([story_id], at)
    return joined.id


def hit(theme: str, score: float) -> ThemeHit:
    """A theme hit with a recognisable explanation."""
    return ThemeHit(theme, score, f"{theme} at {score}", {"theme": theme, "terms": [score]})


async def enqueue_one(tx: SqlTransaction, entry: OutboxEntry, at: datetime = NOW) -> int:
    """Queue one entry at `at` and claim it (nothing else may be due then): its outbox id."""
    assert await tx.outbox.enqueue([entry], at) == 1
    [alert] = await tx.outbox.claim_due(at, LEASE)
    return alert.outbox_id


def polled(
    status: FeedStatus, error: str | None, since: datetime | None, **more: object
) -> PollState:
    """The outcome of a poll at NOW that left a feed in `status`."""
    state = PollState(
        last_polled_at=NOW,
        next_poll_at=NOW + HOUR,
        status=status,
        consecutive_failures=0 if status is FeedStatus.OK else 3,
        last_error=error,
        failing_since=since,
    )
    return replace(state, **more)  # type: ignore[arg-type]


# FeedRepository


async def test_due_for_poll_and_next_due_at_follow_next_poll_at(store: Store) -> None:
    async with store.transaction() as tx:
        added = [
            await tx.feeds.add(NewFeed(f"https://f{n}.example/rss", f"f{n}", 600, "chat"), NOW)
            for n in range(4)
        ]
        first, later, off, overdue = (feed.id for feed in added)
        await tx.feeds.record_poll(later, polled(FeedStatus.OK, None, None))  # due NOW + 1 h
        await tx.feeds.record_poll(
            overdue, polled(FeedStatus.OK, None, None, next_poll_at=NOW - HOUR)
        )
        await tx.feeds.set_enabled(off, False, NOW)
    async with store.transaction() as tx:
        due = await tx.feeds.due_for_poll(NOW, 10)
        capped = await tx.feeds.due_for_poll(NOW, 1)
        none_yet = await tx.feeds.due_for_poll(NOW - 2 * HOUR, 10)
        next_due = await tx.feeds.next_due_at()
        next_but_those = await tx.feeds.next_due_at({first, overdue})
    # The longest overdue first; never the disabled one; each with who added it.
    assert [(feed.id, origin) for feed, origin in due] == [(overdue, "chat"), (first, "chat")]
    assert [feed.id for feed, _ in capped] == [overdue]
    assert none_yet == []
    assert next_due == NOW - HOUR
    assert next_but_those == NOW + HOUR  # what is being polled is left out


async def test_get_with_origin_returns_the_feed_and_who_added_it(store: Store) -> None:
    cli_id = await add_feed(store)
    async with store.transaction() as tx:
        chat = await tx.feeds.add(NewFeed("https://chat.example/rss", "Chat", 900, "chat"), NOW)
    async with store.transaction() as tx:
        assert await tx.feeds.get_with_origin(chat.id) == (chat, "chat")
        cli = await tx.feeds.get_with_origin(cli_id)
        assert cli is not None and cli == (await tx.feeds.get(cli_id), "cli")


async def test_get_with_origin_of_an_unknown_feed_is_none(store: Store) -> None:
    feed = await add_feed(store)
    async with store.transaction() as tx:
        assert await tx.feeds.get_with_origin(feed + 1) is None


async def test_remove_deletes_the_feed_and_keeps_its_articles_detached(
    store: Store, feed_id: int
) -> None:
    other = await add_feed(store, "https://other.example/feed")
    async with store.transaction() as tx:
        [kept] = await tx.articles.insert_new([article("r1", feed_id)])
        assert await tx.feeds.remove(feed_id) is True
    async with store.transaction() as tx:
        assert await tx.feeds.get(feed_id) is None
        assert [feed.id for feed in await tx.feeds.list_all()] == [other]
        stored = await tx.articles.get(kept.id)
        assert stored is not None and stored.feed_id is None and stored.title == kept.title


async def test_remove_of_a_missing_feed_is_false(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        assert await tx.feeds.remove(feed_id + 1) is False
        assert await tx.feeds.remove(feed_id) is True
        assert await tx.feeds.remove(feed_id) is False


# ArticleRepository


async def test_set_stories_places_articles_and_keeps_only_joiners_signatures(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        a1, a2, a3 = await tx.articles.insert_new([article(k, feed_id) for k in ("a1", "a2", "a3")])
        s1, s2 = await tx.stories.create_many(
            [NewStory("one", a1.id, b"s1"), NewStory("two", a3.id, b"s3")], NOW
        )
        await tx.articles.set_stories([(a1.id, s1, None), (a2.id, s1, b"j2"), (a3.id, s2, None)])
    async with store.transaction() as tx:
        placed = [await tx.articles.get(a.id) for a in (a1, a2, a3)]
        assert [a.story_id if a else None for a in placed] == [s1, s1, s2]
        assert await tx.articles.member_signatures_after(0, NOW) == [(a2.id, s1, b"j2", NOW)]


async def test_set_stories_moves_an_article_and_replaces_its_signature(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        _, s1 = await start_story(tx, feed_id, "m1")
        _, s2 = await start_story(tx, feed_id, "m2")
        moved = await join_story(tx, feed_id, "m3", s1)
        await tx.articles.set_stories([(moved, s2, None)])
    async with store.transaction() as tx:
        stored = await tx.articles.get(moved)
        assert stored is not None and stored.story_id == s2
        assert await tx.articles.member_signatures_after(0, NOW) == []


async def test_set_stories_with_nothing_changes_nothing(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        [alone] = await tx.articles.insert_new([article("n1", feed_id)])
        await tx.articles.set_stories([])
    async with store.transaction() as tx:
        assert await tx.articles.get(alone.id) == alone


async def test_member_signatures_after_an_id_since_a_time_in_id_order(
    store: Store, feed_id: int
) -> None:
    since = NOW - HOUR
    async with store.transaction() as tx:
        _, story = await start_story(tx, feed_id, "lead", at=NOW - 3 * HOUR)
        too_old = await join_story(tx, feed_id, "old", story, at=since - timedelta(seconds=1))
        edge = await join_story(tx, feed_id, "edge", story, at=since)
        late = await join_story(tx, feed_id, "late", story, at=NOW - 2 * HOUR)
        newest = await join_story(tx, feed_id, "new", story, at=NOW)
    async with store.transaction() as tx:
        members = await tx.articles.member_signatures_after(0, since.astimezone(TOKYO))
        assert members == [(edge, story, b"j-edge", since), (newest, story, b"j-new", NOW)]
        assert [m[0] for m in await tx.articles.member_signatures_after(edge, since)] == [newest]
        assert await tx.articles.member_signatures_after(newest, since) == []
        everything = await tx.articles.member_signatures_after(0, NOW - 4 * HOUR)
        assert [m[0] for m in everything] == [too_old, edge, late, newest]
        assert all(fetched.utcoffset() == timedelta(0) for *_, fetched in everything)


async def test_last_id_is_the_highest_article_id_or_zero(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        assert await tx.articles.last_id() == 0
        first, story = await start_story(tx, feed_id, "lead", at=NOW)
        joined = await join_story(tx, feed_id, "joined", story, at=NOW)
        assert await tx.articles.last_id() == max(first, joined)


async def test_member_signatures_skip_articles_whose_story_is_gone(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        _, story = await start_story(tx, feed_id, "gone", at=NOW - 48 * HOUR)
        await join_story(tx, feed_id, "gone-2", story, at=NOW - 48 * HOUR)
        assert len(await tx.articles.member_signatures_after(0, NOW - 72 * HOUR)) == 1
        assert await tx.stories.purge_seen_before(NOW - 24 * HOUR) == 1
    async with store.transaction() as tx:
        assert await tx.articles.member_signatures_after(0, NOW - 72 * HOUR) == []


async def test_outlets_name_each_outlet_once_in_reporting_order(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        _, story = await start_story(tx, feed_id, "o1", source="Alpha", at=NOW)
        await join_story(tx, feed_id, "o2", story, source="Gamma", at=NOW + 2 * HOUR)
        await join_story(tx, feed_id, "o3", story, source="Beta", at=NOW + HOUR)
        await join_story(tx, feed_id, "o4", story, source="Alpha", at=NOW + 3 * HOUR)
        await join_story(tx, feed_id, "o5", story, source="Delta", at=NOW + HOUR)  # tie: by id
        _, other = await start_story(tx, feed_id, "x1", source="Elsewhere")
    async with store.transaction() as tx:
        assert await tx.articles.outlets(story) == ["Alpha", "Beta", "Delta", "Gamma"]
        assert await tx.articles.outlets(other) == ["Elsewhere"]
        assert await tx.articles.outlets(other + 1) == []


# StoryRepository


async def test_create_many_returns_ids_in_input_order(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        leads = await tx.articles.insert_new([article(f"c{i}", feed_id) for i in range(3)])
        new = [NewStory(f"story {i}", lead.id, bytes([i])) for i, lead in enumerate(leads)]
        ids = await tx.stories.create_many(new[::-1], NOW.astimezone(TOKYO))
    async with store.transaction() as tx:
        views = {view.story.id: view.story for view in await tx.stories.views(ids)}
    assert len(set(ids)) == 3
    assert [views[i].lead_article_id for i in ids] == [lead.id for lead in leads[::-1]]
    for story_id, wanted in zip(ids, new[::-1], strict=True):
        story = views[story_id]
        assert (story.title, story.article_count) == (wanted.title, 1)
        assert story.first_seen_at == story.last_seen_at == NOW
        assert story.first_seen_at.utcoffset() == timedelta(0)
    async with store.transaction() as tx:
        assert sorted(await tx.stories.signatures_after(0, NOW)) == sorted(
            (i, story.signature, NOW) for i, story in zip(ids, new[::-1], strict=True)
        )


async def test_create_many_keeps_input_order_across_batches(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        leads = await tx.articles.insert_new([article(f"b{i}", feed_id) for i in range(1_100)])
        ids = await tx.stories.create_many([NewStory("t", a.id, b"s") for a in leads[::-1]], NOW)
        views = {view.story.id: view.story.lead_article_id for view in await tx.stories.views(ids)}
    assert len(set(ids)) == 1_100
    assert [views[i] for i in ids] == [a.id for a in leads[::-1]]


async def test_create_many_of_nothing_creates_nothing(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.stories.create_many([], NOW) == []
        assert await tx.stories.ids_seen_since(NOW - 1000 * HOUR) == []


async def test_create_many_refuses_two_stories_with_one_lead(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        [lead] = await tx.articles.insert_new([article("dup", feed_id)])
        with pytest.raises(ValueError, match="share a lead"):
            await tx.stories.create_many(
                [NewStory("a", lead.id, b"a"), NewStory("b", lead.id, b"b")], NOW
            )
        assert await tx.stories.ids_seen_since(NOW) == []


async def test_attach_many_counts_each_listed_report_and_moves_last_seen(
    store: Store, feed_id: int
) -> None:
    later = NOW + HOUR
    async with store.transaction() as tx:
        _, twice = await start_story(tx, feed_id, "t1")
        _, once = await start_story(tx, feed_id, "t2")
        _, untouched = await start_story(tx, feed_id, "t3")
        await tx.stories.attach_many([twice, once, twice, untouched + 1], later)
        await tx.stories.attach_many([], NOW + 5 * HOUR)
    async with store.transaction() as tx:
        views = {v.story.id: v.story for v in await tx.stories.views([twice, once, untouched])}
    counts = {sid: (s.article_count, s.first_seen_at, s.last_seen_at) for sid, s in views.items()}
    assert counts == {twice: (3, NOW, later), once: (2, NOW, later), untouched: (1, NOW, NOW)}


async def test_views_show_the_stories_that_exist_with_lead_and_outlets(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "v1", source="Alpha")
        await join_story(tx, feed_id, "v2", story, source="Beta", at=NOW + HOUR)
        _, other = await start_story(tx, feed_id, "v3", source="Gamma")
        _, unasked = await start_story(tx, feed_id, "v4")
    async with store.transaction() as tx:
        views = await tx.stories.views([other, unasked + 100, story, story])
        assert await tx.stories.views([]) == []
    by_id = {view.story.id: view for view in views}
    assert sorted(by_id) == sorted([story, other])
    view = by_id[story]
    assert (view.story.title, view.story.lead_article_id, view.story.article_count) == (
        "Story v1",
        lead,
        2,
    )
    assert (view.url, view.summary, view.source_name, view.outlets) == (
        "https://news.example/v1",
        "Summary of Title v1",
        "Alpha",
        ["Alpha", "Beta"],
    )
    assert by_id[other].outlets == ["Gamma"]


async def test_views_head_a_story_with_its_first_matched_report(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "h1", source="Alpha", at=NOW - 3 * HOUR)
        first = await join_story(tx, feed_id, "h2", story, source="Beta", at=NOW - 2 * HOUR)
        best = await join_story(tx, feed_id, "h3", story, source="Gamma", at=NOW - HOUR)
        await tx.themes.add_many([(best, hit("troops", 3.0)), (first, hit("troops", 1.0))])
        _, plain = await start_story(tx, feed_id, "h4", source="Delta")
    async with store.transaction() as tx:
        views = {view.story.id: view for view in await tx.stories.views([story, plain])}
        [latest] = await tx.stories.latest(1, since=NOW - 4 * HOUR)
    headed = views[story]
    assert (headed.story.title, headed.story.lead_article_id) == ("Title h2", lead)
    assert (headed.url, headed.summary, headed.source_name) == (
        "https://news.example/h2",
        "Summary of Title h2",
        "Beta",
    )
    assert (headed.published_at, headed.seen_at) == (NOW - 2 * HOUR, NOW - 2 * HOUR)
    assert headed.outlets == ["Alpha", "Beta", "Gamma"]
    # No report matched: the lead heads it, under the story's own title.
    assert (views[plain].story.title, views[plain].source_name) == ("Story h4", "Delta")
    assert latest == views[plain]


async def test_latest_orders_stories_by_their_newest_report(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        _, revived = await start_story(tx, feed_id, "o1", at=NOW - 10 * HOUR)
        _, recent = await start_story(tx, feed_id, "o2", at=NOW - HOUR)
        _, older = await start_story(tx, feed_id, "o3", at=NOW - 2 * HOUR)
        late = await join_story(tx, feed_id, "o4", revived, at=NOW)
        await tx.themes.add_many([(late, hit("troops", 1.0)), (late - 2, hit("troops", 1.0))])
    async with store.transaction() as tx:
        assert [v.story.id for v in await tx.stories.latest(3)] == [revived, recent, older]
        assert await tx.reports.latest_matched_story_ids(5) == [revived, recent]


async def test_windows_by_publication_leave_out_an_old_backlog(store: Store, feed_id: int) -> None:
    since, floor = NOW - HOUR, NOW - 2 * HOUR
    async with store.transaction() as tx:
        stored = await tx.articles.insert_new(
            [
                article("w1", feed_id, "Backlog", published_at=NOW - 900 * HOUR),
                article("w2", feed_id, "Late", published_at=NOW - 90 * timedelta(minutes=1)),
                article("w3", feed_id, "Fresh"),
            ]
        )
        ids = await tx.stories.create_many(
            [NewStory(a.title, a.id, b"w" + a.title.encode()) for a in stored], NOW
        )
        await tx.articles.set_stories([(a.id, s, None) for a, s in zip(stored, ids, strict=True)])
        await tx.themes.add_many([(a.id, hit("troops", 1.0)) for a in stored])
    backlog, late, fresh = ids
    async with store.transaction() as tx:
        seen = await tx.stories.ids_seen_since(since, published_from=floor)
        matched = await tx.themes.matched_stories_since(since, published_from=floor)
        assert sorted(seen) == sorted(matched) == sorted([late, fresh])
        assert backlog in await tx.themes.matched_stories_since(since)  # by first seen only
        [view] = await tx.stories.views([backlog])
    assert (view.published_at, view.seen_at) == (NOW - 900 * HOUR, NOW)


async def test_ids_seen_since_are_the_stories_with_a_report_in_the_window(
    store: Store, feed_id: int
) -> None:
    since = NOW - HOUR
    async with store.transaction() as tx:
        _, old = await start_story(tx, feed_id, "i1", at=NOW - 5 * HOUR)
        _, revived = await start_story(tx, feed_id, "i2", at=NOW - 5 * HOUR)
        await tx.stories.attach_many([revived], NOW)
        _, edge = await start_story(tx, feed_id, "i3", at=since)
        _, fresh = await start_story(tx, feed_id, "i4", at=NOW)
    async with store.transaction() as tx:
        assert sorted(await tx.stories.ids_seen_since(since.astimezone(TOKYO))) == sorted(
            [revived, edge, fresh]
        )
        assert await tx.stories.ids_seen_since(NOW + timedelta(seconds=1)) == []
        assert old in await tx.stories.ids_seen_since(NOW - 5 * HOUR)


async def test_purge_seen_before_deletes_old_stories_and_detaches_their_articles(
    store: Store, feed_id: int
) -> None:
    cutoff = NOW - 24 * HOUR
    async with store.transaction() as tx:
        old_lead, old = await start_story(tx, feed_id, "p1", at=cutoff - timedelta(seconds=1))
        old_joiner = await join_story(tx, feed_id, "p2", old, at=cutoff - timedelta(seconds=1))
        _, edge = await start_story(tx, feed_id, "p3", at=cutoff)
        _, revived = await start_story(tx, feed_id, "p4", at=cutoff - 5 * HOUR)
        await tx.stories.attach_many([revived], NOW)
        await tx.outbox.enqueue([OutboxEntry("console", "new", old, old_lead)], cutoff)
    async with store.transaction() as tx:
        assert await tx.stories.purge_seen_before(cutoff.astimezone(TOKYO)) == 1
    async with store.transaction() as tx:
        assert sorted(await tx.stories.ids_seen_since(NOW - 1000 * HOUR)) == sorted([edge, revived])
        assert await tx.stories.views([old]) == []
        for article_id in (old_lead, old_joiner):
            kept = await tx.articles.get(article_id)
            assert kept is not None and kept.story_id is None
        assert await tx.outbox.count_by_status() == {}  # its alerts went with it
        assert await tx.stories.purge_seen_before(cutoff) == 0


# ThemeMatches


async def test_of_stories_gives_the_best_hit_per_theme_best_first(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "th1")
        second = await join_story(tx, feed_id, "th2", story)
        third = await join_story(tx, feed_id, "th3", story)
        other_lead, other = await start_story(tx, feed_id, "th4")
        _, unmatched = await start_story(tx, feed_id, "th5")
        await tx.themes.add_many(
            pair
            for pair in [
                (lead, hit("bridge", 1.0)),
                (lead, hit("troops", 2.5)),
                (second, hit("bridge", 3.0)),
                (second, hit("alpha", 2.5)),
                (third, hit("troops", 2.5)),  # a tie: the earlier report's stays
                (other_lead, hit("bridge", 0.5)),
            ]
        )
    async with store.transaction() as tx:
        found = await tx.themes.of_stories(iter([story, other, unmatched, story, other + 99]))
        assert await tx.themes.of_stories([]) == {}
    assert sorted(found) == sorted([story, other])
    best = found[story]
    assert [(h.theme, h.score, h.article_id) for h in best] == [
        ("bridge", 3.0, second),
        ("alpha", 2.5, second),  # equal scores: by theme
        ("troops", 2.5, lead),
    ]
    assert [(h.why, h.explanation) for h in best] == [
        ("bridge at 3.0", {"theme": "bridge", "terms": [3.0]}),
        ("alpha at 2.5", {"theme": "alpha", "terms": [2.5]}),
        ("troops at 2.5", {"theme": "troops", "terms": [2.5]}),
    ]
    assert [(h.theme, h.score, h.article_id) for h in found[other]] == [("bridge", 0.5, other_lead)]


async def test_add_many_of_nothing_stores_nothing(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        _, story = await start_story(tx, feed_id, "e1")
        await tx.themes.add_many([])
    async with store.transaction() as tx:
        assert await tx.themes.of_stories([story]) == {}
        assert await tx.themes.matched_stories_since(NOW - 1000 * HOUR) == []


async def test_matched_stories_since_by_matched_article_fetched_in_the_window(
    store: Store, feed_id: int
) -> None:
    since = NOW - HOUR
    async with store.transaction() as tx:
        old_lead, old = await start_story(tx, feed_id, "w1", at=NOW - 5 * HOUR)
        _, revived = await start_story(tx, feed_id, "w2", at=NOW - 5 * HOUR)
        revived_late = await join_story(tx, feed_id, "w3", revived, at=since)
        edge_lead, edge = await start_story(tx, feed_id, "w4", at=since)
        edge_joiner = await join_story(tx, feed_id, "w5", edge, at=NOW)
        await start_story(tx, feed_id, "w6")  # unmatched
        [loose] = await tx.articles.insert_new([article("w7", feed_id)])  # in no story
        await tx.themes.add_many(
            [
                (old_lead, hit("bridge", 1.0)),
                (revived_late, hit("bridge", 1.0)),
                (edge_lead, hit("bridge", 1.0)),
                (edge_joiner, hit("troops", 1.0)),
                (loose.id, hit("bridge", 1.0)),
            ]
        )
    async with store.transaction() as tx:
        recent = await tx.themes.matched_stories_since(since.astimezone(TOKYO))
        everything = await tx.themes.matched_stories_since(NOW - 10 * HOUR)
    assert sorted(recent) == sorted([revived, edge])  # each once
    assert sorted(everything) == sorted([old, revived, edge])


# Outbox


async def test_stories_with_new_alert_are_those_with_a_new_entry_for_that_destination(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        lead, new = await start_story(tx, feed_id, "sa1")
        joiner = await join_story(tx, feed_id, "sa2", new)
        other_lead, update_only = await start_story(tx, feed_id, "sa3")
        elsewhere_lead, elsewhere = await start_story(tx, feed_id, "sa4")
        _, never = await start_story(tx, feed_id, "sa5")
        entries = [
            OutboxEntry("console", "new", new, lead),
            OutboxEntry("console", "update", new, joiner),
            OutboxEntry("console", "update", update_only, other_lead),
            OutboxEntry("slack:#news", "new", elsewhere, elsewhere_lead),
        ]
        assert await tx.outbox.enqueue(entries, NOW) == 4
    asked = [new, update_only, elsewhere, never, never + 100, new]
    async with store.transaction() as tx:
        assert await tx.outbox.stories_with_new_alert(iter(asked), "console") == {new}
        assert await tx.outbox.stories_with_new_alert(asked, "slack:#news") == {elsewhere}
        assert await tx.outbox.stories_with_new_alert(asked, "discord:1") == set()
        assert await tx.outbox.stories_with_new_alert([], "console") == set()


async def test_postpone_holds_a_claimed_entry_until_then_without_counting_the_claim(
    store: Store, feed_id: int
) -> None:
    until = NOW + 8 * HOUR
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "q1")
        held = await enqueue_one(tx, OutboxEntry("console", "new", story, lead))
        await tx.outbox.postpone(held, until)
    async with store.transaction() as tx:
        assert await tx.outbox.claim_due(until - timedelta(seconds=1), LEASE) == []
        [again] = await tx.outbox.claim_due(until.astimezone(TOKYO), LEASE)
        assert (again.outbox_id, again.redelivery) == (held, False)
        assert await tx.outbox.attempts(held) == 0
        assert await tx.outbox.count_by_status() == {PENDING: 1}
    async with store.transaction() as tx:  # a claim after that lease ran out may have posted
        [third] = await tx.outbox.claim_due(until + LEASE, LEASE)
        assert (third.outbox_id, third.redelivery) == (held, True)


async def test_mark_muted_settles_the_entry_without_sending_or_giving_up(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "mu1")
        muted = await enqueue_one(tx, OutboxEntry("console", "new", story, lead))
        await tx.outbox.mark_muted(muted, NOW)
    async with store.transaction() as tx:
        assert await tx.outbox.count_by_status() == {MUTED: 1}
        assert await tx.outbox.claim_due(NOW + 1000 * HOUR, LEASE) == []
        assert await tx.outbox.attempts(muted) == 0
        assert await tx.reports.dead_deliveries(NOW - HOUR) == []
        assert await tx.outbox.stories_with_new_alert([story], "console") == {story}
        # A later report of the story was never shown by the muted first post: it goes out.
        joiner = await join_story(tx, feed_id, "mu2", story, at=NOW + HOUR)
        update = OutboxEntry("console", "update", story, joiner)
        assert await tx.outbox.enqueue([update], NOW + HOUR) == 1
        [alert] = await tx.outbox.claim_due(NOW + HOUR, LEASE)
    assert (alert.kind, alert.superseded, alert.title) == ("update", False, "Title mu1")


# MuteRepository


async def test_mute_is_active_until_it_ends_in_that_destination_only(store: Store) -> None:
    until = NOW + 2 * HOUR
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", until.astimezone(TOKYO), "U1", NOW)
        await tx.mutes.mute("slack:#a", "troops", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("slack:#b", "bridge", NOW + 3 * HOUR, "U2", NOW)
    async with store.transaction() as tx:
        active = await tx.mutes.active("slack:#a", NOW)
        assert active == {"bridge": until, "troops": NOW + HOUR}
        assert all(end.utcoffset() == timedelta(0) for end in active.values())
        assert await tx.mutes.active("slack:#a", NOW + HOUR) == {"bridge": until}  # ends at `until`
        assert await tx.mutes.active("slack:#a", until) == {}
        assert await tx.mutes.active("discord:1", NOW) == {}


async def test_mute_again_replaces_the_earlier_mute(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", NOW + 5 * HOUR, "U1", NOW)
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", NOW + HOUR, "U2", NOW + HOUR / 2)
    async with store.transaction() as tx:
        assert await tx.mutes.active("slack:#a", NOW) == {"bridge": NOW + HOUR}
        assert await tx.mutes.active("slack:#a", NOW + 2 * HOUR) == {}


async def test_unmute_lifts_one_mute_and_says_whether_there_was_one(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("slack:#a", "troops", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("slack:#b", "bridge", NOW + HOUR, "U1", NOW)
    async with store.transaction() as tx:
        assert await tx.mutes.unmute("slack:#a", "bridge") is True
    async with store.transaction() as tx:
        assert await tx.mutes.unmute("slack:#a", "bridge") is False
        assert await tx.mutes.unmute("slack:#a", "unknown") is False
        assert await tx.mutes.active("slack:#a", NOW) == {"troops": NOW + HOUR}
        assert await tx.mutes.active("slack:#b", NOW) == {"bridge": NOW + HOUR}


async def test_unmute_of_an_expired_mute_still_removes_it(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", NOW - HOUR, "U1", NOW - 2 * HOUR)
        assert await tx.mutes.unmute("slack:#a", "bridge") is True
        assert await tx.mutes.unmute("slack:#a", "bridge") is False


async def test_muted_themes_per_asked_destination_with_active_mutes(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.mutes.mute("slack:#a", "bridge", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("slack:#a", "troops", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("slack:#a", "expired", NOW, "U1", NOW - HOUR)
        await tx.mutes.mute("slack:#b", "expired", NOW - HOUR, "U1", NOW - 2 * HOUR)
        await tx.mutes.mute("discord:1", "bridge", NOW + HOUR, "U1", NOW)
        await tx.mutes.mute("console", "bridge", NOW + HOUR, "U1", NOW)
    asked = ["slack:#a", "slack:#b", "discord:1", "nowhere", "slack:#a"]
    async with store.transaction() as tx:
        assert await tx.mutes.muted_themes(iter(asked), NOW) == {
            "slack:#a": {"bridge", "troops"},
            "discord:1": {"bridge"},
        }
        assert await tx.mutes.muted_themes(asked, NOW + HOUR) == {}
        assert await tx.mutes.muted_themes([], NOW) == {}


# Reports


async def test_latest_matched_story_ids_newest_first_by_first_seen(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        old_lead, old = await start_story(tx, feed_id, "l1", at=NOW - 3 * HOUR)
        _, via_joiner = await start_story(tx, feed_id, "l2", at=NOW - 2 * HOUR)
        joiner = await join_story(tx, feed_id, "l3", via_joiner, at=NOW + 5 * HOUR)
        tie_a_lead, tie_a = await start_story(tx, feed_id, "l4", at=NOW)
        tie_b_lead, tie_b = await start_story(tx, feed_id, "l5", at=NOW)
        await start_story(tx, feed_id, "l6", at=NOW + HOUR)  # the newest, but unmatched
        await tx.themes.add_many(
            [
                (old_lead, hit("troops", 1.0)),
                (joiner, hit("bridge", 1.0)),
                (tie_a_lead, hit("bridge", 1.0)),
                (tie_a_lead, hit("troops", 2.0)),
                (tie_b_lead, hit("troops", 1.0)),
            ]
        )
    async with store.transaction() as tx:
        assert await tx.reports.latest_matched_story_ids(10) == [tie_b, tie_a, via_joiner, old]
        assert await tx.reports.latest_matched_story_ids(2) == [tie_b, tie_a]
        assert await tx.reports.latest_matched_story_ids(10, "bridge") == [tie_a, via_joiner]
        assert await tx.reports.latest_matched_story_ids(10, "unknown") == []


async def test_troubled_feeds_list_failing_longest_first_then_disabled(store: Store) -> None:
    urls = [f"https://t{i}.example/feed" for i in range(7)]
    ids = [await add_feed(store, url) for url in urls]
    healthy, recent, oldest, no_since, by_hand, gone, dead = ids
    async with store.transaction() as tx:
        await tx.feeds.record_poll(healthy, polled(FeedStatus.OK, None, None))
        await tx.feeds.record_poll(recent, polled(FeedStatus.FAILING, "HTTP 500", NOW - HOUR))
        await tx.feeds.record_poll(oldest, polled(FeedStatus.FAILING, "timeout", NOW - 5 * HOUR))
        await tx.feeds.record_poll(no_since, polled(FeedStatus.FAILING, "DNS", None))
        assert await tx.feeds.set_enabled(by_hand, False, NOW)
        await tx.feeds.record_poll(
            gone,
            polled(FeedStatus.DISABLED, "HTTP 410", NOW - 72 * HOUR, disabled_reason="gone (410)"),
        )
        await tx.feeds.record_poll(dead, polled(FeedStatus.DISABLED, "HTTP 404", NOW - 48 * HOUR))
    async with store.transaction() as tx:
        trouble = await tx.reports.troubled_feeds(10)
        first_two = await tx.reports.troubled_feeds(2)

    def shown(feed: int, status: str, reason: str | None, since: datetime | None) -> FeedTrouble:
        return FeedTrouble("Example", urls[ids.index(feed)], status, reason, since)

    assert trouble == [
        shown(oldest, "failing", "timeout", NOW - 5 * HOUR),
        shown(recent, "failing", "HTTP 500", NOW - HOUR),
        shown(no_since, "failing", "DNS", None),
        shown(gone, "disabled", "gone (410)", NOW - 72 * HOUR),
        shown(dead, "disabled", "HTTP 404", NOW - 48 * HOUR),  # no reason: its last error
        shown(by_hand, "disabled", "disabled by an admin", None),
    ]
    assert first_two == trouble[:2]


async def test_troubled_feeds_are_none_when_all_are_ok(store: Store, feed_id: int) -> None:
    async with store.transaction() as tx:
        await tx.feeds.record_poll(feed_id, polled(FeedStatus.OK, None, None))
        assert await tx.reports.troubled_feeds(5) == []


async def test_last_polled_at_is_the_latest_poll_of_any_feed(store: Store, feed_id: int) -> None:
    other = await add_feed(store, "https://other.example/feed")
    async with store.transaction() as tx:
        assert await tx.reports.last_polled_at() is None
    async with store.transaction() as tx:
        await tx.feeds.record_poll(feed_id, polled(FeedStatus.OK, None, None))
        later = (NOW + HOUR).astimezone(TOKYO)
        await tx.feeds.record_poll(
            other, polled(FeedStatus.FAILING, "HTTP 500", NOW, last_polled_at=later)
        )
    async with store.transaction() as tx:
        last = await tx.reports.last_polled_at()
    assert last == NOW + HOUR and last is not None and last.utcoffset() == timedelta(0)


async def test_dead_deliveries_per_destination_most_affected_first(
    store: Store, feed_id: int
) -> None:
    since = NOW - 24 * HOUR
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "d0", at=since - HOUR)
        articles = [lead] + [await join_story(tx, feed_id, f"d{i}", story) for i in range(1, 4)]

        async def queued(destination: str, index: int, at: datetime = NOW) -> int:
            entry = OutboxEntry(
                destination, "new" if index == 0 else "update", story, articles[index]
            )
            return await enqueue_one(tx, entry, at)

        too_old = await queued("console", 0, since - timedelta(seconds=1))
        await tx.outbox.mark_failed(too_old, "long ago", None)
        for destination, errors in [
            ("slack:#b", ["not_in_channel", "channel_not_found"]),
            ("discord:1", ["Missing Access", "Unknown Channel"]),
            ("slack:#a", ["rate limited"]),
        ]:
            for index, error in enumerate(errors, start=1):
                await tx.outbox.mark_failed(await queued(destination, index), error, None)
        edge = await queued("console", 1, since)
        await tx.outbox.mark_failed(edge, "HTTP 500", NOW)  # failed once, then given up:
        await tx.outbox.mark_failed(edge, "HTTP 503", None)
        await tx.outbox.mark_sent(await queued("console", 2), "m-1", NOW)
        await tx.outbox.mark_muted(await queued("console", 3), NOW)
        await queued("slack:#a", 2)  # still pending
    async with store.transaction() as tx:
        dead = await tx.reports.dead_deliveries(since.astimezone(TOKYO))
        assert await tx.reports.dead_deliveries(NOW + timedelta(seconds=1)) == []
        assert (await tx.outbox.count_by_status()) == {DEAD: 7, SENT: 1, MUTED: 1, PENDING: 1}
    assert dead == [
        DeadDeliveries("discord:1", 2, "Unknown Channel"),
        DeadDeliveries("slack:#b", 2, "channel_not_found"),
        DeadDeliveries("console", 1, "HTTP 503"),
        DeadDeliveries("slack:#a", 1, "rate limited"),
    ]


# AuditLog


def entry(at: datetime, action: str, outcome: str = "ok") -> AuditEntry:
    """An admin action by Ana in #ops."""
    return AuditEntry(at, "slack", "U01", "Ana", "slack:#ops", action, "tumen", "detail", outcome)


async def test_audit_record_returns_new_ids_and_recent_reads_them_back(store: Store) -> None:
    written = [
        entry(NOW, "watch add"),
        entry(NOW + HOUR, "feeds add", "refused"),
        entry(NOW, "watch undo", "invalid"),  # same time as the first: the later id first
        entry(NOW - HOUR, "mute"),
        entry((NOW + HOUR / 2).astimezone(TOKYO), "feeds remove", "failed"),
    ]
    async with store.transaction() as tx:
        ids = [await tx.audit.record(e) for e in written]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = [replace(e, id=i) for e, i in zip(written, ids, strict=True)]
    async with store.transaction() as tx:
        recent = await tx.audit.recent()
        assert await tx.audit.recent(2) == [stored[1], stored[4]]
    assert recent == [stored[1], stored[4], stored[2], stored[0], stored[3]]
    assert all(e.at.utcoffset() == timedelta(0) for e in recent)


async def test_audit_recent_of_an_empty_log_is_empty(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.audit.recent() == []
        await tx.audit.record(entry(NOW, "watch add"))
        assert await tx.audit.recent(0) == []
        assert len(await tx.audit.recent()) == 1


async def test_claim_due_leaves_the_skipped_destinations_and_names_the_claimer(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        lead, story = await start_story(tx, feed_id, "skip")
        entries = [OutboxEntry(d, "new", story, lead) for d in ("slack:BUSY", "slack:IDLE")]
        assert await tx.outbox.enqueue(entries, NOW) == 2
    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_due(NOW, LEASE, 10, {"slack:BUSY"}, by="me")
    async with store.transaction() as tx:
        later = await tx.outbox.claim_due(NOW, LEASE, 10)
    assert [alert.destination for alert in claimed] == ["slack:IDLE"]
    assert [alert.destination for alert in later] == ["slack:BUSY"]  # still due, never taken
