"""Retention keeps every story that stays whole: a lead that exists, alerts that render."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.core.records import DEAD, PENDING, OutboxEntry
from storage.engine import Store
from storage.schema import articles, outbox
from storage.transaction import SqlTransaction
from tests.storage.test_contract import NOW
from tests.storage.test_repositories import LEASE, feed_id, join_story, start_story

__all__ = ["feed_id"]  # the fixture, re-used from test_repositories

DAY = timedelta(days=1)


async def story_updated_today(tx: SqlTransaction, feed_id: int, key: str) -> tuple[int, int, int]:
    """A story led by a report fetched 100 days ago whose "new" alert was sent then, with a
    second report today: (old lead, story, today's report)."""
    lead, story = await start_story(tx, feed_id, key, source="Old Wire", at=NOW - 100 * DAY)
    await tx.outbox.enqueue([OutboxEntry("console", "new", story, lead)], NOW - 100 * DAY)
    [sent] = await tx.outbox.claim_due(NOW - 100 * DAY, LEASE)
    await tx.outbox.mark_sent(sent.outbox_id, "remote-1", NOW - 100 * DAY)
    today = await join_story(tx, feed_id, f"{key}-today", story, source="Today Wire", at=NOW)
    return lead, story, today


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
