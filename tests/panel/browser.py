"""Debian's Chromium for the browser tests, driven by Playwright (never a downloaded browser).

Without it the tests skip, saying why; with NKRU_TEST_REQUIRE_BROWSER set (.ci/run) they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = "NKRU_TEST_REQUIRE_BROWSER"


def chromium() -> Path:
    """Chromium's path; skips the test without it (fails it when REQUIRE is set)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    why = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get(REQUIRE):
        pytest.fail(f"{why}, and {REQUIRE} is set")
    pytest.skip(why)


@asynccontextmanager
async def launched() -> AsyncIterator[Browser]:
    """Chromium, headless, for one test."""
    path = chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(path), headless=True)
        try:
            yield browser
        finally:
            await browser.close()
