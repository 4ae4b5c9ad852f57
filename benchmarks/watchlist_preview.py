"""Time the watchlist edit preview with 1,000 and 10,000 articles published in the last week.

Run: .venv/bin/python benchmarks/watchlist_preview.py [--sizes 1000 10000] [--postgresql URL]

A database (SQLite in a temporary file; with --postgresql also a database of its own on that
server, `nkru_bench_preview`, dropped at the end) holds the default watchlist as version 1 and
N articles published over the last seven days, of three kinds of news:

* "real": the 1,860 items of 55 real feeds (../shared/corpus/real-feeds, skipped where it is
  absent), repeated: world news, of which the watchlist files almost nothing;
* "wire": synthetic agency copy (benchmarks/_synthetic), of which the watchlist files ~15 %;
* "on-topic": the labelled and held-out articles of tests/data (North Korea and Russia, in
  English, Russian and Korean), repeated, of which it files ~70 %, and where the edited themes'
  terms occur in most: the worst case.

The draft adds a term to one theme and an exclusion to another (a typical edit); each call
adds one more term ("pontoon crossing 1", 2, …), so that no two drafts are alike, as while an
admin edits (what the loader and the compiler keep by content, `bot.core.watchlist.kept`,
serves the themes and automata that did not change, not the whole draft). Printed: the
median of five `preview_draft` calls after a warm-up (wall clock, and CPU time, steadier on a
busy machine), and its parts' wall clock: reading the articles, compiling the two matchers,
matching the articles (both matchers only where a changed theme's term occurs: `Probe`), and
how many articles the version in force files, how many the probe let through, what changes.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks import _synthetic
from bot.core.models import NewArticle
from bot.core.poll.parse import parse_feed
from bot.core.records import NewFeed
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.editor import FILE_AUTHOR, WatchlistEditor, When
from bot.core.watchlist_editing.live import compile_matcher
from bot.core.watchlist_editing.preview import Probe, compare, preview_draft
from storage.engine import Store

ROOT = Path(__file__).resolve().parents[1]
WATCHLIST = ROOT / "watchlists" / "nkru.toml"
DATA = ROOT / "tests" / "data"
REAL_FEEDS = ROOT.parent / "shared" / "corpus" / "real-feeds"
NOW = datetime.now(UTC)
BENCH_DATABASE = "nkru_bench_preview"
RUNS = 5
KINDS = ("real", "wire", "on-topic") if REAL_FEEDS.is_dir() else ("wire", "on-topic")


def on_topic() -> list[tuple[str, str]]:
    """The labelled articles of tests/data: (title, summary)."""
    rows = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            rows.append((item["title"], item["summary"]))
    return rows


def real_news() -> list[tuple[str, str]]:
    """The items of the real feeds next to the repository (../shared/corpus/real-feeds)."""
    rows = []
    for path in sorted(p for p in REAL_FEEDS.iterdir() if p.is_file() and p.suffix != ".tsv"):
        body = path.read_bytes()
        body = gzip.decompress(body) if path.suffix == ".gz" else body
        feed = parse_feed(body, url="http://example.com/", fetched_at=NOW)
        rows += [(entry.title, entry.summary) for entry in feed.entries]
    return rows


def texts(kind: str, count: int) -> list[tuple[str, str]]:
    """`count` (title, summary) pairs of one kind of news."""
    if kind == "wire":
        return _synthetic.headlines(count, _synthetic.SEED)
    pool = on_topic() if kind == "on-topic" else real_news()
    return [pool[i % len(pool)] for i in range(count)]


async def fill(store: Store, kind: str, count: int) -> None:
    """Version 1 of the watchlist and `count` articles spread over the last week."""
    editor = WatchlistEditor(store, lambda: NOW)
    document = WATCHLIST.read_text(encoding="utf-8")
    await editor.store_document(document, WATCHLIST, FILE_AUTHOR, source="seed", when=When.EMPTY)
    async with store.transaction() as tx:
        feed = await tx.feeds.add(NewFeed("https://wire.example/rss", "Wire", 900), NOW)
        step = timedelta(days=7) / (count + 1)
        pairs = enumerate(texts(kind, count))
        new = [article(feed.id, f"{kind}-{i}", pair, NOW - step * (i + 1)) for i, pair in pairs]
        await tx.articles.insert_new(new)


def article(feed_id: int, key: str, pair: tuple[str, str], when: datetime) -> NewArticle:
    """One article of the wire, published and fetched `when`."""
    title, summary = pair
    return NewArticle(feed_id, key, None, None, title, summary, when, when, f"h-{key}", "Wire")


async def median(action: Callable[[], Awaitable[object]]) -> float:
    """Median wall-clock seconds of RUNS calls after one warm-up."""
    return (await medians(action))[0]


async def medians(action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (every thread of this process) of RUNS calls after one
    warm-up: on a machine busy with other work the CPU time is the steadier figure."""
    await action()
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        await action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


async def measure(url: str, kind: str, count: int) -> str:
    store = await Store.open(url)
    try:
        await fill(store, kind, count)
        editor = WatchlistEditor(store, lambda: NOW)
        version, current = await editor.latest()
        draft = add_terms(version.document, "tumen-bridge", ["pontoon crossing"])
        draft = add_terms(draft, "troops", ["Kursk"], "exclude")
        proposed = load_watchlist_text(draft, "nkru.toml")

        async def read() -> object:
            async with store.transaction() as tx:
                return await tx.articles.published_since(NOW - timedelta(days=7), 50_001)

        # One draft more per call (a warm-up and RUNS timed) for the whole and for `build`.
        calls = RUNS + 1
        drafts = [
            add_terms(draft, "tumen-bridge", [f"pontoon crossing {n}"]) for n in range(2 * calls)
        ]
        loaded = iter([load_watchlist_text(text, "nkru.toml") for text in drafts[calls:]])
        unseen = iter(drafts[:calls])

        async def build() -> object:
            return compile_matcher(current), compile_matcher(next(loaded))

        found = await read()
        assert isinstance(found, list) and len(found) == count
        before, after = compile_matcher(current), compile_matcher(proposed)

        async def match() -> object:
            return compare(before, after, found)

        whole, cpu = await medians(lambda: preview_draft(editor, next(unseen), NOW))
        parts = [await median(read), await median(build), await median(match)]
        result = compare(before, after, found)
        probe = Probe(before, after)
        concerned = sum(probe.may_differ(a.title, a.summary) for a in found)
        filed = sum(bool(before.matcher.match(a.title, a.summary)) for a in found)
        return (
            f"{count:>6,} {kind:<9} {whole * 1000:5.0f} ms, CPU {cpu * 1000:4.0f} ms "
            f"(read {parts[0] * 1000:.0f}, "
            f"compile {parts[1] * 1000:.0f}, match {parts[2] * 1000:.0f}; "
            f"{filed:,} filed, {concerned:,} matched twice, "
            f"+{result.newly_total} −{result.stopped_total})"
        )
    finally:
        await store.close()


async def postgres_url(server: str) -> str:
    """A fresh database of this benchmark's own on the server."""
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    await engine.dispose()
    return make_url(server).set(database=BENCH_DATABASE).render_as_string(False)


async def drop(server: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    await engine.dispose()


async def main(sizes: list[int], server: str | None) -> None:
    print("              articles news      preview (median of 5, wall clock and CPU)")
    with tempfile.TemporaryDirectory() as folder:
        for count in sizes:
            for kind in KINDS:
                path = Path(folder) / f"{kind}-{count}.db"
                print("sqlite    ", await measure(f"sqlite+aiosqlite:///{path}", kind, count))
    if server is None:
        return
    try:
        for count in sizes:
            for kind in KINDS:
                print("postgresql", await measure(await postgres_url(server), kind, count))
    finally:
        await drop(server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--postgresql", help="a server URL (postgresql+asyncpg://…)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sizes, arguments.postgresql))
