"""Time the web panel's pages with 100,000 stored stories: server render time, p50 and p95.

Run: .venv/bin/python benchmarks/panel.py [--stories 100000] [--rounds 40] [--page NAME …]
    [--no-sqlite] [--database NAME]

`--page trends` times only the pages whose name contains "trends" (repeatable); `--no-sqlite`
skips SQLite (PostgreSQL only).

Fills a database with STORIES stories (120,000 articles: every story's lead and 20,000 more
reports; a third of the stories matched a watchlist theme; 5 % Russian and 5 % Korean titles,
from benchmarks/search.py's text), then serves the real panel (bot.web + bot.panel over the real
command service, as tests/panel does) on 127.0.0.1, signs in with a one-time link and times each
page as the server sees it: from the request reaching aiohttp to the rendered response (a
middleware around the panel's own), over `--rounds` requests after a warm-up. SQLite in a
temporary file; PostgreSQL too when NKRU_TEST_DATABASE_URL is set (in a database of its own,
`--database`, by default nkru_bench_panel, made afresh and dropped at the end: give each run
on a shared server a name of its own).

"stories, page 40" is reached as a reader does, by following the "older" link 39 times. The
watchlist pages run on the default watchlist stored as version 1; "watchlist preview" is the
editor's Preview of a one-term change to one theme over the last 7 days' articles (~9,000 of
the 120,000), a POST: each adds another term ("pontoon crossing 1", 2, …).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import html
import re

import aiohttp
from aiohttp import web
from sqlalchemy import insert, make_url, text

from benchmarks.search import articles_text
from bot.collector import settle_collector
from bot.core.search_terms.terms import index_text
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.parts import find_part, part_text
from bot.settings import normalize_database_url
from storage import theme_starts
from storage.engine import Store
from storage.schema import article_themes, articles, feeds, stories
from tests.conftest import REPO_ROOT
from tests.core.commands.conftest import NOW
from tests.panel.support import ADMIN, WATCHLIST, Panel, running_panel

BENCH_DATABASE = "nkru_bench_panel"
EXTRA_REPORTS = 20_000
OUTLETS = 40
BATCH = 2_000
SPAN = timedelta(days=90)
OLDER = re.compile(r'<a href="(/stories\?[^"]+)">older →</a>')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
EDITED = "theme:tumen-bridge"


def _rows(count: int, themes: list[str]) -> tuple[list[dict[str, object]], ...]:
    """Feeds, stories, articles and matches, deterministic."""
    rng = random.Random(17)
    texts = list(articles_text(count + EXTRA_REPORTS))
    feed_rows = [
        {"id": i + 1, "url": f"https://outlet{i}.example/rss", "name": f"Outlet {i}",
         "interval_seconds": 1800, "created_at": NOW}
        for i in range(OUTLETS)
    ]  # fmt: skip
    story_rows, article_rows, theme_rows = [], [], []
    for n in range(count + EXTRA_REPORTS):
        story = n + 1 if n < count else rng.randint(1, count)
        at = NOW - SPAN * rng.random()
        title, summary = texts[n]
        feed = rng.randint(1, OUTLETS)
        article_rows.append(
            {"id": n + 1, "item_key": f"k{n}", "feed_id": feed, "story_id": story,
             "url": f"https://outlet{feed - 1}.example/{n}", "title": title, "summary": summary,
             "search_text": index_text(title, summary), "source_name": f"Outlet {feed - 1}",
             "content_hash": f"h{n}", "published_at": at, "fetched_at": at}
        )  # fmt: skip
        if n < count:
            story_rows.append(
                {"id": story, "title": title, "lead_article_id": n + 1, "first_seen_at": at,
                 "last_seen_at": at, "article_count": 1, "signature": b"\0" * 8}
            )  # fmt: skip
        if rng.random() < 1 / 3:
            theme_rows.append(
                {"article_id": n + 1, "theme": rng.choice(themes), "score": 2 + 5 * rng.random(),
                 "why": "synthetic: a term in the title", "explanation": {"terms": ["x"]}}
            )  # fmt: skip
    return feed_rows, story_rows, article_rows, theme_rows


async def fill(store: Store, count: int, themes: list[str]) -> None:
    """Insert the rows in batches."""
    tables = (feeds, stories, articles, article_themes)
    for table, rows in zip(tables, _rows(count, themes), strict=True):
        for start in range(0, len(rows), BATCH):
            async with store.transaction() as tx:
                await tx.connection.execute(insert(table), rows[start : start + BATCH])
    async with store.transaction() as tx:  # what ingest keeps for the trends, from the rows
        await theme_starts.refresh(tx.connection, range(1, count + 1))
    if store.dialect == "sqlite":
        async with store.transaction() as tx:
            await tx.connection.execute(text("ANALYZE"))
        return
    # What autovacuum does to a database in use: without it the first reads of freshly
    # inserted rows set their hint bits (writes), and searches timed it rather than the query.
    async with store.engine.connect() as conn:
        vacuum = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await vacuum.execute(text("VACUUM ANALYZE articles, stories, article_themes, story_themes"))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def timing() -> tuple[list[float], Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]]:
    """A middleware that records each request's time in the server, and the list it fills."""
    spent: list[float] = []

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        try:
            return await handler(request)
        finally:
            spent.append((time.perf_counter() - start) * 1000)

    return spent, timed


def chosen(name: str, only: list[str]) -> bool:
    """Whether a page is timed: every page, or those whose name contains one of `only`."""
    return not only or any(part in name for part in only)


async def measure(url: str, count: int, rounds: int, only: list[str]) -> None:
    matcher = WatchlistMatcher.load(REPO_ROOT / "watchlists")
    themes = [info.slug for info in matcher.catalog().all()]
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        await fill(store, count, themes)
        print(f"{store.dialect}: {count:,} stories stored in {time.perf_counter() - started:.0f} s")
        spent, timed = timing()
        jar = aiohttp.CookieJar(unsafe=True)
        async with (
            running_panel(store, matcher, middleware=timed) as panel,
            aiohttp.ClientSession(cookie_jar=jar) as client,
        ):
            async with client.post(await panel.link(ADMIN)) as signed:
                assert signed.status == 200, signed.status
            # As `nkru run` does once started (here the fill's leftovers are frozen too).
            settle_collector()
            pages = {
                "stories": "/stories",
                "stories, one theme": f"/stories?theme={themes[0]}",
                "stories, Korean": "/stories?language=ko",
                "stories, page 40": await page_40(client, panel.url)
                if chosen("stories, page 40", only)
                else "",
                "story": "/stories/4321",
                "search (word in ~8 %)": "/search?q=vladivostok",
                "search (two words)": "/search?q=bridge+vladivostok",
                "watchlist": "/watchlist",
                "watchlist version": "/watchlist/versions/1",
                "watchlist editor": f"/watchlist/edit?part={EDITED}",
                "trends, 30 days": "/trends",
                "trends, 90 days": "/trends?days=90",
                "trends PNG, 90 days": "/trends.png?days=90",
            }
            for name, path in pages.items():
                if chosen(name, only):
                    await time_page(client, panel.url + path, None, spent, name, rounds)
            if chosen("watchlist preview", only):
                form = await preview_form(client, panel)
                url = f"{panel.url}/watchlist/edit"
                await time_page(client, url, form, spent, "watchlist preview", rounds)
    finally:
        await store.close()


async def page_40(client: aiohttp.ClientSession, base: str) -> str:
    """The address of the 40th page of stories, by the "older" links."""
    path = "/stories"
    for _ in range(39):
        async with client.get(base + path) as page:
            found = OLDER.search(await page.text())
        assert found is not None, path
        path = html.unescape(found.group(1))
    return path


async def preview_form(client: aiohttp.ClientSession, panel: Panel) -> Callable[[], dict[str, str]]:
    """The editor's form with one term added to a theme, as Preview sends it: a new term each
    time (the draft differs from the last one, as while an admin edits)."""
    async with client.get(f"{panel.url}/feeds") as page:
        found = CSRF.search(await page.text())
    assert found is not None
    csrf, document = found.group(1), WATCHLIST.read_text(encoding="utf-8")
    sent = itertools.count(1)

    def form() -> dict[str, str]:
        draft = add_terms(document, "tumen-bridge", [f"pontoon crossing {next(sent)}"])
        text = part_text(draft, find_part(draft, EDITED))
        return {"csrf": csrf, "part": EDITED, "based_on": "1", "text": text, "action": "preview"}

    return form


async def time_page(
    client: aiohttp.ClientSession,
    url: str,
    form: Callable[[], dict[str, str]] | None,
    spent: list[float],
    name: str,
    rounds: int,
) -> None:
    """Print the server's p50 and p95 for one page (a GET, or a POST of what `form` gives)."""

    async def fetch() -> None:
        ask = client.get(url) if form is None else client.post(url, data=form())
        async with ask as page:
            await page.read()
            assert page.status == 200, (url, page.status)

    for _ in range(3):  # warm-up
        await fetch()
    spent.clear()
    for _ in range(rounds):
        await fetch()
    p50 = statistics.median(spent)
    p95 = statistics.quantiles(spent, n=20)[-1]
    print(f"  {name:24} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")


async def main(count: int, rounds: int, only: list[str], sqlite: bool, database: str) -> None:
    if sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'panel.db'}"
            await measure(url, count, rounds, only)
    server = os.environ.get("NKRU_TEST_DATABASE_URL")
    if server:
        server = normalize_database_url(server)
        from benchmarks.search import _admin

        await _admin(server, f'DROP DATABASE IF EXISTS "{database}"')
        await _admin(server, f'CREATE DATABASE "{database}"')
        try:
            own = make_url(server).set(database=database).render_as_string(False)
            await measure(own, count, rounds, only)
        finally:
            await _admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument(
        "--page", action="append", default=[], help="time only pages whose name contains this"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--database",
        default=BENCH_DATABASE,
        help="the PostgreSQL database made (and dropped) for the run on the server",
    )
    options = parser.parse_args()
    sqlite = not options.no_sqlite
    asyncio.run(main(options.stories, options.rounds, options.page, sqlite, options.database))
