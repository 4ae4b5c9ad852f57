"""Retention keeps every story that stays whole: a lead that exists, alerts that render."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.core.records import DEAD, PENDING, OutboxEntry
from storage.engine import Store
from storage.schema import articles, outbox, stories
from storage.transaction import SqlTransaction
from tests.storage.test_contract import NOW
from tests.storage.test_repositories import LEASE, feed_id, join_story, start_story

__all__ = ["feed_id"]  # the fixture, re-used from test_repositories

DAY = timedelta(days=1)
CUTOFF = NOW - 90 * DAY  # the default NKRU_RETENTION of 90 days


async def purge(store: Store) -> None:
    """Retention as the scheduler runs it: articles, then stories, in one transaction."""
    async with store.transaction() as tx:
        await tx.articles.purge_fetched_before(CUTOFF)
        await tx.stories.purge_seen_before(CUTOFF)


async def lead_of(tx: SqlTransaction, story_id: int) -> int | None:
    """The stored lead article id of a story, whatever it points to."""
    stmt = select(stories.c.lead_article_id).where(stories.c.id == story_id)
    found = (await tx.connection.execute(stmt)).scalar_one()
    return None if found is None else int(found)


async def story_updated_today(tx: SqlTransaction, feed_id: int, key: str) -> tuple[int, int, int]:
    """A story led by a report fetched 100 days ago whose "new" alert was sent then, with a
    second report today: (old lead, story, today's report)."""
    lead, story = await start_story(tx, feed_id, key, source="Old Wire", at=NOW - 100 * DAY)
    await tx.outbox.enqueue([OutboxEntry("console", "new", story, lead)], NOW - 100 * DAY)
    [sent] = await tx.outbox.claim_due(NOW - 100 * DAY, LEASE)
    await tx.outbox.mark_sent(sent.outbox_id, "remote-1", NOW - 100 * DAY)
    today = await join_story(tx, feed_id, f"{key}-today", story, source="Today Wire", at=NOW)
    return lead, story, today


async def test_purge_moves_the_lead_of_a_story_that_stays_to_its_oldest_remaining_report(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        _, story, _ = await story_updated_today(tx, feed_id, "r1")
        older = await join_story(tx, feed_id, "r1-older", story, source="Mid Wire", at=NOW - DAY)
        kept_lead, kept = await start_story(tx, feed_id, "r2", at=NOW - DAY)
        await join_story(tx, feed_id, "r2-joined", kept, at=NOW - 100 * DAY)  # purged, not lead
        await tx.stories.attach_many([kept], NOW)  # seen today (join_story set it 100 days back)
    await purge(store)
    async with store.transaction() as tx:
        [view] = await tx.stories.views([story])
        assert (view.story.lead_article_id, view.story.title) == (older, "Title r1-older")
        assert (view.url, view.source_name) == ("https://news.example/r1-older", "Mid Wire")
        assert view.outlets == ["Mid Wire", "Today Wire"]
        assert story in {v.story.id for v in await tx.stories.latest(since=NOW - 200 * DAY)}
        [unmoved] = await tx.stories.views([kept])  # its lead stayed: nothing changes
        assert (unmoved.story.lead_article_id, unmoved.story.title) == (kept_lead, "Story r2")


async def test_an_update_of_a_story_whose_lead_was_purged_is_claimed_and_rendered(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        _, story, today = await story_updated_today(tx, feed_id, "u1")
    await purge(store)
    async with store.transaction() as tx:
        await tx.outbox.enqueue([OutboxEntry("console", "update", story, today)], NOW)
        [alert] = await tx.outbox.claim_due(NOW, LEASE)
    assert (alert.kind, alert.story_id, alert.title) == ("update", story, "Title u1-today")
    assert (alert.source_name, alert.also_reported_by, alert.remote_id) == ("Today Wire", [], None)


async def test_purge_repairs_a_lead_an_earlier_purge_left_dangling(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        old_lead, story, today = await story_updated_today(tx, feed_id, "d1")
        # What retention did before leads were moved: the lead is gone, the story stays.
        await tx.connection.execute(delete(articles).where(articles.c.id == old_lead))
    await purge(store)
    async with store.transaction() as tx:
        assert await lead_of(tx, story) == today
        [view] = await tx.stories.views([story])
        assert view.story.title == "Title d1-today"


async def test_purge_leaves_no_dangling_lead_on_a_story_with_no_report_left(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        _, story = await start_story(tx, feed_id, "e1", at=NOW - 100 * DAY)
        await tx.stories.attach_many([story], NOW)  # seen again, by a report not kept
    await purge(store)
    async with store.transaction() as tx:
        assert await lead_of(tx, story) is None
        assert await tx.stories.ids_seen_since(CUTOFF) == [story]
        assert await tx.stories.views([story]) == []  # nothing to show it by


async def test_claim_due_gives_up_on_an_alert_it_cannot_render_and_claims_the_others(
    store: Store, feed_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with store.transaction() as tx:
        old_lead, broken, today = await story_updated_today(tx, feed_id, "b1")
        # A database damaged by retention before this fix: no lead, no "new" entry to head by.
        await tx.connection.execute(delete(articles).where(articles.c.id == old_lead))
        before_lead, before = await start_story(tx, feed_id, "b0")
        after_lead, after = await start_story(tx, feed_id, "b2")
        await tx.outbox.enqueue([OutboxEntry("console", "new", before, before_lead)], NOW)
        await tx.outbox.enqueue([OutboxEntry("console", "update", broken, today)], NOW)
        await tx.outbox.enqueue([OutboxEntry("console", "new", after, after_lead)], NOW)
    with caplog.at_level(logging.ERROR, logger="storage.outbox"):
        async with store.transaction() as tx:
            claimed = await tx.outbox.claim_due(NOW, LEASE)
    assert [alert.story_id for alert in claimed] == [before, after]
    async with store.transaction() as tx:
        rows = await tx.connection.execute(select(outbox.c.story_id, outbox.c.status))
        statuses = {story_id: status for story_id, status in rows}
        assert statuses == {before: PENDING, broken: DEAD, after: PENDING}
        error = (await tx.connection.execute(select(outbox.c.last_error))).scalars().all()
        again = await tx.outbox.claim_due(NOW + 2 * LEASE, LEASE)  # the lease ran out
    assert [alert.story_id for alert in again] == [before, after]
    reason = f"story #{broken} has no headline article"
    assert sum(reason in (text or "") for text in error) == 1
    assert reason in caplog.text
