"""Save screenshots of the panel's main pages to docs/screenshots/ (for the README).

Run: .venv/bin/python benchmarks/panel_screenshots.py

Serves the real panel over a temporary SQLite database with the test suite's sample news
(tests/panel/support.py), signs in as an admin in Debian's Chromium (/usr/bin/chromium) and
shoots each page at desktop width, and the stories page at phone width too; then the
watchlist with one theme open, the editor's preview of a one-term change, and the trends.
Korean text needs a CJK font (Debian's fonts-noto-cjk), else it shows as boxes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import Page, async_playwright

from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.parts import find_part, part_text
from storage.engine import Store
from tests.core.commands.conftest import NOW
from tests.panel.browser import CHROMIUM
from tests.panel.support import ADMIN, WATCHLIST, Panel, publish_news, running_panel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"stories": "/stories", "story": "/stories/2", "search": "/search?q=bridge",
         "feeds": "/feeds", "audit": "/audit", "trends": "/trends"}  # fmt: skip
PONTOON = ("Russia and North Korea open pontoon crossing", "Engineers laid it in two days.")


async def watchlist_shots(page: Page, panel: Panel) -> None:
    """The watchlist with a theme open, and the preview of a term added to it."""
    await page.goto(panel.url + "/watchlist")
    await page.get_by_text("Tumen River bridge", exact=True).click()
    await page.screenshot(path=OUT / "watchlist.png", full_page=True)
    await page.get_by_role("link", name="Edit tumen-bridge").click()
    draft = add_terms(WATCHLIST.read_text(encoding="utf-8"), "tumen-bridge", ["pontoon crossing"])
    await page.get_by_label("TOML of theme tumen-bridge").fill(
        part_text(draft, find_part(draft, "theme:tumen-bridge"))
    )
    await page.get_by_role("button", name="Preview").click()
    await page.get_by_role("heading", name="Preview", exact=True).scroll_into_view_if_needed()
    await page.screenshot(path=OUT / "watchlist-preview.png", full_page=True)


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    matcher = WatchlistMatcher.load(ROOT / "watchlists")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(folder) / 'panel.db'}")
        try:
            async with running_panel(store, matcher) as panel, async_playwright() as pw:
                await publish_news(panel.world)
                await panel.world.publish("pontoon", PONTOON, "TASS", NOW - timedelta(hours=6))
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM))
                page = await browser.new_page(viewport={"width": 1100, "height": 800})
                await page.goto(await panel.link(ADMIN))
                await page.get_by_role("button", name="Sign in").click()
                for name, path in PAGES.items():
                    await page.goto(panel.url + path)
                    await page.screenshot(path=OUT / f"{name}.png", full_page=True)
                await watchlist_shots(page, panel)
                await page.set_viewport_size({"width": 390, "height": 844})
                await page.goto(panel.url + "/stories")
                await page.screenshot(path=OUT / "stories-phone.png", full_page=True)
                await browser.close()
        finally:
            await store.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
