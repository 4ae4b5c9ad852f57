"""The panel in a real browser (Debian's Chromium via Playwright) against the real bot web app
on 127.0.0.1 and a real SQLite database: sign in through a one-time link, browse, open a story,
search, add a feed, preview and save a watchlist edit (then the next poll alerts on it), the
trends chart and its CSV, and the refusals (non-admin, CSRF, expired link)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from bot.core.commands.model import Caller
from bot.core.poll.fetch import FeedFetcher
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.parts import find_part, part_text
from storage.engine import Store
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.fakes.feed_server import FeedServer
from tests.panel.browser import launched
from tests.panel.support import ADMIN, MEMBER, Panel, publish_news, running_panel
from tests.watchlist_editing.harness import PONTOON, PONTOON_AGAIN, Bench, watchlist_folder

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def sqlite_panel(tmp_path: Path, matcher: WatchlistMatcher) -> AsyncIterator[Panel]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'panel.db'}")
    try:
        async with running_panel(store, matcher) as panel:
            await publish_news(panel.world)
            yield panel
    finally:
        await store.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched() as chromium:
        yield chromium


async def sign_in(browser: Browser, panel: Panel, caller: Caller = ADMIN) -> Page:
    """A new browser page signed in through a fresh one-time link (at phone width)."""
    page = await browser.new_page(viewport=PHONE)
    await page.goto(await panel.link(caller))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{panel.url}/stories")
    return page


async def test_sign_in_browse_open_a_story_and_search(
    browser: Browser, sqlite_panel: Panel
) -> None:
    panel = sqlite_panel
    page = await browser.new_page(viewport=PHONE)
    await page.goto(f"{panel.url}/stories")  # no session yet: sent to the sign-in page
    await expect(page).to_have_url(f"{panel.url}/signin")
    await expect(page.get_by_text("/nkru web").first).to_be_visible()
    await page.close()

    page = await sign_in(browser, panel)
    await expect(page.get_by_text("Ada (slack, admin)")).to_be_visible()
    bridge = "Russia and North Korea open first road bridge over the Tumen River"
    await expect(page.get_by_role("link", name=bridge)).to_be_visible()
    await page.locator("select[name=theme]").select_option("arms-transfers")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("link", name=bridge)).to_have_count(0)
    shells = "North Korea shipped more artillery shells to Russia, Seoul says"
    await expect(page.get_by_role("link", name=shells)).to_be_visible()

    await page.goto(f"{panel.url}/stories")
    await page.get_by_role("link", name=bridge).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(bridge)
    await expect(page.get_by_text("Representative report:")).to_be_visible()
    await expect(page.get_by_text("Yonhap · published")).to_be_visible()

    await page.get_by_role("link", name="Search").click()
    await page.get_by_label("Words").fill('"Tumen River"')
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name=bridge)).to_be_visible()
    await expect(page.get_by_role("link", name=shells)).to_have_count(0)


async def test_an_admin_adds_a_feed(browser: Browser, sqlite_panel: Panel) -> None:
    page = await sign_in(browser, sqlite_panel)
    async with FeedServer() as server:
        server.add_feed("/wire.xml", rss(ITEMS, title="Loopback Wire"))
        await page.get_by_role("link", name="Feeds").click()
        await page.get_by_label("URL").fill(server.url("/wire.xml"))
        await page.get_by_role("button", name="Add feed").click()
        await expect(page.get_by_text("Added feed")).to_be_visible()
        await expect(page.get_by_role("cell", name="Loopback Wire")).to_be_visible()
    assert server.url("/wire.xml") in await sqlite_panel.feed_urls()


async def test_a_team_member_is_refused(browser: Browser, sqlite_panel: Panel) -> None:
    page = await sign_in(browser, sqlite_panel, MEMBER)
    await page.get_by_role("link", name="Feeds").click()
    await expect(page.get_by_text("Only admins can add")).to_be_visible()
    await expect(page.get_by_role("button", name="Add feed")).to_have_count(0)
    token = await page.locator('input[name="csrf"]').first.input_value()
    # The form an admin would see, sent from this member's signed-in browser.
    answer = await page.request.post(
        f"{sqlite_panel.url}/feeds/1/disable", form={"csrf": token}, max_redirects=0
    )
    assert answer.status == 403 and "Only admins can" in await answer.text()
    await page.goto(f"{sqlite_panel.url}/audit")
    await expect(page.get_by_text("Admins only")).to_be_visible()
    [entry] = await sqlite_panel.audit()
    assert (entry.user_name, entry.outcome, entry.destination) == ("Mo", "refused", "web")


async def test_a_form_without_the_sessions_token_is_refused(
    browser: Browser, sqlite_panel: Panel
) -> None:
    page = await sign_in(browser, sqlite_panel)
    await page.get_by_role("link", name="Feeds").click()
    disable = page.get_by_role("button", name="disable feed 1")
    # A stale form: its token is not this session's.
    await page.locator('form[action="/feeds/1/disable"] input[name="csrf"]').evaluate(
        "input => { input.value = 'from-another-session' }"
    )
    await disable.click()
    await expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    async with sqlite_panel.store.transaction() as tx:
        feed = await tx.feeds.get(1)
    assert feed is not None and feed.enabled


async def test_an_expired_link_is_refused(browser: Browser, sqlite_panel: Panel) -> None:
    link = await sqlite_panel.link()
    sqlite_panel.clock.advance(minutes=11)
    page = await browser.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("expired or was used already")).to_be_visible()
    await page.goto(f"{sqlite_panel.url}/feeds")
    await expect(page).to_have_url(f"{sqlite_panel.url}/signin")


async def test_an_admin_previews_and_saves_a_watchlist_edit_the_next_poll_alerts_on(
    browser: Browser, tmp_path: Path, matcher: WatchlistMatcher
) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with FeedServer() as server, FeedFetcher() as fetcher:
            # A running bot: its stored watchlist, polls of a loopback feed, and the panel
            # editing through the bot's own editor.
            bench = await Bench.open(store, fetcher, server, watchlist_folder(tmp_path), "slack:C1")
            await bench.poll(PONTOON)  # stored under v1: no theme, no alert
            async with running_panel(store, matcher, editor=bench.live.editor) as panel:
                await edit_in_the_browser(browser, panel)
            assert bench.live.version == 2  # in force at once, as after a chat edit
            await bench.poll(PONTOON_AGAIN)
            assert await bench.alerted_themes(PONTOON_AGAIN.title) == {"tumen-bridge"}
    finally:
        await store.close()


async def edit_in_the_browser(browser: Browser, panel: Panel) -> None:
    page = await sign_in(browser, panel)
    await page.get_by_role("link", name="Watchlist").click()
    await page.get_by_text("Tumen River bridge", exact=True).click()  # opens its <details>
    await page.get_by_role("link", name="Edit tumen-bridge").click()
    editor = page.get_by_label("TOML of theme tumen-bridge")
    typed = await editor.input_value()
    document, _ = await panel.editor.latest()
    edited = add_terms(document.document, "tumen-bridge", ["pontoon crossing"])
    assert typed == part_text(document.document, find_part(document.document, "theme:tumen-bridge"))
    await editor.fill(part_text(edited, find_part(edited, "theme:tumen-bridge")))
    await page.get_by_role("button", name="Preview").click()
    await expect(
        page.get_by_text('+ term "pontoon crossing" (word) in tumen-bridge')
    ).to_be_visible()
    await expect(page.get_by_role("heading", name="Would newly match (1)")).to_be_visible()
    await expect(page.get_by_role("link", name=PONTOON.title)).to_be_visible()
    await page.get_by_role("button", name="Save as version 2").click()
    await expect(page.get_by_text("Saved watchlist v2")).to_be_visible()
    await expect(page.get_by_text("(in force)")).to_have_count(1)
    await expect(page.get_by_role("link", name="v2", exact=True)).to_be_visible()


async def test_the_trends_chart_shows_and_its_csv_downloads(
    browser: Browser, sqlite_panel: Panel
) -> None:
    page = await sign_in(browser, sqlite_panel, MEMBER)
    await page.get_by_role("link", name="Trends").click()
    chart = page.get_by_role("img", name="Stories per theme per day, last 30 days")
    await expect(chart).to_be_visible()
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="counts as CSV").click()
    download = await waiting.value
    assert download.suggested_filename.startswith("nkru-trends-30d-")
    lines = (await download.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "date,theme,stories" and len(lines) > 30


async def test_a_team_member_reads_the_watchlist_but_cannot_save(
    browser: Browser, sqlite_panel: Panel
) -> None:
    page = await sign_in(browser, sqlite_panel, MEMBER)
    await page.get_by_role("link", name="Watchlist").click()
    await expect(page.get_by_text("Only admins can change the watchlist.")).to_be_visible()
    await expect(page.get_by_role("link", name="Edit tumen-bridge")).to_have_count(0)
    await expect(page.locator("textarea")).to_have_count(0)
    token = await page.locator('input[name="csrf"]').first.input_value()
    # The form an admin would send, from this member's signed-in browser.
    answer = await page.request.post(
        f"{sqlite_panel.url}/watchlist/edit",
        form={"csrf": token, "part": "all", "based_on": "1", "text": "", "action": "save"},
        max_redirects=0,
    )
    assert answer.status == 403 and "Only admins can edit" in await answer.text()
    assert await sqlite_panel.editor.latest_number() == 1
