"""The preview of a watchlist draft: what it would newly match and stop matching among the
stored articles of the last days, with the real matcher's explanations, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from bot.core.models import Article, NewArticle, ThemeHit
from bot.core.records import NewFeed
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist.model import Watchlist, WatchlistError
from bot.core.watchlist_editing.document import add_terms, delete_theme
from bot.core.watchlist_editing.live import LiveWatchlist, compile_matcher
from bot.core.watchlist_editing.preview import compare, preview_draft
from storage.engine import Store
from tests.watchlist_editing.harness import WATCHLIST, open_live, watchlist_folder

FEED = "https://wire.example/rss"
TEXT = WATCHLIST.read_text(encoding="utf-8")
NOW = datetime.now(UTC)
PONTOON = "Russia and North Korea open pontoon crossing"  # no theme until "pontoon crossing"
TROOPS = "North Korean troops deployed to Russia's Kursk region"  # troops, through "Kursk"
TUMEN = "Russia and North Korea break ground on Tumen River road bridge"  # tumen-bridge
# Adds "pontoon crossing" to tumen-bridge, and makes "Kursk" an exclusion of troops.
DRAFT = add_terms(
    add_terms(TEXT, "tumen-bridge", ["pontoon crossing"]), "troops", ["Kursk"], "exclude"
)


async def store_articles(store: Store, *titles: tuple[str, timedelta], key: str = "k") -> None:
    """Store articles with these titles, published that long ago (item keys `key`0, 1…)."""
    async with store.transaction() as tx:
        feeds = await tx.feeds.list_all()
        feed = feeds[0] if feeds else await tx.feeds.add(NewFeed(FEED, "Wire", 900), NOW)
        new = [
            new_article(feed.id, f"{key}{i}", title, ago) for i, (title, ago) in enumerate(titles)
        ]
        await tx.articles.insert_new(new)


def new_article(feed_id: int, key: str, title: str, ago: timedelta) -> NewArticle:
    """An article of the wire, published and fetched `ago`."""
    url, when = f"{FEED}/{key}", NOW - ago
    return NewArticle(feed_id, key, None, url, title, "", when, when, f"h{key}", "Wire")


def terms(hit: ThemeHit) -> list[str]:
    """The terms that counted, from the matcher's explanation."""
    hits = cast(list[dict[str, object]], hit.explanation["hits"])
    return [str(found["term"]) for found in hits]


async def opened(store: Store, tmp_path: Path) -> LiveWatchlist:
    return await open_live(store, watchlist_folder(tmp_path))


async def test_a_draft_shows_what_it_would_add_and_drop_with_the_matchers_explanations(
    store: Store, tmp_path: Path
) -> None:
    live = await opened(store, tmp_path)
    day = timedelta(days=1)
    await store_articles(store, (PONTOON, 2 * day), (TROOPS, day), (TUMEN, 3 * day))
    await store_articles(store, (PONTOON + " again", 10 * day), key="old")  # outside the week

    preview = await preview_draft(live.editor, DRAFT, NOW)

    found = preview.comparison
    assert (preview.version, found.scanned, preview.complete) == (1, 3, True)
    [newly] = found.newly
    assert newly.article.title == PONTOON
    [gained] = newly.themes
    assert gained.theme == "tumen-bridge"
    assert "pontoon crossing" in terms(gained)
    [stopped] = found.stopped
    assert stopped.article.title == TROOPS
    assert live.matcher is not None  # what the poll matches with now: the version in force
    assert stopped.themes == tuple(live.matcher.hits(TROOPS, ""))
    assert terms(stopped.themes[0]) == ["North Korean troops", "Kursk", "deployed"]
    counts = {c.slug: (c.before, c.after, c.gained, c.lost) for c in found.themes}
    assert counts["tumen-bridge"] == (1, 2, 1, 0)
    assert counts["troops"] == (1, 0, 0, 1)
    assert counts["summits"] == (0, 0, 0, 0)  # every theme is counted, matched or not
    assert (found.newly_total, found.stopped_total) == (1, 1)
    assert preview.changes == (
        '+ term "pontoon crossing" (word) in tumen-bridge',
        '+ exclude "Kursk" (word) in troops',
    )


async def test_an_invalid_draft_is_refused_with_the_loaders_problems(
    store: Store, tmp_path: Path
) -> None:
    live = await opened(store, tmp_path)

    with pytest.raises(WatchlistError) as raised:
        await preview_draft(live.editor, add_terms(TEXT, "troops", ["..."]), NOW)

    [problem] = raised.value.problems
    assert problem.file == "nkru.toml" and "has no letters or digits" in problem.message


@pytest.mark.parametrize("days", [0, 91])
async def test_the_window_is_1_to_90_days(store: Store, tmp_path: Path, days: int) -> None:
    live = await opened(store, tmp_path)

    with pytest.raises(ValueError, match=f"1 to 90 days, not {days}"):
        await preview_draft(live.editor, DRAFT, NOW, days=days)


def article(number: int, title: str) -> Article:
    """An article as stored (the pure comparison needs no database)."""
    return Article(number, 1, f"k{number}", None, title, "", NOW, NOW, "Wire")


def test_the_counts_cover_every_article_while_the_lists_stop_at_listed() -> None:
    before = compile_matcher(_load(TEXT))
    after = compile_matcher(_load(DRAFT))
    articles = [article(n, f"{PONTOON} number {n}") for n in range(5)]

    found = compare(before, after, articles, listed=2)

    assert [change.article.id for change in found.newly] == [0, 1]
    assert found.newly_total == 5 and found.stopped == () and found.stopped_total == 0
    [tumen] = [count for count in found.themes if count.slug == "tumen-bridge"]
    assert (tumen.before, tumen.after, tumen.gained) == (0, 5, 5)


def test_a_deleted_themes_articles_stop_matching_and_it_is_still_counted() -> None:
    before = compile_matcher(_load(TEXT))
    after = compile_matcher(_load(delete_theme(TEXT, "tumen-bridge")))

    found = compare(before, after, [article(1, TUMEN), article(2, TROOPS)])

    [stopped] = found.stopped
    assert stopped.article.title == TUMEN and [h.theme for h in stopped.themes] == ["tumen-bridge"]
    [tumen] = [count for count in found.themes if count.slug == "tumen-bridge"]
    assert (tumen.title, tumen.before, tumen.after, tumen.lost) == ("Tumen River bridge", 1, 0, 1)
    assert found.themes[-1] == tumen  # the draft's themes first, then those it removes


def _load(text: str) -> Watchlist:
    return load_watchlist_text(text, "nkru.toml")
