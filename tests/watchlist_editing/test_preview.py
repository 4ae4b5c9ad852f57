"""The preview of a watchlist draft: what it would newly match and stop matching among the
stored articles of the last days, with the real matcher's explanations, on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import tomlkit
from sqlalchemy import delete

from bot.core.models import Article, NewArticle, ThemeHit
from bot.core.records import Author, NewFeed
from bot.core.routing import Route
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist.model import Watchlist, WatchlistError
from bot.core.watchlist.normalize import matching_text
from bot.core.watchlist_editing import WatchlistEditor
from bot.core.watchlist_editing.compiled import ArticleMemo, CompiledVersion
from bot.core.watchlist_editing.document import add_terms, delete_theme, new_theme, remove_terms
from bot.core.watchlist_editing.live import LiveWatchlist, compile_matcher
from bot.core.watchlist_editing.preview import Comparison, Probe, compare, preview_draft
from storage.engine import Store
from storage.schema import articles as article_rows
from tests.conftest import REPO_ROOT
from tests.watchlist_editing.harness import WATCHLIST, open_live, watchlist_folder

FEED = "https://wire.example/rss"
TEXT = WATCHLIST.read_text(encoding="utf-8")
NOW = datetime.now(UTC)
AUTHOR = Author("slack", "U0BOSS", "boss")
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
    counts = {c.slug: (c.gained, c.lost, c.before, c.after) for c in found.themes}
    assert counts["tumen-bridge"] == (1, 0, 1, 2)
    assert counts["troops"] == (0, 1, 1, 0)
    assert counts["summits"] == (0, 0, None, None)  # unchanged: only what changes is counted
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


async def test_a_draft_a_save_would_refuse_for_the_routes_is_refused_already(
    store: Store, tmp_path: Path
) -> None:
    route = Route("slack:C1", frozenset({"troops"}))
    live = await open_live(store, watchlist_folder(tmp_path), (route,))

    with pytest.raises(WatchlistError, match="NKRU_ROUTES follows troops"):
        await preview_draft(live.editor, delete_theme(TEXT, "troops"), NOW)


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
    assert (tumen.gained, tumen.lost, tumen.before, tumen.after) == (5, 0, 0, 5)


def test_a_deleted_themes_articles_stop_matching_and_it_is_still_counted() -> None:
    before = compile_matcher(_load(TEXT))
    after = compile_matcher(_load(delete_theme(TEXT, "tumen-bridge")))

    found = compare(before, after, [article(1, TUMEN), article(2, TROOPS)])

    [stopped] = found.stopped
    assert stopped.article.title == TUMEN and [h.theme for h in stopped.themes] == ["tumen-bridge"]
    [tumen] = [count for count in found.themes if count.slug == "tumen-bridge"]
    assert (tumen.title, tumen.lost, tumen.before, tumen.after) == ("Tumen River bridge", 1, 1, 0)
    assert found.themes[-1] == tumen  # the draft's themes first, then those it removes


def _load(text: str) -> Watchlist:
    return load_watchlist_text(text, "nkru.toml")


def labelled_articles() -> list[Article]:
    """Every article of tests/data (on-topic news in three languages, and off-topic)."""
    rows = [
        json.loads(line)
        for path in sorted((REPO_ROOT / "tests" / "data").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    return [
        Article(n, 1, f"k{n}", None, row["title"], row["summary"], NOW, NOW, "Wire")
        for n, row in enumerate(rows)
    ]


def _with_min_score(text: str, slug: str, score: float) -> str:
    """The document with `slug`'s min_score set (tomlkit, as the chat edits work)."""
    document = tomlkit.parse(text)
    for theme in document["themes"]:
        if theme["slug"] == slug:
            theme["min_score"] = score
    return document.as_string()


def _theme_block(text: str, slug: str) -> str:
    """The `[[themes]]` table of `slug` as text, to append elsewhere."""
    table = next(t for t in tomlkit.parse(text)["themes"] if t["slug"] == slug)
    return "\n" + tomlkit.dumps({"themes": [table]})


def _edit_theme(text: str, slug: str, change: Callable[[Any], None]) -> str:
    """The document with `change` made to `slug`'s table (tomlkit, as the chat edits work)."""
    document = tomlkit.parse(text)
    change(next(theme for theme in document["themes"] if theme["slug"] == slug))
    return document.as_string()


def _reweighed(theme: Any) -> None:
    theme["terms"][0]["weight"] = 0.4  # { text = "Tumen", weight = 1.2 }: a generic word now


def _fuzzy_name(theme: Any) -> None:
    theme["terms"].append(tomlkit.inline_table())
    theme["terms"][-1].update({"text": "Vladivostok", "fuzzy": True})


def _reversed_terms(theme: Any) -> None:
    theme["terms"] = list(reversed(theme["terms"].unwrap()))


MOVED = remove_terms(TEXT, "tumen-bridge", ["Khasan"])[0]

DRAFTS = {
    "a term and an exclusion": DRAFT,
    "a common word": add_terms(TEXT, "summits", ["said"]),
    "a theme deleted": delete_theme(TEXT, "troops"),
    "a new theme": new_theme(TEXT, "kaesong", "Kaesong"),
    "an exclusion of a context word": add_terms(TEXT, "troops", ["Moscow"], "exclude"),
    "a shared context group": TEXT.replace('"DPRK",', "", 1),  # from groups.north-korea
    "a higher bar": _with_min_score(TEXT, "arms-transfers", 4.0),
    "a lower bar": _with_min_score(TEXT, "energy-trade", 0.5),
    "themes reordered": delete_theme(TEXT, "troops") + _theme_block(TEXT, "troops"),
    # Themes changed in their terms alone: with the draft, only where a changed term occurs.
    "a term removed": remove_terms(TEXT, "tumen-bridge", ["bridge"])[0],
    "a term's weight changed": _edit_theme(TEXT, "tumen-bridge", _reweighed),
    "a term moved to another theme": add_terms(MOVED, "energy-trade", ["Khasan"]),
    "another theme's term": add_terms(TEXT, "summits", ["road link"]),
    "a fuzzy name": _edit_theme(TEXT, "summits", _fuzzy_name),
    "a Russian stem": add_terms(TEXT, "summits", ["Курск"]),
    "terms reordered": _edit_theme(TEXT, "tumen-bridge", _reversed_terms),
}


# Drafts compared with another version in force than TEXT: (in force, draft).
EDITS = {
    **{name: (TEXT, draft) for name, draft in DRAFTS.items()},
    "an exclusion removed": (add_terms(TEXT, "troops", ["Moscow"], "exclude"), TEXT),
}


@pytest.mark.parametrize("name", EDITS)
def test_narrowing_to_the_changed_themes_changes_no_result(name: str) -> None:
    in_force, draft = EDITS[name]
    before, after = compile_matcher(_load(in_force)), compile_matcher(_load(draft))
    articles = labelled_articles()

    narrowed = compare(before, after, articles, listed=10_000)
    full = compare(before, after, articles, listed=10_000, narrow=False)

    assert_same(narrowed, full)
    changes = narrowed.newly_total + narrowed.stopped_total
    unchanged = ("a new theme", "themes reordered", "terms reordered")
    assert changes > 0 or name in unchanged  # not a vacuous check


def test_one_memo_serves_drafts_of_one_theme_and_of_others_alike() -> None:
    before, articles = compile_matcher(_load(TEXT)), labelled_articles()
    memo = ArticleMemo(before.matcher)
    for name in ("a term removed", "a common word", "a term's weight changed", "a new theme"):
        after = compile_matcher(_load(DRAFTS[name]))
        remembered = compare(before, after, articles, listed=10_000, memo=memo)
        assert_same(remembered, compare(before, after, articles, listed=10_000, narrow=False))


def assert_same(narrowed: Comparison[Article], full: Comparison[Article]) -> None:
    """The same articles newly filed and no longer filed, and the same figures per theme
    (before and after: where `narrowed` has them, for the themes changed)."""
    assert (narrowed.newly, narrowed.stopped) == (full.newly, full.stopped)
    assert (narrowed.newly_total, narrowed.stopped_total) == (full.newly_total, full.stopped_total)
    for mine, theirs in zip(narrowed.themes, full.themes, strict=True):
        assert (mine.slug, mine.gained, mine.lost) == (theirs.slug, theirs.gained, theirs.lost)
        if mine.before is not None:  # a theme the draft changes: counted in full
            assert (mine.before, mine.after) == (theirs.before, theirs.after)


def test_the_probe_leaves_out_the_articles_no_changed_theme_concerns() -> None:
    before, after = compile_matcher(_load(TEXT)), compile_matcher(_load(DRAFT))
    probe = Probe(before, after)

    texts = [matching_text(a.title, a.summary) for a in labelled_articles()]
    concerned = [text for text in texts if probe.concerns(*text)]
    narrowed = [text for text in texts if probe.may_differ_in(*text)]

    assert 0 < len(concerned) < len(texts) / 2
    # Where "pontoon crossing" or "Kursk" occurs: the draft matches these alone.
    assert 0 < len(narrowed) < len(concerned) / 2
    assert not Probe(before, before).may_differ(TROOPS, "")  # the same watchlist: never
    assert probe.may_differ(PONTOON, "") and probe.may_differ(TROOPS, "")


async def test_the_preview_compares_with_the_polls_matcher_and_not_an_older_versions(
    store: Store, tmp_path: Path
) -> None:
    live = await opened(store, tmp_path)
    await store_articles(store, (PONTOON, timedelta(days=1)))
    first = live.matcher
    assert first is not None and live.editor.compiled.get(1) is first  # kept for the preview

    before = await preview_draft(live.editor, DRAFT, NOW)
    await live.editor.edit(
        AUTHOR, lambda text: add_terms(text, "tumen-bridge", ["pontoon crossing"])
    )
    after = await preview_draft(live.editor, DRAFT, NOW)

    assert [change.article.title for change in before.comparison.newly] == [PONTOON]
    # Version 2 already files the pontoon crossing: compared with it, the draft adds nothing.
    assert (after.version, after.comparison.newly) == (2, ())
    assert live.editor.compiled.get(1) is None
    assert live.editor.compiled.get(2) is live.matcher and live.matcher is not first


async def test_an_editor_with_no_live_matcher_compiles_each_version_in_force_once(
    store: Store, tmp_path: Path
) -> None:
    live = await opened(store, tmp_path)
    editor = WatchlistEditor(store, lambda: NOW)  # another process's, e.g. `nkru` commands
    await store_articles(store, (PONTOON, timedelta(days=1)))
    assert editor.compiled.get(1) is None

    preview = await preview_draft(editor, DRAFT, NOW)

    assert [change.article.title for change in preview.comparison.newly] == [PONTOON]
    kept = editor.compiled.get(1)
    assert kept is not None and kept is not live.matcher
    await preview_draft(editor, DRAFT, NOW)
    assert editor.compiled.get(1) is kept
    # Another process saves version 2 (it files the pontoon crossing): v1's matcher is not used.
    await live.editor.edit(
        AUTHOR, lambda text: add_terms(text, "tumen-bridge", ["pontoon crossing"])
    )
    again = await preview_draft(editor, DRAFT, NOW)
    assert (again.version, again.comparison.newly) == (2, ())
    assert editor.compiled.get(2) not in (None, kept)


def test_a_kept_matcher_is_not_replaced_by_an_older_versions() -> None:
    compiled = CompiledVersion()
    older, newer = compile_matcher(_load(TEXT)), compile_matcher(_load(DRAFT))

    compiled.keep(3, newer)
    compiled.keep(2, older)  # a preview of v2 finishing after v3 was adopted

    assert compiled.get(3) is newer and compiled.get(2) is None


async def test_the_listed_articles_are_read_whole(store: Store, tmp_path: Path) -> None:
    live = await opened(store, tmp_path)
    await store_articles(store, (PONTOON, timedelta(hours=5)))

    preview = await preview_draft(live.editor, DRAFT, NOW)

    [newly] = preview.comparison.newly
    assert isinstance(newly.article, Article)
    assert (newly.article.source_name, newly.article.url) == ("Wire", f"{FEED}/k0")
    assert abs(newly.article.published_at - (NOW - timedelta(hours=5))) < timedelta(seconds=1)


def test_what_the_version_in_force_made_of_an_article_is_remembered_for_that_article_only() -> None:
    before, after = compile_matcher(_load(TEXT)), compile_matcher(_load(DRAFT))
    articles = labelled_articles()
    memo = ArticleMemo(before.matcher)
    fresh = compare(before, after, articles, listed=10_000)

    first = compare(before, after, articles, listed=10_000, memo=memo)
    again = compare(before, after, articles, listed=10_000, memo=memo)  # from the memo now

    for found in (first, again):
        assert (found.newly, found.stopped, found.themes) == (
            fresh.newly,
            fresh.stopped,
            fresh.themes,
        )
    # The same id with other text (SQLite may give a deleted row's id again): matched anew.
    assert [m.slug for m in memo.matches(article(1, TROOPS))] == ["troops"]
    assert memo.matches(article(1, "Snow in Seoul")) == []


def test_a_new_version_kept_forgets_the_older_ones_memo() -> None:
    compiled = CompiledVersion()
    one, two = compile_matcher(_load(TEXT)), compile_matcher(_load(DRAFT))

    compiled.keep(1, one)
    memo = compiled.memo(1)
    compiled.keep(2, two)

    assert memo is not None and memo.matcher is one.matcher
    assert compiled.memo(1) is None
    kept = compiled.memo(2)
    assert kept is not None and kept.matcher is two.matcher


# Where the terms of tumen-bridge (and those a draft adds) occur in forms a word index would not
# find: Russian and Korean inflections of prefix terms, a name one typo away (fuzzy), a term
# inside a longer word, words the matcher joins ("N.Korea") or splits ("pontoon-crossing").
FORMS = [
    "Россия и КНДР открыли мост через реку Туманную",  # "Туманн" (prefix)
    "Россия и КНДР: переход Туманганн открыт",  # "Туманган" fuzzy, one letter more
    "북러 두만강에서 자동차 다리 착공",  # "두만강" with a particle, "자동차 다리"
    "N.Korea and Russia open the Tumanngang crossing",  # "Tumangang" one typo away
    "North Korea and Russia open a pontoon-crossing near Khasan",  # split by a hyphen
    "Subridgeworks at the Tumenskaya depot, Russia and North Korea",  # only inside words
    "North Korea and Russia: pontoonery and crossings",  # "pontoon crossing" in neither form
    "Snow in Seoul",
    "Россия и КНДР подписали соглашение",
]
FORM_DRAFTS = {
    "Russian and Korean prefix terms added": add_terms(TEXT, "tumen-bridge", ["Туманск", "북러"]),
    "a phrase added": add_terms(TEXT, "tumen-bridge", ["pontoon crossing"]),
    "a term removed": remove_terms(TEXT, "tumen-bridge", ["Tumangang"])[0],
    "a fuzzy term's theme changed otherwise": _with_min_score(TEXT, "tumen-bridge", 1.0),
}


@pytest.mark.parametrize("name", FORM_DRAFTS)
def test_the_candidates_include_every_text_the_checks_are_true_for(name: str) -> None:
    before, after = compile_matcher(_load(TEXT)), compile_matcher(_load(FORM_DRAFTS[name]))
    probe = Probe(before, after)
    articles = [article(n, title) for n, title in enumerate(FORMS)] + labelled_articles()
    memo = ArticleMemo(before.matcher)
    texts = [memo.normalized(a) for a in articles]

    differ = probe.candidates(memo.joined(articles), narrow=True)
    concern = probe.candidates(memo.joined(articles), narrow=False)

    assert {i for i, text in enumerate(texts) if probe.may_differ_in(*text)} <= set(differ)
    assert {i for i, text in enumerate(texts) if probe.concerns(*text)} <= set(concern)
    assert 0 < len(concern) < len(articles) / 2  # it does narrow
    # The forms of FORMS the checks find are among them: the test covers what it says.
    assert {0, 1, 2, 3} <= {i for i in concern if probe.concerns(*texts[i])}
    narrowed = compare(before, after, articles, listed=10_000, memo=memo)
    assert_same(narrowed, compare(before, after, articles, listed=10_000, narrow=False))


async def test_an_article_stored_under_a_remembered_id_is_read_again(
    store: Store, tmp_path: Path
) -> None:
    live = await opened(store, tmp_path)
    await store_articles(store, (TUMEN, timedelta(days=2)), (TROOPS, timedelta(days=1)))
    first = await preview_draft(live.editor, DRAFT, NOW)
    assert [change.article.title for change in first.comparison.stopped] == [TROOPS]
    async with store.transaction() as tx:  # retention took the newest article
        [gone] = await tx.articles.texts_published_since(NOW - timedelta(hours=30), 1)
        await tx.connection.execute(delete(article_rows).where(article_rows.c.id == gone.id))
    await store_articles(store, (PONTOON, timedelta(hours=20)), key="new")

    again = await preview_draft(live.editor, DRAFT, NOW)

    [newly] = again.comparison.newly
    assert newly.article.title == PONTOON and again.comparison.stopped == ()
    if store.dialect == "sqlite":  # SQLite gave it the deleted article's id
        assert newly.article.id == gone.id
