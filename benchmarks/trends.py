"""Time the trends: the stories-per-theme-per-day query over 30 and 90 days, and the chart.

Run: .venv/bin/python benchmarks/trends.py [--stories 100000] [--postgresql URL]

A database (SQLite in a temporary file; with --postgresql also `nkru_bench_trends` on that
server, dropped at the end) holds N stories published over the last 120 days, one to three
reports each, a fifth of them matched to one or two of the default watchlist's eight themes.
Printed: the median of five `load_trends` calls after a warm-up for 30 and 90 days, and the
time to lay out the 90-day chart and draw it as SVG, as PNG and as CSV.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.commands.model import ThemeInfo
from bot.core.trends import layout, load_trends, render_png, render_svg, to_csv
from storage import theme_starts
from storage.engine import Store
from storage.schema import article_themes, articles, stories

NOW = datetime.now(UTC)
BENCH_DATABASE = "nkru_bench_trends"
THEMES = [
    ThemeInfo(slug, title)
    for slug, title in (
        ("tumen-bridge", "Tumen River bridge"), ("arms-transfers", "Arms transfers"),
        ("troops", "Troops and workers"), ("un-veto", "UN veto"),
        ("sanctions-evasion", "Sanctions evasion"), ("summits", "Summits and treaties"),
        ("energy-trade", "Energy, trade and transport"), ("military-tech", "Military technology"),
    )
]  # fmt: skip
CHUNK = 5000


def rows(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Stories, their articles and the articles' themes, deterministic."""
    rng = random.Random(17)
    story_rows, article_rows, theme_rows = [], [], []
    article_id = 0
    for story_id in range(1, count + 1):
        first = NOW - timedelta(minutes=rng.randrange(120 * 24 * 60))
        story_rows.append(
            {"id": story_id, "title": f"Story {story_id}", "first_seen_at": first,
             "last_seen_at": first, "article_count": 1, "signature": b"s"}
        )  # fmt: skip
        matched = rng.sample(THEMES, rng.choice((1, 1, 2))) if rng.random() < 0.2 else []
        for report in range(rng.choice((1, 1, 2, 3))):
            article_id += 1
            when = first + timedelta(hours=report * 5)
            article_rows.append(
                {"id": article_id, "item_key": f"k{article_id}", "story_id": story_id,
                 "title": "t", "summary": "s", "search_text": "t s", "source_name": "Wire",
                 "content_hash": "h", "published_at": when, "fetched_at": when}
            )  # fmt: skip
            for theme in matched:
                theme_rows.append(
                    {"article_id": article_id, "theme": theme.slug, "score": 2.0, "why": "w",
                     "explanation": {}}
                )  # fmt: skip
    return story_rows, article_rows, theme_rows


async def fill(store: Store, count: int) -> None:
    for table, values in zip((stories, articles, article_themes), rows(count), strict=True):
        for start in range(0, len(values), CHUNK):
            async with store.transaction() as tx:
                await tx.connection.execute(insert(table), values[start : start + CHUNK])
    async with store.transaction() as tx:  # what ingest keeps for the trends, from the rows
        await theme_starts.refresh(tx.connection, range(1, count + 1))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


async def measure(url: str, count: int) -> list[str]:
    store = await Store.open(url)
    try:
        await fill(store, count)
        lines = []
        for days in (30, 90):
            await load_trends(store, THEMES, NOW.date(), days)
            times = []
            for _ in range(5):
                start = time.perf_counter()
                trends = await load_trends(store, THEMES, NOW.date(), days)
                times.append(time.perf_counter() - start)
            total = sum(sum(series.counts) for series in trends.series)
            lines.append(
                f"{count:,} stories, {days} days: query {statistics.median(times) * 1000:.0f} ms "
                f"({total:,} theme-stories)"
            )
        chart = layout(trends)
        draw = [timed(lambda: layout(trends)), timed(lambda: render_svg(chart))]
        draw += [timed(lambda: render_png(chart)), timed(lambda: to_csv(trends))]
        lines.append(
            "90-day chart: layout {:.1f} ms, SVG {:.1f} ms, PNG {:.1f} ms, CSV {:.1f} ms".format(
                *(t * 1000 for t in draw)
            )
        )
        return lines
    finally:
        await store.close()


async def admin(server: str, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def main(count: int, server: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for line in await measure(f"sqlite+aiosqlite:///{folder}/trends.db", count):
            print("sqlite     ", line)
    if server is None:
        return
    await admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    await admin(server, f'CREATE DATABASE "{BENCH_DATABASE}"')
    try:
        url = make_url(server).set(database=BENCH_DATABASE).render_as_string(False)
        for line in await measure(url, count):
            print("postgresql ", line)
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--postgresql", help="a server URL (postgresql+asyncpg://…)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.stories, arguments.postgresql))
