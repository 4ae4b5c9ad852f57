"""`story_themes` (storage.theme_starts), on SQLite and real PostgreSQL: after every write that
can change a story's first report of a theme, the table equals a recount from the reports."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.core.records import NewStory
from storage.engine import Store
from storage.schema import article_themes, articles, story_themes
from storage.transaction import SqlTransaction
from tests.storage.test_contract import NOW, add_feed, article
from tests.storage.test_repositories import hit
from tests.storage.test_search_vectors import migrate

THEMES = ("troops", "summits", "un-veto")
Pairs = dict[tuple[int, str], datetime]


async def recount(tx: SqlTransaction) -> Pairs:
    """Each (story, theme) with its first matching report's time, from the reports themselves."""
    stmt = select(articles.c.story_id, article_themes.c.theme, articles.c.published_at).join(
        article_themes, article_themes.c.article_id == articles.c.id
    )
    firsts: Pairs = {}
    for story_id, theme, published in (await tx.connection.execute(stmt)).all():
        if story_id is not None:
            key = (int(story_id), str(theme))
            firsts[key] = min(published, firsts.get(key, published))
    return firsts


async def stored(tx: SqlTransaction) -> Pairs:
    """What story_themes holds."""
    rows = (await tx.connection.execute(select(story_themes))).all()
    return {(int(story), str(theme)): first for story, theme, first in rows}


def per_day(firsts: Pairs, since: datetime, until: datetime) -> list[tuple[date, str, int]]:
    """The trends' rows as the definition gives them from the firsts."""
    days = Counter(
        (first.astimezone(UTC).date(), theme)
        for (_, theme), first in firsts.items()
        if since <= first < until
    )
    return sorted((day, theme, count) for (day, theme), count in days.items())


class Reports:
    """Random reports: new stories, later (and earlier) reports of stored ones, themes or none."""

    def __init__(self, feed_id: int, seed: int) -> None:
        self.feed_id, self.rng, self.made = feed_id, random.Random(seed), 0

    async def add(self, tx: SqlTransaction, stories: list[int], count: int) -> None:
        """Store `count` reports, each in a new story or a stored one, with 0-2 themes."""
        for _ in range(count):
            self.made += 1
            key = f"r{self.made}"
            at = NOW - timedelta(hours=self.rng.randrange(24 * 20))
            fetched = NOW - timedelta(hours=self.rng.randrange(24 * 20))
            new = article(key, self.feed_id, key, published_at=at, fetched_at=fetched)
            [one] = await tx.articles.insert_new([new])
            if stories and self.rng.random() < 0.6:
                story = self.rng.choice(stories)
                await tx.articles.set_stories([(one.id, story, key.encode())])
            else:
                [story] = await tx.stories.create_many([NewStory(key, one.id, b"s")], at)
                await tx.articles.set_stories([(one.id, story, None)])
                stories.append(story)
            themes = self.rng.sample(THEMES, self.rng.choice((0, 1, 1, 2)))
            await tx.themes.add_many((one.id, hit(theme, 2.0)) for theme in themes)


async def test_the_table_equals_a_recount_after_ingest_moves_and_retention(store: Store) -> None:
    reports = Reports(await add_feed(store), seed=17)
    stories: list[int] = []
    for step in range(6):
        async with store.transaction() as tx:
            await reports.add(tx, stories, 25)
            assert await stored(tx) == await recount(tx), f"after ingest {step}"
            ids = (await tx.connection.execute(select(articles.c.id))).scalars().all()
            moved = random.Random(step).sample(list(ids), 3)
            await tx.articles.set_stories([(i, stories[i % len(stories)], None) for i in moved])
            assert await stored(tx) == await recount(tx), f"after moves {step}"
        async with store.transaction() as tx:
            purged = await tx.articles.purge_fetched_before(NOW - timedelta(days=18 - 2 * step))
            assert purged > 0 and await stored(tx) == await recount(tx), f"retention {step}"
            await tx.stories.purge_seen_before(NOW - timedelta(days=19 - step))
            assert await stored(tx) == await recount(tx), f"story retention {step}"
            alive = select(text("id")).select_from(text("stories"))
            stories[:] = (await tx.connection.execute(alive)).scalars().all()
            since, until = NOW - timedelta(days=9), NOW + timedelta(days=1)
            rows = await tx.themes.new_stories_per_day(since, until)
            assert rows and rows == per_day(await recount(tx), since, until)


async def test_a_report_published_before_a_storys_first_moves_its_day_back(store: Store) -> None:
    feed_id = await add_feed(store)
    async with store.transaction() as tx:
        [lead] = await tx.articles.insert_new([article("lead", feed_id, published_at=NOW)])
        [story] = await tx.stories.create_many([NewStory("lead", lead.id, b"s")], NOW)
        await tx.articles.set_stories([(lead.id, story, None)])
        await tx.themes.add_many([(lead.id, hit("troops", 2.0))])
        early = NOW - timedelta(days=2)  # fetched now, published two days before the lead
        [late] = await tx.articles.insert_new([article("late", feed_id, published_at=early)])
        await tx.articles.set_stories([(late.id, story, b"j")])
        await tx.themes.add_many([(late.id, hit("troops", 3.0))])
        rows = await tx.themes.new_stories_per_day(NOW - timedelta(days=5), NOW + timedelta(1))

    assert rows == [(early.date(), "troops", 1)]


@pytest.mark.parametrize("drop", [True, False], ids=["migrated", "current"])
async def test_migration_0016_fills_the_table_from_the_stored_themes(
    store: Store, drop: bool
) -> None:
    reports = Reports(await add_feed(store), seed=5)
    async with store.transaction() as tx:
        await reports.add(tx, [], 40)
        expected = await recount(tx)
    assert expected
    if drop:  # a database of the release before: no table, at revision 0015
        async with store.engine.begin() as conn:
            await conn.run_sync(migrate, "downgrade", "0015")

    again = await Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        async with again.transaction() as tx:
            assert await stored(tx) == expected
    finally:
        await again.close()
