"""What the watchlist preview and the trends read, on SQLite and real PostgreSQL:
`articles.published_since` and `themes.new_stories_per_day`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.commands.model import ThemeInfo
from bot.core.records import NewStory, StoryFilter
from bot.core.trends import load_trends
from storage.browse import _next_chunk
from storage.engine import Store
from storage.transaction import SqlTransaction
from tests.storage.test_contract import NOW, add_feed, article
from tests.storage.test_repositories import hit

DAY = timedelta(days=1)
SEOUL = ZoneInfo("Asia/Seoul")  # UTC+9: a late-evening Seoul time is still the UTC day before


@pytest.fixture
async def feed_id(store: Store) -> int:
    """One stored feed for the test's articles."""
    return await add_feed(store)


async def report(
    tx: SqlTransaction, feed_id: int, key: str, at: datetime, story: int | None, *themes: str
) -> int:
    """Store an article published (and fetched) at `at`, in `story` (a new one if None),
    matching `themes`; its story's id."""
    [stored] = await tx.articles.insert_new(
        [article(key, feed_id, f"Title {key}", published_at=at, fetched_at=at)]
    )
    if story is None:
        [story] = await tx.stories.create_many([NewStory(key, stored.id, key.encode())], at)
        await tx.articles.set_stories([(stored.id, story, None)])
    else:
        await tx.articles.set_stories([(stored.id, story, key.encode())])
    await tx.themes.add_many((stored.id, hit(theme, 2.0)) for theme in themes)
    return story


async def test_published_since_lists_the_window_newest_first_up_to_the_limit(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        for hours in (1, 30, 200, 5):  # 200 hours ago is outside a 7-day window
            at = NOW - timedelta(hours=hours)
            await tx.articles.insert_new([article(f"a{hours}", feed_id, published_at=at)])
        week = await tx.articles.published_since(NOW - 7 * DAY, 10)
        newest_two = await tx.articles.published_since(NOW - 7 * DAY, 2)

    assert [a.item_key for a in week] == ["a1", "a5", "a30"]
    assert [a.item_key for a in newest_two] == ["a1", "a5"]
    assert week[0].summary == "Summary of Title" and week[0].published_at == NOW - timedelta(
        hours=1
    )


async def test_texts_published_since_are_published_sinces_articles_by_id_title_and_summary(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        for hours in (1, 30, 200, 5):
            at = NOW - timedelta(hours=hours)
            await tx.articles.insert_new(
                [article(f"a{hours}", feed_id, f"T{hours}", published_at=at)]
            )
        whole = await tx.articles.published_since(NOW - 7 * DAY, 2)
        texts = await tx.articles.texts_published_since(NOW - 7 * DAY, 2)
        by_id = await tx.articles.get_many([whole[1].id, whole[0].id, 999_999])

    assert [(t.id, t.title, t.summary) for t in texts] == [
        (a.id, a.title, a.summary) for a in whole
    ]
    assert [t.title for t in texts] == ["T1", "T5"]
    assert by_id == {a.id: a for a in whole}  # an id not stored is left out


async def test_keys_published_since_are_published_sinces_articles_with_the_stamps_texts_of_gives(
    store: Store, feed_id: int
) -> None:
    async with store.transaction() as tx:
        for n, hours in enumerate((1, 30, 200, 5, 5)):
            at = NOW - timedelta(hours=hours)
            await tx.articles.insert_new([article(f"a{n}", feed_id, f"T{n}", published_at=at)])
        whole = await tx.articles.published_since(NOW - 7 * DAY, 3)
        keys = await tx.articles.keys_published_since(NOW - 7 * DAY, 3)
        texts = await tx.articles.texts_of([key[0] for key in keys] + [999_999])
        none = await tx.articles.keys_published_since(NOW + DAY, 3)

    assert [id_ for id_, _ in keys] == [a.id for a in whole]  # the newest first, ties by id
    assert [a.title for a in whole] == ["T0", "T4", "T3"]
    stamps = dict(keys)
    # Each article's text with the stamp its key has; an id not stored is left out.
    assert sorted((t.id, t.title, t.summary, stamp) for t, stamp in texts) == sorted(
        (a.id, a.title, a.summary, stamps[a.id]) for a in whole
    )
    assert none == []


async def test_a_story_counts_once_per_theme_on_the_day_of_its_first_report_of_it(
    store: Store, feed_id: int
) -> None:
    start = NOW.replace(hour=0) - 3 * DAY  # the window: three whole UTC days
    first, second = start + timedelta(hours=10), start + DAY + timedelta(hours=10)
    async with store.transaction() as tx:
        one = await report(tx, feed_id, "one", first, None, "troops")
        await report(tx, feed_id, "one-later", second, one, "troops", "summits")
        await report(tx, feed_id, "two", first, None, "troops")
        await report(tx, feed_id, "quiet", first, None)  # matched nothing
        old = await report(tx, feed_id, "old", start - DAY, None, "troops")  # began before
        await report(tx, feed_id, "old-later", second, old, "troops")
        await report(tx, feed_id, "after", NOW + DAY, None, "troops")  # after the window
        counts = await tx.themes.new_stories_per_day(start, start + 3 * DAY)

    assert counts == [
        (first.date(), "troops", 2),
        (second.date(), "summits", 1),
    ]


async def test_days_are_utc_days_whatever_zone_the_time_was_given_in(
    store: Store, feed_id: int
) -> None:
    midnight = NOW.replace(hour=0)  # a UTC midnight
    late = (midnight - timedelta(minutes=1)).astimezone(SEOUL)  # 08:59 in Seoul, the next day
    early = (midnight + timedelta(minutes=1)).astimezone(SEOUL)
    async with store.transaction() as tx:
        await report(tx, feed_id, "late", late, None, "troops")
        await report(tx, feed_id, "early", early, None, "troops")
        counts = await tx.themes.new_stories_per_day(midnight - DAY, midnight + DAY)

    before: date = (midnight - DAY).date()
    assert counts == [(before, "troops", 1), (midnight.date(), "troops", 1)]


async def test_no_stories_no_rows(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.themes.new_stories_per_day(NOW - 30 * DAY, NOW) == []
        assert await tx.articles.published_since(NOW - 30 * DAY, 10) == []


async def test_the_trends_count_the_stored_stories_day_by_day(store: Store, feed_id: int) -> None:
    today = NOW.date()
    yesterday = NOW - DAY
    async with store.transaction() as tx:
        one = await report(tx, feed_id, "one", yesterday, None, "troops")
        await report(tx, feed_id, "one-today", NOW, one, "troops")  # the same story: once
        await report(tx, feed_id, "two", NOW, None, "troops", "summits")
        await report(tx, feed_id, "three", NOW - 40 * DAY, None, "summits")  # before the window
    themes = [ThemeInfo("troops", "Troops"), ThemeInfo("summits", "Summits"), ThemeInfo("un", "UN")]

    trends = await load_trends(store, themes, today, 30)

    counts = {series.slug: series.counts for series in trends.series}
    assert trends.days[-1] == today and len(trends.days) == 30
    assert counts == {
        "troops": (0,) * 28 + (1, 1),
        "summits": (0,) * 29 + (1,),
        "un": (0,) * 30,  # no story at all: a line at zero
    }
    with pytest.raises(ValueError, match="1 to 366 days"):
        await load_trends(store, themes, today, 400)


async def test_only_an_earlier_report_of_the_same_theme_makes_a_story_older_than_the_window(
    store: Store, feed_id: int
) -> None:
    start = NOW.replace(hour=0) - 3 * DAY
    inside = start + DAY
    async with store.transaction() as tx:
        quiet = await report(
            tx, feed_id, "quiet", start - DAY, None
        )  # began before, matching nothing
        await report(tx, feed_id, "quiet-later", inside, quiet, "troops")
        other = await report(tx, feed_id, "other", start - DAY, None, "summits")
        await report(tx, feed_id, "other-later", inside, other, "troops", "summits")
        counts = await tx.themes.new_stories_per_day(start, start + 3 * DAY)

    assert counts == [(inside.date(), "troops", 2)]  # summits began before the window


def test_the_walk_reads_on_as_many_reports_as_the_stories_still_wanted_took_so_far() -> None:
    # 19 of 26 stories in the first 400 reports: 7 more want ~150 reports; half again, at least
    # the first slice's size (not four times it, which checked four times the candidates).
    assert _next_chunk(400, 400, 19, 26) == 400
    assert _next_chunk(400, 400, 2, 26) == 1_600  # a rare filter: at most four times
    assert _next_chunk(400, 400, 0, 26) == 1_600  # none found yet
    assert _next_chunk(25_600, 60_000, 0, 26) == 25_600  # never more than the most
    assert _next_chunk(400, 1_200, 8, 26) == 1_600


async def test_a_filter_that_keeps_one_story_in_twenty_pages_through_several_slices(
    store: Store, feed_id: int
) -> None:
    start = NOW - 30 * DAY
    stories = []
    async with store.transaction() as tx:
        for n in range(1_000):
            themes = ["troops"] if n % 20 == 7 else []
            at = start + n * timedelta(minutes=30)
            stories.append(await report(tx, feed_id, f"s{n}", at, None, *themes))
    wanted = StoryFilter(theme="troops")
    expected = [story for n, story in reversed(list(enumerate(stories))) if n % 20 == 7]

    async with store.transaction() as tx:
        first = await tx.browse.story_page(wanted, None, 26)
        second = await tx.browse.story_page(wanted, first[-1][1], 26)

    assert [story for story, _ in first + second] == expected
