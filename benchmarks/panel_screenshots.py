"""Save screenshots of the panel's main pages to docs/screenshots/ (for the README).

Run: .venv/bin/python benchmarks/panel_screenshots.py

Serves the real panel over a temporary SQLite database with the test suite's sample news
(tests/panel/support.py), signs in as an admin in Debian's Chromium (/usr/bin/chromium) and
shoots each page at desktop width, and the stories page at phone width too.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright

from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.panel.browser import CHROMIUM
from tests.panel.support import ADMIN, publish_news, running_panel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"stories": "/stories", "story": "/stories/2", "search": "/search?q=bridge",
         "feeds": "/feeds", "audit": "/audit"}  # fmt: skip


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    matcher = WatchlistMatcher.load(ROOT / "watchlists")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(folder) / 'panel.db'}")
        try:
            async with running_panel(store, matcher) as panel, async_playwright() as pw:
                await publish_news(panel.world)
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM))
                page = await browser.new_page(viewport={"width": 1100, "height": 800})
                await page.goto(await panel.link(ADMIN))
                await page.get_by_role("button", name="Sign in").click()
                for name, path in PAGES.items():
                    await page.goto(panel.url + path)
                    await page.screenshot(path=OUT / f"{name}.png", full_page=True)
                await page.set_viewport_size({"width": 390, "height": 844})
                await page.goto(panel.url + "/stories")
                await page.screenshot(path=OUT / "stories-phone.png", full_page=True)
                await browser.close()
        finally:
            await store.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
