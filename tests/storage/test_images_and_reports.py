"""Pictures are stored with their article; an update's alert names the report it is about.

Runs on SQLite and, with NKRU_TEST_DATABASE_URL, on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

from storage import outbox
from storage.engine import Store
from tests.storage.test_contract import NOW, add_feed, article


async def test_image_url_round_trips_and_reaches_the_alert(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as conn:
        lead, later, plain = await conn.articles.insert_new(
            [
                article("i1", feed_id, "Bridge opens", image_url="https://img.example/1.jpg"),
                article(
                    "i2",
                    feed_id,
                    "Bridge opened to traffic",
                    source_name="Other Wire",
                    url="https://other.example/b",
                    image_url="https://img.example/2.png",
                ),
                article("i3", feed_id, "No picture"),
            ]
        )
        assert (lead.image_url, plain.image_url) == ("https://img.example/1.jpg", None)
        stored = await conn.articles.get(later.id)
        assert stored is not None and stored.image_url == "https://img.example/2.png"
        story_id = await conn.stories.create(
            title="Bridge opens", lead_article_id=lead.id, seen_at=NOW, signature=b"s"
        )
        for item in (lead, later):
            await conn.articles.set_story(item.id, story_id)
        await conn.outbox.enqueue(
            [
                outbox.OutboxEntry("slack:C1", "new", story_id, lead.id),
                outbox.OutboxEntry("slack:C1", "update", story_id, later.id),
            ],
            NOW,
        )
        new, update = await conn.outbox.due(NOW)
    assert (new.image_url, new.report) == ("https://img.example/1.jpg", None)
    assert update.image_url == "https://img.example/1.jpg"  # the headline's picture stays
    assert update.report is not None
    assert (update.report.title, update.report.url, update.report.source_name) == (
        "Bridge opened to traffic",
        "https://other.example/b",
        "Other Wire",
    )
    assert update.report.image_url == "https://img.example/2.png"
    assert update.report.published_at == NOW
