"""Theme routes: matched articles alert the routes that follow their themes; digests group them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.digest import build_digest
from bot.core.models import NewArticle
from bot.core.poll.ingest import AlertPolicy, IngestReport, ingest
from bot.core.routing import Route
from bot.core.story_cache import StoryCache
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from storage.schema import article_themes, outbox
from tests.conftest import REPO_ROOT

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
BRIDGE = (
    "Russia and North Korea open first road bridge over the Tumen River",
    "The crossing links Khasan in Russia's Primorye with Tumangang in North Korea.",
)
VETO = (
    "Russia vetoes UN Security Council renewal of North Korea sanctions panel of experts",
    "Moscow's veto ends the mandate of the panel that monitored sanctions on Pyongyang.",
)
OFF_TOPIC = (
    "Heavy snow cuts roads and rail lines in Hokkaido",
    "Trains were cancelled across northern Japan as a storm moved east.",
)


@pytest.fixture(scope="module")
def matcher() -> WatchlistMatcher:
    return WatchlistMatcher.load(REPO_ROOT / "watchlists")


def article(key: str, title: str, summary: str, source: str = "Wire") -> NewArticle:
    return NewArticle(
        feed_id=None,  # type: ignore[arg-type]
        item_key=key, guid=key, url=f"https://example.org/{key}", title=title, summary=summary,
        published_at=NOW, fetched_at=NOW, content_hash=key, source_name=source,
    )  # fmt: skip


async def queued(store: Store) -> set[tuple[str, str, int]]:
    """(destination, kind, article id) of every outbox entry."""
    async with store.transaction() as conn:
        rows = await conn.connection.execute(
            select(outbox.c.destination, outbox.c.kind, outbox.c.article_id)
        )
        return {(d, k, int(a)) for d, k, a in rows.all()}


async def two_reports(
    store: Store, matcher: WatchlistMatcher, first: tuple[str, str], second: tuple[str, str]
) -> tuple[IngestReport, IngestReport]:
    """Ingest two reports for a route following every theme: from Wire now, from Other at
    LATER, in two polls."""
    policy = AlertPolicy(destinations=(), routes=(Route("desk"),))
    cache = StoryCache()
    reports = []
    for key, (title, summary), source, when in (
        ("a", first, "Wire", NOW),
        ("b", second, "Other", LATER),
    ):
        async with store.transaction() as conn:
            batch = [article(key, title, summary, source)]
            reports.append(await ingest(conn, batch, when, policy, cache=cache, matcher=matcher))
    return reports[0], reports[1]


async def test_routes_alert_only_the_themes_they_follow(
    store: Store, matcher: WatchlistMatcher
) -> None:
    policy = AlertPolicy(
        destinations=(),
        routes=(
            Route("everything-matched"),
            Route("veto-desk", frozenset({"un-veto"})),
            Route("firehose", themes=None),
            Route("morning-digest", mode="digest"),
            Route("picky", min_score=1000.0),
        ),
    )
    batch = [article("b", *BRIDGE), article("v", *VETO), article("o", *OFF_TOPIC)]
    async with store.transaction() as conn:
        report = await ingest(conn, batch, NOW, policy, cache=StoryCache(), matcher=matcher)
        stored = await conn.connection.execute(
            select(article_themes.c.article_id, article_themes.c.theme)
        )
        themes = {(int(a), t) for a, t in stored.all()}
    bridge, veto, off = (a.id for a in report.new_articles)
    assert (bridge, "tumen-bridge") in themes and (veto, "un-veto") in themes
    assert not any(a == off for a, _ in themes)
    assert report.matched_articles == 2
    assert await queued(store) == {
        ("everything-matched", "new", bridge),
        ("everything-matched", "new", veto),
        ("veto-desk", "new", veto),
        ("firehose", "new", bridge),
        ("firehose", "new", veto),
        ("firehose", "new", off),
    }
    async with store.transaction() as conn:
        [alert] = [a for a in await conn.outbox.due(NOW) if a.destination == "veto-desk"]
    assert alert.themes[0].theme == "un-veto" and "veto" in alert.themes[0].why.casefold()


async def test_a_story_becomes_an_alert_when_a_later_report_matches(
    store: Store, matcher: WatchlistMatcher
) -> None:
    # The first report names neither country: no theme. The second, same story, does.
    vague = (
        "First road bridge over the Tumen River opens to traffic",
        "The crossing links Khasan with Tumangang, officials said.",
    )
    first, second = await two_reports(store, matcher, vague, BRIDGE)
    assert first.queued_alerts == 0 or first.matched_articles == 1
    assert second.joined_stories == 1
    entries = await queued(store)
    assert len([e for e in entries if e[1] == "new"]) == 1  # one alert for the story, not two


async def test_digest_groups_stories_by_theme_best_first_and_caps_them(
    store: Store, matcher: WatchlistMatcher
) -> None:
    policy = AlertPolicy(destinations=(), routes=())
    items = [article("b", *BRIDGE), article("v", *VETO), article("o", *OFF_TOPIC)]
    items += [
        article("v2", "2022 vote: Beijing and Moscow cast first vetoes on DPRK since 2006",
                "A US-drafted UN Security Council resolution after intercontinental launches "
                "failed 13-2."),
        article("v3", "Moscow blocks Security Council statement on Pyongyang missile tests",
                "Russia's envoy objected to a UN Security Council text condemning North Korea."),
    ]  # fmt: skip
    async with store.transaction() as conn:
        await ingest(conn, items, NOW, policy, cache=StoryCache(), matcher=matcher)
    since = NOW - timedelta(hours=1)
    everything = await build_digest(store, Route("console"), since, per_theme=2)
    by_theme = {s.theme: s for s in everything.sections}
    assert "tumen-bridge" in by_theme and "un-veto" in by_theme
    assert len(by_theme["un-veto"].items) == 2 and by_theme["un-veto"].more == 1
    scores = [item.hit.score for item in by_theme["un-veto"].items if item.hit]
    assert scores == sorted(scores, reverse=True)
    titles = [item.view.story.title for s in everything.sections for item in s.items]
    assert OFF_TOPIC[0] not in titles and len(titles) == len(set(titles))  # each story once
    veto_only = await build_digest(store, Route("d", frozenset({"un-veto"})), since, limit=2)
    assert [s.theme for s in veto_only.sections] == ["un-veto"] and veto_only.story_count == 2
    firehose = await build_digest(store, Route("d", themes=None), since)
    assert OFF_TOPIC[0] in [i.view.story.title for s in firehose.sections for i in s.items]
    nothing = await build_digest(store, Route("console"), NOW + timedelta(days=1))
    assert nothing.sections == [] and nothing.more == 0


async def test_the_alert_shows_the_report_it_was_raised_for(
    store: Store, matcher: WatchlistMatcher
) -> None:
    # The story starts with a report that names neither country (no theme, no alert); a
    # near-duplicate from another outlet names both and alerts. The alert must show that
    # report, the one its "why" is about, with the first as "also reported by".
    vague = (
        "Road bridge over the Tumen River opens to traffic after two years of building work",
        "Lorries crossed the new bridge over the Tumen River on Monday, officials said.",
    )
    named = (
        "Russia and North Korea: road bridge over the Tumen River opens to traffic after two "
        "years of building work",
        "Lorries crossed the new bridge over the Tumen River on Monday, officials said.",
    )
    first, second = await two_reports(store, matcher, vague, named)
    assert (first.matched_articles, first.queued_alerts) == (0, 0)
    assert (second.matched_articles, second.joined_stories, second.queued_alerts) == (1, 1, 1)
    async with store.transaction() as conn:
        [alert] = await conn.outbox.due(LATER)
    assert alert.title == named[0]
    assert alert.source_name == "Other" and alert.also_reported_by == ["Wire"]
    assert alert.themes[0].theme == "tumen-bridge"
    # The digest's line for the story is headed by the same report, and says the same why.
    digest = await build_digest(store, Route("desk", mode="digest"), NOW - timedelta(hours=1))
    [section] = digest.sections
    [item] = section.items
    assert (section.theme, item.view.story.title, item.view.source_name) == (
        "tumen-bridge",
        named[0],
        "Other",
    )
    assert item.view.url == "https://example.org/b" and item.view.outlets == ["Wire", "Other"]
    assert item.hit is not None and item.hit.why == alert.themes[0].why
