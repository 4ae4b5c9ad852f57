"""The delivery worker tells the adapter how the destination hears of updates (its routes)."""

from __future__ import annotations

import pytest

from bot.core.delivery import deliver_due
from bot.core.models import DeliveryReceipt, NewArticle
from bot.core.routing import Route
from storage import outbox as outbox_repo
from storage.engine import Store
from tests.core.test_delivery import Clock, ScriptedAdapter, Stories


@pytest.fixture
def stories(store: Store) -> Stories:
    return Stories(store)


async def test_update_carries_the_routes_style_and_its_report(
    store: Store, stories: Stories
) -> None:
    story_id = await stories.story("Air defence deal", ["Wire"])
    await stories.queue(story_id, "new")
    adapter = ScriptedAdapter([DeliveryReceipt("m-1"), DeliveryReceipt("m-2")])
    clock = Clock()
    routes = (Route("fake", themes=None, updates="thread"),)
    await deliver_due(store, {"fake": adapter}, clock, routes=routes)

    clock.advance(600)  # another outlet reports the story later
    async with store.transaction() as conn:
        [article] = await conn.articles.insert_new([
                NewArticle(
                    feed_id=stories.feed_id, item_key="late", guid=None,
                    url="https://herald.example/late", title="Deal signed", summary="",
                    published_at=clock.now, fetched_at=clock.now, content_hash="late",
                    source_name="Herald", image_url="https://img.herald.example/d.jpg",
                )
            ],
        )  # fmt: skip
        await conn.articles.set_story(article.id, story_id)
        await conn.outbox.enqueue(
            [outbox_repo.OutboxEntry("fake", "update", story_id, article.id)], clock.now
        )
    report = await deliver_due(store, {"fake": adapter}, clock, routes=routes)

    assert report.sent == 1
    first, update = adapter.calls
    assert first.updates == "thread" and first.report is None
    assert (update.kind, update.remote_id, update.updates) == ("update", "m-1", "thread")
    assert update.report is not None
    assert (update.report.title, update.report.source_name) == ("Deal signed", "Herald")
    assert update.report.image_url == "https://img.herald.example/d.jpg"
