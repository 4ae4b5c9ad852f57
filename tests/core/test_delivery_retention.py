"""Retention and delivery together: the scheduler's real jobs, real storage (both backends)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.pipeline import PollContext
from bot.core.records import DEAD, SENT, NewFeed, NewStory, OutboxEntry
from bot.core.scheduling import BotScheduler, ScheduleConfig
from storage.engine import Store
from storage.schema import articles, outbox
from tests.core.test_delivery import NOW, Clock, Row, row
from tests.fakes.recording_adapter import RecordingAdapter
from tests.storage.test_contract import article

DAY = timedelta(days=1)


async def story_updated_today(store: Store, key: str) -> tuple[int, int, int]:
    """A story led by a report fetched 100 days ago whose "new" alert went out then, a second
    report today and its update queued: (old lead, story, update's outbox id)."""
    long_ago = NOW - 100 * DAY
    async with store.transaction() as tx:
        feed = await tx.feeds.add(NewFeed(f"https://{key}.example/rss", key, 600), long_ago)
        [lead] = await tx.articles.insert_new(
            [article(f"{key}-1", feed.id, f"{key} first", fetched_at=long_ago)]
        )
        [story] = await tx.stories.create_many([NewStory(lead.title, lead.id, b"s")], long_ago)
        await tx.articles.set_stories([(lead.id, story, None)])
        await tx.outbox.enqueue([OutboxEntry("rec", "new", story, lead.id)], long_ago)
        [first] = await tx.outbox.claim_due(long_ago, timedelta(minutes=5))
        await tx.outbox.mark_sent(first.outbox_id, "remote-1", long_ago)
        [today] = await tx.articles.insert_new(
            [article(f"{key}-2", feed.id, f"{key} today", source_name="Today Wire")]
        )
        await tx.articles.set_stories([(today.id, story, b"j")])
        await tx.stories.attach_many([story], NOW)
        await tx.outbox.enqueue([OutboxEntry("rec", "update", story, today.id)], NOW)
        update = (
            await tx.connection.execute(select(outbox.c.id).where(outbox.c.kind == "update"))
        ).scalar_one()
    return lead.id, story, int(update)


async def fresh_story(store: Store, key: str) -> int:
    """A story first reported today with its "new" alert queued: the alert's outbox id."""
    async with store.transaction() as tx:
        feed = await tx.feeds.add(NewFeed(f"https://{key}.example/rss", key, 600), NOW)
        [lead] = await tx.articles.insert_new([article(f"{key}-1", feed.id, f"{key} news")])
        [story] = await tx.stories.create_many([NewStory(lead.title, lead.id, b"f")], NOW)
        await tx.articles.set_stories([(lead.id, story, None)])
        await tx.outbox.enqueue([OutboxEntry("rec", "new", story, lead.id)], NOW)
        entry = (
            await tx.connection.execute(select(outbox.c.id).where(outbox.c.article_id == lead.id))
        ).scalar_one()
    return int(entry)


def bot(store: Store, fetcher: FeedFetcher, adapter: RecordingAdapter) -> BotScheduler:
    """The scheduler's jobs, run by hand at NOW (never started)."""
    ctx = PollContext(store, fetcher, clock=Clock())
    return BotScheduler(ctx, {"rec": adapter}, ScheduleConfig(retention=90 * DAY))


async def test_retention_then_delivery_sends_the_update_of_a_story_whose_lead_was_purged(
    store: Store, fetcher: FeedFetcher
) -> None:
    _, story, update = await story_updated_today(store, "bridge")
    other = await fresh_story(store, "rail")
    adapter = RecordingAdapter()
    scheduler = bot(store, fetcher, adapter)

    await scheduler.purge()
    await scheduler.deliver()

    assert sorted(alert.outbox_id for alert in adapter.sent) == sorted([update, other])
    [sent_update] = [alert for alert in adapter.sent if alert.outbox_id == update]
    assert (sent_update.story_id, sent_update.title) == (story, "bridge today")
    assert (await row(store, update)).status == (await row(store, other)).status == SENT


async def test_an_alert_that_cannot_be_rendered_is_given_up_and_the_batch_is_delivered(
    store: Store, fetcher: FeedFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    before = await fresh_story(store, "before")
    lead, story, broken = await story_updated_today(store, "broken")
    after = await fresh_story(store, "after")
    async with store.transaction() as tx:
        # A database where retention ran before this fix: the lead and its "new" entry are gone.
        await tx.connection.execute(delete(articles).where(articles.c.id == lead))
    adapter = RecordingAdapter()

    await bot(store, fetcher, adapter).deliver()

    assert [alert.outbox_id for alert in adapter.sent] == [before, after]
    given_up: Row = await row(store, broken)
    assert given_up.status == DEAD and given_up.last_error is not None
    assert given_up.last_error.startswith(f"cannot render the alert: story #{story} has no")
    assert f"alert #{broken} to rec given up" in caplog.text
    assert [r.levelno for r in caplog.records if "given up" in r.getMessage()] == [logging.ERROR]
