"""Fixtures of the panel tests: the panel running over a real database with stories in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.conftest import REPO_ROOT
from tests.panel.support import Panel, publish_news, running_panel


@pytest.fixture(scope="session")
def matcher() -> WatchlistMatcher:
    return WatchlistMatcher.load(REPO_ROOT / "watchlists")


@pytest.fixture
async def panel(store: Store, matcher: WatchlistMatcher) -> AsyncIterator[Panel]:
    async with running_panel(store, matcher) as running:
        await publish_news(running.world)
        yield running
