"""The panel's pages over real HTTP and a real database: stories and their filters, a story,
search (the same results as `/nkru search`), feeds (added with the chat's checks), escaping."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import text

from bot.core.commands.model import Invocation
from bot.core.records import OutboxEntry
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.core.commands.conftest import NOW
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.fakes.feed_server import FeedServer
from tests.panel.support import ADMIN, CHANNEL, Panel, browser_session, running_panel
from tests.panel.test_auth import signed_in

HEADLINE = re.compile(r'class="headline"[^>]*>([^<]+)<')
OLDER = re.compile(r'<a href="/stories\?([^"]+)">older →</a>')


def headlines(page: str) -> list[str]:
    return [html.unescape(title) for title in HEADLINE.findall(page)]


@pytest.fixture
async def admin(panel: Panel) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    async with browser_session() as session:
        token = await signed_in(session, panel, await panel.link(ADMIN))
        yield session, token


async def text_of(session: aiohttp.ClientSession, url: str, status: int = 200) -> str:
    async with session.get(url) as page:
        assert page.status == status, await page.text()
        return await page.text()


async def test_stories_are_the_latest_matched_first_and_filter_by_theme_outlet_language_date(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    base = f"{panel.url}/stories"
    latest = headlines(await text_of(session, base))
    chat = await panel.service.handle(Invocation(ADMIN, CHANNEL, "latest", ("20",)))
    assert latest == [line.title for line in chat.stories]  # the same as /nkru latest
    assert "Heavy snow cuts roads and rail lines in Hokkaido" not in latest
    every = headlines(await text_of(session, f"{base}?theme=all"))
    assert "Heavy snow cuts roads and rail lines in Hokkaido" in every

    bridge = headlines(await text_of(session, f"{base}?theme=tumen-bridge"))
    assert "Russia and North Korea open first road bridge over the Tumen River" in bridge
    assert "North Korea shipped more artillery shells to Russia, Seoul says" not in bridge
    by_yonhap = headlines(await text_of(session, f"{base}?outlet=Yonhap&theme=all"))
    assert set(by_yonhap) == {
        "North Korea shipped more artillery shells to Russia, Seoul says",
        "Russia and North Korea open first road bridge over the Tumen River",  # a report of it
    }
    korean = headlines(await text_of(session, f"{base}?language=ko&theme=all"))
    assert korean == ["러시아와 북한, 두만강 자동차 다리 개통"]
    russian = headlines(await text_of(session, f"{base}?language=ru&theme=all"))
    assert russian == ["Россия и КНДР открыли автомобильный мост через Туманную"]
    day = NOW.date().isoformat()
    assert headlines(await text_of(session, f"{base}?from={day}&to={day}")) == latest
    before = (NOW.date() - timedelta(days=1)).isoformat()
    assert headlines(await text_of(session, f"{base}?to={before}")) == []


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("theme=no-such-theme", "no theme"),
        ("language=xx", "no language"),
        ("from=yesterday", "YYYY-MM-DD"),
        ("before=2024-01-01", "use the “older” link"),
    ],
)
async def test_a_bad_filter_says_what_is_wrong(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str], query: str, says: str
) -> None:
    session, _ = admin
    assert says in html.unescape(await text_of(session, f"{panel.url}/stories?{query}", 400))


async def test_stories_come_in_pages(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    titles = [" ".join(f"item{n}word{i}" for i in range(6)) for n in range(30)]
    for n, title in enumerate(titles):  # words of their own, so that no two are one story
        await panel.world.publish(f"bulk-{n}", (title, "Cargo."), "Wire", NOW)
    # The newest story also has a report older than every story of the second page: the
    # second page starts below the first page's last story and must not list it again.
    await panel.world.publish(
        "bulk-29-old", (titles[29], "Cargo."), "Other", NOW, published=NOW - timedelta(hours=9)
    )  # the same story (the count of stories below says so)
    page_one = await text_of(session, f"{panel.url}/stories?theme=all")
    older = OLDER.search(page_one)
    assert older is not None and "← newest" not in page_one
    page_two = await text_of(session, f"{panel.url}/stories?{html.unescape(older.group(1))}")
    first = headlines(page_one)
    assert len(first) == 25 and titles[29] in first
    assert "← newest" in page_two and "older →" not in page_two
    assert not set(first) & set(headlines(page_two))
    assert len(first) + len(headlines(page_two)) == 30 + 8  # publish_news: 8 stories


async def test_a_story_shows_every_report_its_head_themes_and_where_it_was_posted(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    async with panel.store.transaction() as tx:
        [first] = await tx.articles.search('"open first road bridge over the Tumen"', 1)
        story_id = first.story_id
        assert story_id is not None
        await tx.outbox.enqueue([OutboxEntry(CHANNEL, "new", story_id, first.id)], NOW)
    async with panel.store.transaction() as tx:
        [alert] = await tx.outbox.claim_due(NOW, timedelta(minutes=1))
        await tx.outbox.mark_sent(alert.outbox_id, "1234.5678", NOW)
    page = html.unescape(await text_of(session, f"{panel.url}/stories/{story_id}"))
    assert "Representative report:" in page
    assert "TASS · published" in page and "Yonhap · published" in page
    assert "Tumen River bridge" in page and "Tumen (title)" in page  # the theme and why
    assert f"<td>{CHANNEL}</td><td>new</td><td>sent</td>" in page
    await text_of(session, f"{panel.url}/stories/99999", 404)


async def test_search_gives_the_results_of_nkru_search(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    for words in ("bridge", '"Tumen River"', "북한", "zanzibar"):
        chat = await panel.service.handle(Invocation(ADMIN, CHANNEL, "search", (words,), limit=50))
        page = await text_of(session, f"{panel.url}/search?{_q(words)}")
        assert headlines(page) == [line.title for line in chat.stories]
        assert all(html.escape(note, quote=True) in page for note in chat.lines)


def _q(words: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": words})


async def test_feed_text_is_shown_as_text_never_markup(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> Rason port'
    await panel.world.publish("evil", (evil, "<b>bold</b>"), "Evil <i>Wire</i>", NOW)
    async with panel.store.transaction() as tx:
        # a feed's link that is no web address
        await tx.connection.execute(text("UPDATE articles SET url = 'javascript:alert(3)'"))
        found = await tx.connection.execute(
            text("SELECT story_id FROM articles WHERE item_key = 'evil'")
        )
        story_id = found.scalar_one()
    for url in (f"{panel.url}/stories?theme=all", f"{panel.url}/stories/{story_id}"):
        page = await text_of(session, url)
        assert "<script>" not in page and "<img" not in page and "<i>Wire" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "javascript:" not in page


async def test_an_admin_adds_a_feed_with_the_chats_checks(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = admin
    async with FeedServer() as server:
        server.add_feed("/feed.xml", rss(ITEMS))
        form = {"csrf": token, "url": server.url("/feed.xml"), "name": "Loopback Wire"}
        async with session.post(f"{panel.url}/feeds/add", data=form) as answer:
            page = html.unescape(await answer.text())
        assert answer.status == 200 and "Added feed" in page and "Loopback Wire" in page
        assert server.url("/feed.xml") in await panel.feed_urls()
        async with session.post(f"{panel.url}/feeds/add", data=form) as again:
            assert "already watched" in html.unescape(await again.text())
        bad = {"csrf": token, "url": "ftp://example.com/feed"}
        async with session.post(f"{panel.url}/feeds/add", data=bad) as refused:
            assert "only http:// and https://" in html.unescape(await refused.text())
    actions = [(e.action, e.outcome, e.destination) for e in await panel.audit()]
    assert actions == [
        ("feeds add", "refused", "web"),
        ("feeds add", "refused", "web"),
        ("feeds add", "ok", "web"),
    ]


async def test_a_feed_at_a_private_address_is_refused_as_from_chat(
    store: Store, matcher: WatchlistMatcher
) -> None:
    async with running_panel(store, matcher, allow="") as panel, FeedServer() as server:
        server.add_feed("/feed.xml", rss(ITEMS))
        async with browser_session() as session:
            token = await signed_in(session, panel, await panel.link(ADMIN))
            form = {"csrf": token, "url": server.url("/feed.xml")}
            async with session.post(f"{panel.url}/feeds/add", data=form) as answer:
                page = html.unescape(await answer.text())
        assert "Feed not added" in page and "loopback" in page
        assert server.hits("/feed.xml") == 0 and await panel.feed_urls() == []
