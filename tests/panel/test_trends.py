"""The trends page over real HTTP on both databases: the chart inline, PNG and CSV downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from tests.core.commands.conftest import NOW
from tests.panel.support import MEMBER, Panel, browser_session
from tests.panel.test_auth import signed_in
from tests.panel.test_pages import text_of


@pytest.fixture
async def member(panel: Panel) -> AsyncIterator[aiohttp.ClientSession]:
    async with browser_session() as session:
        await signed_in(session, panel, await panel.link(MEMBER))
        yield session


async def test_the_page_draws_the_chart_inline_for_30_or_90_days(
    panel: Panel, member: aiohttp.ClientSession
) -> None:
    page = await text_of(member, f"{panel.url}/trends")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert "last 30 days" in page and 'href="/trends.csv?days=30"' in page
    async with panel.store.transaction() as tx:
        since = NOW - timedelta(days=30)
        rows = await tx.themes.new_stories_per_day(since, NOW + timedelta(days=1))
    bridge = sum(count for _, slug, count in rows if slug == "tumen-bridge")
    assert bridge > 0 and f"Tumen River bridge: {bridge}</li>" in page  # the totals
    ninety = await text_of(member, f"{panel.url}/trends?days=90")
    assert 'href="/trends.png?days=90"' in ninety
    refused = await text_of(member, f"{panel.url}/trends?days=7", 400)
    assert "days must be 30 or 90" in refused


async def test_the_counts_download_as_csv_and_the_chart_as_png(
    panel: Panel, member: aiohttp.ClientSession
) -> None:
    day = NOW.date().isoformat()
    async with member.get(f"{panel.url}/trends.csv?days=30") as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
        disposition = answer.headers["Content-Disposition"]
        assert disposition == f'attachment; filename="nkru-trends-30d-{day}.csv"'
        rows = list(csv.reader(io.StringIO(await answer.text())))
    assert rows[0] == ["date", "theme", "stories"]
    bridge = [row for row in rows if row[:2] == [day, "tumen-bridge"]]
    assert len(bridge) == 1 and int(bridge[0][2]) > 0  # today's bridge stories
    assert len(rows) == 1 + 30 * len({row[1] for row in rows[1:]})  # every day, every theme
    async with member.get(f"{panel.url}/trends.png?days=90") as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/png"
        assert answer.headers["Content-Disposition"].endswith(f'90d-{day}.png"')
        assert (await answer.read()).startswith(b"\x89PNG\r\n\x1a\n")
