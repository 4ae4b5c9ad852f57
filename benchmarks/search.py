"""Time `search` with 100,000 and 1,000,000 stored articles, beside the substring scan it replaced.

Run: .venv/bin/python benchmarks/search.py [--sizes 100000 1000000] [--postgresql URL]

For each size, a database at schema 0007 (before full-text search) is filled with synthetic
articles: headlines and summaries from benchmarks/_synthetic (English, 90 %), and short Russian
and Korean reports (5 % each) that inflect the same words in different ways. The same run then
times, query by query, the search of 0007 (every word as a LIKE '%word%' over the case-folded
title and summary, newest first: SqlArticles.search as it was, copied here), migrates the
database to 0008 (timed: the migration builds the index for every stored article), and times
SqlArticles.search as it is now. Each figure is the median of several runs after a warm-up, for
the 51 articles `/nkru search` reads (10 lines, up to 5 articles a line, and one to tell "more").

SQLite runs in a temporary file. With --postgresql (a server URL; its user needs CREATEDB),
PostgreSQL runs too, in a database of its own, `nkru_bench_search`, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Select, and_, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks import _synthetic
from storage.articles import COLUMNS
from storage.engine import MIGRATIONS, Store
from storage.schema import articles

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=120)
LIMIT = 51
BENCH_DATABASE = "nkru_bench_search"
QUERIES = (
    "vladivostok",  # a place: about 2 % of the articles
    "bridge",  # a topic noun
    "bridge vladivostok",  # two words, both needed
    '"tumen river"',  # a phrase (the old search: both words anywhere)
    _synthetic._TAIL[4321],  # a word of the long tail: about 0.1 %
    "zanzibar",  # no match
    "said",  # in most articles: the most a ranked search has to sort
    "мост",  # Russian (the old search also found "уязвимости" for it)
    "북한",  # Korean
)
_RU_SUBJECTS = ("Москва", "Пхеньян", "Кремль", "Лавров", "Минобороны", "Правительство Приморья")
_RU_VERBS = ("заявил", "объявила", "обсудили", "открыли", "начали строить", "проверили")
_RU_OBJECTS = (
    "новый мост", "автомобильного моста", "санкции", "поставки нефти", "переговоры о мосте",
    "уязвимости системы", "учения флота", "границу на реке Туманной", "железную дорогу",
)  # fmt: skip
_RU_PLACES = ("в Хасане", "во Владивостоке", "в Расоне", "по мосту", "в Москве", "на границе")
_KO_SUBJECTS = ("북한은", "러시아는", "김정은 위원장은", "푸틴 대통령은", "국방부는", "통일부는")
_KO_OBJECTS = ("두만강 다리를", "군사 협력을", "원유 수출을", "노동자 파견을", "대북 제재를")
_KO_VERBS = ("발표했다", "확대했다", "논의했다", "개통했다", "비판했다", "확인했다")
_KO_PLACES = ("평양에서", "모스크바에서", "블라디보스토크에서", "나선에서", "서울에서")


def articles_text(count: int) -> Iterator[tuple[str, str]]:
    """(title, summary) of `count` articles, the same every run."""
    rng = random.Random(_synthetic.SEED)
    english: Iterator[tuple[str, str]] = iter(())
    for index in range(count):
        roll = rng.random()
        if roll < 0.05:
            yield _report(rng, _RU_SUBJECTS, _RU_VERBS, _RU_OBJECTS, _RU_PLACES, korean=False)
        elif roll < 0.10:
            yield _report(rng, _KO_SUBJECTS, _KO_OBJECTS, _KO_VERBS, _KO_PLACES, korean=True)
        else:
            pair = next(english, None)
            if pair is None:
                english = iter(_synthetic.headlines(10_000, _synthetic.SEED + index))
                pair = next(english)
            yield pair


def _report(rng: random.Random, *parts: Sequence[str], korean: bool) -> tuple[str, str]:
    def sentence() -> str:
        first, second, third, place = (rng.choice(words) for words in parts)
        return (
            f"{place} {first} {second} {third}" if korean else f"{first} {place} {second} {third}"
        )

    return sentence(), ". ".join(sentence() for _ in range(rng.randint(3, 6))) + "."


def rows(count: int) -> Iterator[tuple[Any, ...]]:
    """Article rows as schema 0007 stored them (search_text: case-folded title and summary)."""
    rng = random.Random(7)
    for i, (title, summary) in enumerate(articles_text(count)):
        at = NOW - SPAN * rng.random()
        search_text = f"{title}\n{summary}".casefold()
        yield f"k{i}", f"https://news.example/{i}", title, summary, search_text, at


def fill_sqlite(path: Path, count: int) -> None:
    """Insert the articles with sqlite3 (fast)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO articles (item_key, url, title, summary, search_text, source_name,"
                " content_hash, published_at, fetched_at) VALUES (?, ?, ?, ?, ?, 'Wire', '', ?, ?)",
                ((*row[:5], _sqlite_time(row[5]), _sqlite_time(row[5])) for row in rows(count)),
            )
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def fill_postgresql(url: str, count: int) -> None:
    """Insert the articles with asyncpg's COPY (fast)."""
    import asyncpg

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        await conn.copy_records_to_table(
            "articles",
            columns=[
                *("item_key", "url", "title", "summary", "search_text"),
                *("source_name", "content_hash", "published_at", "fetched_at"),
            ],
            records=((*row[:5], "Wire", "", row[5], row[5]) for row in rows(count)),
        )
        await conn.execute("ANALYZE articles")
    finally:
        await conn.close()


def _sqlite_time(value: datetime) -> str:
    # How SQLAlchemy's SQLite DATETIME stores the naive UTC values UTCDateTime hands it.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def substring_scan(query: str, limit: int) -> Select[Any]:
    """The search of schema 0007 (SqlArticles.search before full-text search)."""
    words = query.casefold().replace('"', " ").split()
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    condition = and_(*(articles.c.search_text.like(f"%{w}%", escape="\\") for w in escaped))
    return (
        select(*COLUMNS)
        .where(condition)
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
    )


async def median_time(run: Callable[[], Awaitable[int]], repeats: int) -> tuple[float, int]:
    """Median seconds of `repeats` runs after one warm-up, and what the run returned."""
    found = await run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), found


async def measure(url: str, count: int, fill: Callable[[int], Awaitable[None]]) -> None:
    """Fill a database at 0007, time the old search, migrate (timed), time the new one."""
    store = await Store.open(url, migrate=False)
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(_upgrade_to_0007)
        started = time.perf_counter()
        await fill(count)
        filled = time.perf_counter() - started
        repeats = 3 if count >= 1_000_000 else 5

        async def old(query: str) -> int:
            async with store.transaction() as tx:
                return len((await tx.connection.execute(substring_scan(query, LIMIT))).all())

        async def new(query: str) -> int:
            async with store.transaction() as tx:
                return len(await tx.articles.search(query, LIMIT))

        before = [await median_time(lambda q=q: old(q), repeats) for q in QUERIES]
        started = time.perf_counter()
        await store.upgrade()
        migrated = time.perf_counter() - started
        after = [await median_time(lambda q=q: new(q), repeats) for q in QUERIES]
    finally:
        await store.close()
    print(f"\n{store.dialect}, {count:,} articles (filled in {filled:.0f} s)")
    print(f"migration 0008 (search terms and index for every article): {migrated:.1f} s")
    print(f"{'query':<22} {'found':>11} {'substring ms':>13} {'full-text ms':>13} {'ratio':>7}")
    for query, (old_s, old_n), (new_s, new_n) in zip(QUERIES, before, after, strict=True):
        print(
            f"{query:<22} {old_n:>4} → {new_n:>4} {old_s * 1000:>13.1f} {new_s * 1000:>13.1f}"
            f" {new_s / old_s:>7.3f}"
        )
    print("(found: articles returned, at most 51; ratio: full-text time / substring time)")


def _upgrade_to_0007(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "0007")


async def _admin(server: str, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def main(sizes: list[int], postgresql: str | None) -> None:
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "search.db"
            fill = functools.partial(asyncio.to_thread, fill_sqlite, db)
            await measure(f"sqlite+aiosqlite:///{db}", count, fill)
        if postgresql:
            own = make_url(postgresql).set(database=BENCH_DATABASE).render_as_string(False)
            await _admin(postgresql, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
            await _admin(postgresql, f"CREATE DATABASE {BENCH_DATABASE}")
            try:
                await measure(own, count, functools.partial(fill_postgresql, own))
            finally:
                await _admin(postgresql, f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--postgresql", help="e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sizes, arguments.postgresql))
