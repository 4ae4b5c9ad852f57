"""Throughput of the polling pipeline, end to end, on synthetic feeds and a SQLite file database.

Run ``.venv/bin/python benchmarks/pipeline.py`` (full: 1,000 feeds x 50 items, clustering with
1,000 and 100,000 stories; a few minutes on 2 cores) or ``--quick`` (100 feeds, 1,000 and
10,000 stories) for a smoke check. Feeds come from ``benchmarks/_synthetic.py``: half RSS 2.0,
half Atom 1.0, ~70-character headlines, 300-600 character HTML descriptions, generated from word
lists with a fixed seed (about 5 % of the items are near-duplicates of a shared pool of stories).
Every database is a fresh SQLite file in a temporary folder, opened with ``Store.open`` (so
migrated and in WAL mode, ``synchronous=NORMAL``, exactly as the bot runs).

What each figure means:

1. **pipeline** - articles/s through the real code path, one feed after another:
   ``parse.parse_feed`` (feedparser + normalising: plain text, canonical URLs, UTC dates),
   ``pipeline._articles`` (layer-(a) dedup keys and content hashes) and ``ingest.ingest`` in one
   transaction per feed (``insert_new``, clustering every new article into a story, queueing one
   outbox alert per new story to ``console``; flood guard off). Every item is new. The breakdown
   below it says where the time goes; the ingest sub-rows are measured by wrapping the
   repository/cluster functions that ``ingest`` calls with a stopwatch.
2. **feedparser alone** - articles/s of ``feedparser.parse(body)`` on the same 1,000 bodies.
   It is the floor under (1): the pipeline calls feedparser and then does more.
3. **ratio** - pipeline rate / feedparser rate (1.0 would mean everything after feedparser is
   free; the project aims at >= 0.8).
4. **re-poll** - the real HTTP path: an aiohttp server in a separate process on 127.0.0.1 serves
   the 1,000 bodies; ``pipeline.poll_feed`` runs for every feed (all at once with
   ``asyncio.gather``, like ``app.poll_all_once``) with a real ``FeedFetcher`` (global_limit 50,
   no per-host limit since every feed is on 127.0.0.1). *first poll* fetches, parses and stores
   everything; *re-poll (304)* is the next round against a server honouring ``If-None-Match``;
   *re-poll (no ETag)* is a server that ignores validators and sends the same 200 body (the
   fetcher's body hash says "unchanged"); *re-poll (changed body)* sends every body with a new
   trailing comment, as servers that rebuild ``lastBuildDate`` on every request do: parsed
   again, nothing new to store. The aim is re-poll >= 10x faster than the first poll.
5. **clustering** - cost per new item of layer-(b) dedup through the real SQL path with N
   stories already in the 72 h window (bulk-loaded stories + story_bands): for each of 2,000
   items (80 % new stories, 20 % near-duplicates of stored ones) ``cluster.fingerprint``,
   ``stories.candidates``, ``cluster.best_match`` and ``stories.create``/``attach``, 50 items
   per transaction. The aim is cost(100,000) <= 2 x cost(1,000). An in-memory ``StoryIndex``
   figure is printed when ``bot.core.cluster`` provides one.
6. **memory** - peak resident set size of this process (``ru_maxrss``) after each part, of the
   server process, and the ``tracemalloc`` peak of the Python heap while running the pipeline
   of (1) over a separate, smaller slice of feeds (tracemalloc slows Python down too much to
   run during the timed pass).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import importlib.metadata
import inspect
import multiprocessing
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import feedparser
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _synthetic as synthetic  # noqa: E402  (the helper module next to this file)

from bot.core import cluster  # noqa: E402
from bot.core.feed_health import PollPolicy  # noqa: E402
from bot.core.fetch import FeedFetcher  # noqa: E402
from bot.core.ingest import AlertPolicy, ingest  # noqa: E402
from bot.core.models import Feed  # noqa: E402
from bot.core.parse import parse_feed  # noqa: E402
from bot.core.pipeline import PollContext, PollReport, _articles, poll_feed  # noqa: E402
from storage import articles as article_repo  # noqa: E402
from storage import feeds as feed_repo  # noqa: E402
from storage import outbox as outbox_repo  # noqa: E402
from storage import stories as story_repo  # noqa: E402
from storage.engine import Store  # noqa: E402
from storage.feeds import NewFeed  # noqa: E402

ITEMS_PER_FEED = 50
CLUSTER_ITEMS = 2_000
CLUSTER_BATCH = 50  # items per transaction, like one feed's new items
NEAR_DUPLICATE_SHARE = 0.2
WINDOW = timedelta(hours=72)
GLOBAL_LIMIT = 50
TRACEMALLOC_FEEDS = 50
DESTINATIONS = ("console",)


# --------------------------------------------------------------------------- reporting


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    label: str
    value: str
    note: str = ""


@dataclass(slots=True)
class Report:
    """The results table, filled part by part."""

    rows: list[Row] = field(default_factory=list)

    def section(self, title: str) -> None:
        """Start a numbered part of the table."""
        self.rows.append(Row(f"[{title}]", ""))

    def add(self, label: str, value: str, note: str = "") -> None:
        """Add one figure."""
        self.rows.append(Row(label, value, note))

    def print(self) -> None:
        """Print the table with aligned columns."""
        width = max(len(r.label) for r in self.rows) + 2
        vwidth = max(len(r.value) for r in self.rows) + 2
        print()
        print("=" * (width + vwidth + 40))
        for row in self.rows:
            if not row.value and row.label.startswith("["):
                print(f"\n{row.label}")
                continue
            print(f"  {row.label:<{width}}{row.value:>{vwidth}}   {row.note}".rstrip())
        print("=" * (width + vwidth + 40))


def progress(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"... {message}", file=sys.stderr, flush=True)


def rate(count: int, seconds: float) -> str:
    """Items per second, rounded for reading."""
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "inf"


def micros(seconds: float, count: int) -> str:
    """Microseconds per item."""
    return f"{seconds / count * 1e6:,.1f} µs" if count else "n/a"


def maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


def machine() -> list[tuple[str, str]]:
    """CPU, cores and versions, for the table header."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("feedparser", "SQLAlchemy", "aiosqlite", "aiohttp", "numpy")
    )
    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("packages", versions),
        ("platform", platform.platform()),
    ]


# --------------------------------------------------------------------------- stopwatch


@dataclass(slots=True)
class Lap:
    """Total time and calls of one wrapped function."""

    seconds: float = 0.0
    calls: int = 0


@contextmanager
def stopwatch(targets: list[tuple[ModuleType, str]]) -> Iterator[dict[str, Lap]]:
    """Temporarily wrap module functions so each call's wall time is added up by name."""
    laps: dict[str, Lap] = {}
    saved: list[tuple[ModuleType, str, Any]] = []
    for module, name in targets:
        original = getattr(module, name)
        lap = laps.setdefault(f"{module.__name__.rsplit('.', 1)[-1]}.{name}", Lap())
        wrapper = _async_wrapper(original, lap) if inspect.iscoroutinefunction(original) else (
            _sync_wrapper(original, lap)
        )
        saved.append((module, name, original))
        setattr(module, name, wrapper)
    try:
        yield laps
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def _async_wrapper(func: Callable[..., Awaitable[Any]], lap: Lap) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            lap.seconds += time.perf_counter() - started
            lap.calls += 1

    return timed


def _sync_wrapper(func: Callable[..., Any], lap: Lap) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            lap.seconds += time.perf_counter() - started
            lap.calls += 1

    return timed


# --------------------------------------------------------------------------- databases


def sqlite_url(path: Path) -> str:
    """The async URL the bot uses for a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


async def add_feeds(store: Store, urls: list[str], names: list[str]) -> list[Feed]:
    """Store the feeds (interval 15 min) and return them in the order given."""
    now = datetime.now(UTC)
    new = [NewFeed(url, name, 900, "seed") for url, name in zip(urls, names, strict=True)]
    async with store.transaction() as conn:
        added = await feed_repo.add_missing(conn, new, now)
    by_url = {feed.url: feed for feed in added}
    return [by_url[url] for url in urls]


async def table_counts(store: Store) -> dict[str, int]:
    """Row counts of the tables the pipeline writes."""
    counts = {}
    async with store.transaction() as conn:
        for table in ("articles", "stories", "story_bands", "outbox"):
            result = await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = int(result.scalar_one())
    return counts


# --------------------------------------------------------------------------- 1 + 2: parse/store


@dataclass(slots=True)
class PipelineResult:
    """What the direct (no HTTP) pipeline pass measured."""

    seconds: float = 0.0
    parse: float = 0.0
    build: float = 0.0
    ingest: float = 0.0
    articles: int = 0
    new_stories: int = 0
    joined: int = 0
    alerts: int = 0
    laps: dict[str, Lap] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


INGEST_TARGETS: list[tuple[ModuleType, str]] = [
    (article_repo, "insert_new"),
    (article_repo, "set_story"),
    (cluster, "fingerprint"),
    (cluster, "best_match"),
    (story_repo, "candidates"),
    (story_repo, "create"),
    (story_repo, "attach"),
    (outbox_repo, "has_new_alert"),
    (outbox_repo, "enqueue"),
]


def bench_feedparser(feeds: list[synthetic.SyntheticFeed]) -> tuple[float, int]:
    """Seconds and entries for feedparser.parse over every body."""
    gc.collect()
    entries = 0
    started = time.perf_counter()
    for feed in feeds:
        entries += len(feedparser.parse(feed.body).entries)
    return time.perf_counter() - started, entries


async def run_pipeline(
    feeds: list[synthetic.SyntheticFeed], db: Path, *, timed_calls: bool
) -> PipelineResult:
    """parse_feed → _articles → ingest for every feed, one transaction per feed."""
    store = await Store.open(sqlite_url(db))
    policy = AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW)
    out = PipelineResult()
    try:
        stored = await add_feeds(
            store, [f"https://{f.host}/feed.xml" for f in feeds], [f.name for f in feeds]
        )
        gc.collect()
        with stopwatch(INGEST_TARGETS if timed_calls else []) as laps:
            started = time.perf_counter()
            for feed, body in zip(stored, feeds, strict=True):
                now = datetime.now(UTC)
                t0 = time.perf_counter()
                parsed = parse_feed(
                    body.body, url=feed.url, content_type=body.content_type, fetched_at=now
                )
                t1 = time.perf_counter()
                candidates = _articles(feed, parsed, now)
                t2 = time.perf_counter()
                async with store.transaction() as conn:
                    report = await ingest(conn, candidates, now, policy, alert=True)
                t3 = time.perf_counter()
                out.parse += t1 - t0
                out.build += t2 - t1
                out.ingest += t3 - t2
                out.articles += len(report.new_articles)
                out.new_stories += report.new_stories
                out.joined += report.joined_stories
                out.alerts += report.queued_alerts
            out.seconds = time.perf_counter() - started
        out.laps = laps
        out.counts = await table_counts(store)
    finally:
        await store.close()
    return out


def pipeline_rows(report: Report, result: PipelineResult, fp_seconds: float) -> None:
    """Rows for parts 1-3."""
    n = result.articles
    report.add(
        "pipeline: parse → normalise → dedup → store",
        rate(n, result.seconds),
        f"{n:,} new articles in {result.seconds:.1f} s ({micros(result.seconds, n)}/article)",
    )
    report.add(
        "  parse_feed (feedparser + normalise)",
        micros(result.parse, n),
        f"{result.parse / result.seconds:.0%} of the pipeline",
    )
    report.add(
        "  of which feedparser (from part 2)",
        micros(fp_seconds, n),
        f"{fp_seconds / result.seconds:.0%}",
    )
    report.add(
        "  _articles (item_key, content_hash)",
        micros(result.build, n),
        f"{result.build / result.seconds:.0%}",
    )
    report.add(
        "  ingest (one transaction per feed)",
        micros(result.ingest, n),
        f"{result.ingest / result.seconds:.0%}",
    )
    accounted = 0.0
    for name, lap in result.laps.items():
        if not lap.calls:
            continue
        accounted += lap.seconds
        report.add(f"    {name}", micros(lap.seconds, n), f"{lap.calls:,} calls")
    if result.laps:
        report.add(
            "    rest of ingest + commit",
            micros(result.ingest - accounted, n),
            "aiosqlite round trips not listed, BEGIN/COMMIT",
        )
    report.add(
        "  stored",
        f"{result.counts.get('articles', 0):,}",
        f"articles; {result.new_stories:,} new stories, {result.joined:,} joined,"
        f" {result.alerts:,} alerts queued; {result.counts.get('story_bands', 0):,} band rows",
    )


# --------------------------------------------------------------------------- 4: HTTP re-poll


def serve(folder: str, pipe: Connection) -> None:
    """Child process: serve every ``*.xml`` of `folder` at /feeds/<stem> until told to stop."""
    asyncio.run(_serve(Path(folder), pipe))


async def _serve(folder: Path, pipe: Connection) -> None:
    bodies = {path.stem: path.read_bytes() for path in folder.glob("*.xml")}
    etags = {name: f'"{hashlib.sha256(body).hexdigest()[:16]}"' for name, body in bodies.items()}
    types = {
        name: "application/rss+xml; charset=utf-8"
        if b"<rss" in body[:200]
        else "application/atom+xml; charset=utf-8"
        for name, body in bodies.items()
    }
    state = {"mode": "etag"}

    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = bodies.get(name)
        if body is None:
            raise web.HTTPNotFound()
        mode = state["mode"]
        headers = {"Content-Type": types[name]}
        if mode == "etag":
            headers["ETag"] = etags[name]
            if request.headers.get("If-None-Match") == etags[name]:
                return web.Response(status=304, headers={"ETag": etags[name]})
        elif mode == "changed":
            body += b"<!-- rebuilt -->\n"
        return web.Response(body=body, headers=headers)

    async def set_mode(request: web.Request) -> web.Response:
        state["mode"] = request.match_info["mode"]
        return web.Response(text=state["mode"])

    app = web.Application()
    app.router.add_get("/feeds/{name}", feed)
    app.router.add_get("/_mode/{mode}", set_mode)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    pipe.send(runner.addresses[0][1])
    await asyncio.to_thread(pipe.recv)  # any message means stop
    pipe.send(maxrss_mb())
    await runner.cleanup()


@dataclass(slots=True)
class PollRound:
    """One round of poll_feed over every feed."""

    label: str
    seconds: float
    outcomes: Counter[str]
    new_articles: int
    errors: list[str]


async def poll_round(ctx: PollContext, feed_ids: list[int], label: str) -> PollRound:
    """poll_feed for every feed at once, as app.poll_all_once does."""
    gc.collect()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(poll_feed(ctx, feed_id) for feed_id in feed_ids), return_exceptions=True
    )
    seconds = time.perf_counter() - started
    outcomes: Counter[str] = Counter()
    errors = []
    new = 0
    for result in results:
        if isinstance(result, PollReport):
            outcomes[result.outcome] += 1
            new += result.new_articles
            if result.error:
                errors.append(result.error)
        else:
            outcomes["raised"] += 1
            errors.append(f"{type(result).__name__}: {result}")
    return PollRound(label, seconds, outcomes, new, errors)


async def run_http(
    feeds: list[synthetic.SyntheticFeed], workdir: Path
) -> tuple[list[PollRound], float]:
    """Serve the feeds from a child process and poll them four times. Returns rounds, server RSS."""
    folder = workdir / "served"
    folder.mkdir()
    for feed in feeds:
        (folder / f"{feed.index}.xml").write_bytes(feed.body)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(str(folder), child), daemon=True)
    server.start()
    rounds: list[PollRound] = []
    server_rss = 0.0
    try:
        port = await asyncio.to_thread(parent.recv)
        base = f"http://127.0.0.1:{port}"
        store = await Store.open(sqlite_url(workdir / "http.db"))
        try:
            stored = await add_feeds(
                store, [f"{base}/feeds/{f.index}" for f in feeds], [f.name for f in feeds]
            )
            ids = [feed.id for feed in stored]
            async with (
                aiohttp.ClientSession() as control,
                FeedFetcher(global_limit=GLOBAL_LIMIT, per_host_limit=10**6) as fetcher,
            ):
                ctx = PollContext(
                    store,
                    fetcher,
                    poll_policy=PollPolicy(flood_guard=False),
                    alert_policy=AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW),
                )
                plan = [
                    ("etag", "first poll (all new)"),
                    ("etag", "re-poll, server honours ETag (304)"),
                    ("plain", "re-poll, server ignores ETag (same body)"),
                    ("changed", "re-poll, changed body, all items seen"),
                ]
                for mode, label in plan:
                    async with control.get(f"{base}/_mode/{mode}") as resp:
                        resp.raise_for_status()
                    progress(f"HTTP: {label}")
                    rounds.append(await poll_round(ctx, ids, label))
        finally:
            await store.close()
    finally:
        if server.is_alive():
            parent.send("stop")
            if await asyncio.to_thread(parent.poll, 10):
                server_rss = float(parent.recv())
        await asyncio.to_thread(server.join, 10)
        if server.is_alive():
            server.terminate()
    return rounds, server_rss


def http_rows(report: Report, rounds: list[PollRound], feeds: int) -> None:
    """Rows for part 4."""
    first = rounds[0].seconds
    for i, round_ in enumerate(rounds):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(round_.outcomes.items()))
        note = f"{round_.seconds * 1000 / feeds:.2f} ms/feed; {outcomes}"
        if round_.new_articles:
            note += f"; {round_.new_articles:,} new ({rate(round_.new_articles, round_.seconds)})"
        value = f"{round_.seconds:.2f} s"
        if i:
            note = f"{first / round_.seconds:.1f}x faster than first; " + note
        report.add(round_.label, value, note)
        for error in sorted(set(round_.errors))[:3]:
            report.add("    error", "", error[:160])


# --------------------------------------------------------------------------- 5: clustering


@dataclass(slots=True)
class ClusterResult:
    """Clustering of CLUSTER_ITEMS items against N stored stories."""

    stories: int
    seconds: float
    fill_seconds: float
    laps: dict[str, Lap]
    joined: int
    candidates: int


def fingerprints(count: int) -> list[tuple[str, cluster.Fingerprint]]:
    """Headlines of the stories already stored, with their fingerprints."""
    return [
        (title, cluster.fingerprint(title, summary))
        for title, summary in synthetic.headlines(count, seed=synthetic.SEED + 1)
    ]


def new_items(stored: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The items to cluster: mostly new stories, some near-duplicates of stored ones."""
    rng = random.Random(synthetic.SEED + 2)
    fresh = iter(synthetic.headlines(CLUSTER_ITEMS, seed=synthetic.SEED + 3))
    items = []
    for _ in range(CLUSTER_ITEMS):
        if rng.random() < NEAR_DUPLICATE_SHARE:
            title, summary = stored[rng.randrange(len(stored))]
            items.append(synthetic.near_duplicate(rng, title, summary))
        else:
            items.append(next(fresh))
    return items


def _sqlite_time(value: datetime) -> str:
    # How SQLAlchemy's SQLite DATETIME stores the naive UTC values UTCDateTime hands it.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill_stories(db: Path, stories: list[tuple[str, cluster.Fingerprint]], now: datetime) -> None:
    """Bulk-load stories and their LSH bands (all seen within the window) with plain sqlite3."""
    rng = random.Random(synthetic.SEED + 4)
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: a bulk load, not the bot's setting
        with conn:
            conn.executemany(
                "INSERT INTO stories (id, title, lead_article_id, first_seen_at, last_seen_at,"
                " article_count, signature) VALUES (?, ?, NULL, ?, ?, 1, ?)",
                (
                    (i, title, seen, seen, fp.signature)
                    for i, (title, fp) in enumerate(stories, start=1)
                    for seen in [_sqlite_time(now - timedelta(minutes=rng.randrange(70 * 60)))]
                ),
            )
            conn.executemany(
                "INSERT INTO story_bands (band_key, story_id) VALUES (?, ?)",
                (
                    (key, i)
                    for i, (_, fp) in enumerate(stories, start=1)
                    for key in sorted(set(fp.band_keys))
                ),
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


CLUSTER_TARGETS: list[tuple[ModuleType, str]] = [
    (cluster, "fingerprint"),
    (story_repo, "candidates"),
    (cluster, "best_match"),
    (story_repo, "create"),
    (story_repo, "attach"),
]


async def run_clustering(
    db: Path, stored: list[tuple[str, cluster.Fingerprint]], items: list[tuple[str, str]]
) -> ClusterResult:
    """Fill a fresh database with `stored`, then cluster `items` through the SQL path."""
    now = datetime.now(UTC)
    store = await Store.open(sqlite_url(db))  # migrations create the schema
    await store.close()
    started = time.perf_counter()
    fill_stories(db, stored, now)
    fill_seconds = time.perf_counter() - started
    store = await Store.open(sqlite_url(db))
    joined = 0
    seen_candidates = 0
    try:
        async with store.transaction() as conn:  # the loaded rows are visible to the bot's path
            probe_title, probe = stored[-1]
            found = await story_repo.candidates(conn, list(probe.band_keys), now - WINDOW)
            assert any(sid == len(stored) for sid, _ in found), "bulk-loaded story not found"
        gc.collect()
        with stopwatch(CLUSTER_TARGETS) as laps:
            started = time.perf_counter()
            for start in range(0, len(items), CLUSTER_BATCH):
                async with store.transaction() as conn:
                    for offset, (title, summary) in enumerate(items[start : start + CLUSTER_BATCH]):
                        seen_at = datetime.now(UTC)
                        fp = cluster.fingerprint(title, summary)
                        keys = list(fp.band_keys)
                        found = await story_repo.candidates(conn, keys, seen_at - WINDOW)
                        seen_candidates += len(found)
                        match = cluster.best_match(fp, found)
                        if match is not None:
                            joined += 1
                            await story_repo.attach(conn, match, seen_at)
                        else:
                            await story_repo.create(
                                conn,
                                title=title,
                                lead_article_id=10**9 + start + offset,
                                seen_at=seen_at,
                                signature=fp.signature,
                                band_keys=keys,
                            )
            seconds = time.perf_counter() - started
    finally:
        await store.close()
    return ClusterResult(len(stored), seconds, fill_seconds, laps, joined, seen_candidates)


def story_index_figure(
    stored: list[tuple[str, cluster.Fingerprint]], items: list[tuple[str, str]]
) -> str | None:
    """µs/item through cluster.StoryIndex if the module has one (None when it does not)."""
    index_type = getattr(cluster, "StoryIndex", None)
    if index_type is None:
        return None
    try:
        index = index_type()
        for story_id, (_, fp) in enumerate(stored, start=1):
            index.add(story_id, fp)
        started = time.perf_counter()
        for title, summary in items:
            fp = cluster.fingerprint(title, summary)
            match = index.best_match(fp)
            if match is None:
                index.add(len(stored) + 1, fp)
        return micros(time.perf_counter() - started, len(items))
    except (AttributeError, TypeError) as exc:
        return f"API not recognised ({type(exc).__name__}: {exc})"


def cluster_rows(report: Report, results: list[ClusterResult]) -> None:
    """Rows for part 5."""
    for result in results:
        n = CLUSTER_ITEMS
        parts = ", ".join(
            f"{name.split('.')[-1]} {lap.seconds / n * 1e6:,.0f}"
            for name, lap in result.laps.items()
            if lap.calls
        )
        report.add(
            f"{result.stories:,} stories in window",
            micros(result.seconds, n) + "/item",
            f"[{parts} µs]; {result.joined} joined, "
            f"{result.candidates / n:.2f} candidates/item; bulk load {result.fill_seconds:.1f} s",
        )
    if len(results) == 2:  # noqa: PLR2004
        small, big = results
        report.add(
            f"ratio {big.stories:,} / {small.stories:,}",
            f"{big.seconds / small.seconds:.2f}x",
            "aim <= 2x",
        )
        sql_small = small.laps["stories.candidates"].seconds
        sql_big = big.laps["stories.candidates"].seconds
        report.add(
            "  stories.candidates alone",
            f"{sql_big / sql_small:.2f}x",
            f"{micros(sql_small, CLUSTER_ITEMS)} → {micros(sql_big, CLUSTER_ITEMS)}",
        )


# --------------------------------------------------------------------------- main


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes of one run."""

    feeds: int
    story_counts: tuple[int, ...]


async def main_async(scale: Scale) -> Report:
    """Run every part and fill the report."""
    report = Report()
    report.section("machine")
    for key, value in machine():
        report.add(key, "", f"{value}")

    progress(f"generating {scale.feeds:,} feeds x {ITEMS_PER_FEED} items")
    started = time.perf_counter()
    feeds = synthetic.make_feeds(scale.feeds, ITEMS_PER_FEED)
    generated = time.perf_counter() - started
    items = scale.feeds * ITEMS_PER_FEED
    size = sum(len(f.body) for f in feeds)
    kinds = Counter(f.kind for f in feeds)
    report.add(
        "input",
        "",
        f"{scale.feeds:,} feeds ({kinds['rss']} RSS 2.0, {kinds['atom']} Atom 1.0) x"
        f" {ITEMS_PER_FEED} = {items:,} items, {size / 2**20:.1f} MiB,"
        f" {size / items:,.0f} bytes/item; generated in {generated:.1f} s",
    )

    with tempfile.TemporaryDirectory(prefix="nkru-bench-") as tmp:
        workdir = Path(tmp)

        progress("part 2: feedparser.parse alone")
        fp_seconds, fp_entries = bench_feedparser(feeds)

        progress("part 1: parse → normalise → dedup → store")
        result = await run_pipeline(feeds, workdir / "pipeline.db", timed_calls=True)
        rss_after_pipeline = maxrss_mb()

        report.section("1-3. parse → normalise → dedup → store (no HTTP), every item new")
        pipeline_rows(report, result, fp_seconds)
        report.add(
            "feedparser.parse alone (bytes in)",
            rate(fp_entries, fp_seconds),
            f"{fp_entries:,} entries in {fp_seconds:.1f} s ({micros(fp_seconds, fp_entries)})",
        )
        pipeline_rate = result.articles / result.seconds
        ratio = pipeline_rate / (fp_entries / fp_seconds)
        report.add(
            "ratio pipeline / feedparser",
            f"{ratio:.2f}",
            "aim >= 0.8" + ("" if ratio >= 0.8 else "  (NOT met)"),  # noqa: PLR2004
        )

        progress("part 4: HTTP polls")
        rounds, server_rss = await run_http(feeds, workdir)
        report.section(
            f"4. poll_feed over HTTP (127.0.0.1, separate server process, {scale.feeds:,}"
            f" feeds at once, global_limit {GLOBAL_LIMIT})"
        )
        http_rows(report, rounds, scale.feeds)
        rss_after_http = maxrss_mb()

        report.section(
            f"5. story clustering, {CLUSTER_ITEMS:,} new items through the SQL path"
            f" ({NEAR_DUPLICATE_SHARE:.0%} near-duplicates), {CLUSTER_BATCH} per transaction"
        )
        progress(f"part 5: fingerprinting {max(scale.story_counts):,} stored stories")
        texts = synthetic.headlines(max(scale.story_counts), seed=synthetic.SEED + 1)
        started = time.perf_counter()
        stored = [(title, cluster.fingerprint(title, summary)) for title, summary in texts]
        fp_each = (time.perf_counter() - started) / len(stored)
        items_to_cluster = new_items(texts[: min(scale.story_counts)])
        cluster_results = []
        for count in scale.story_counts:
            progress(f"part 5: clustering against {count:,} stories")
            cluster_results.append(
                await run_clustering(
                    workdir / f"cluster-{count}.db", stored[:count], items_to_cluster
                )
            )
        cluster_rows(report, cluster_results)
        report.add("  cluster.fingerprint (bulk, for reference)", f"{fp_each * 1e6:,.1f} µs")
        index_figure = story_index_figure(stored, items_to_cluster)
        report.add(
            "in-memory StoryIndex",
            index_figure or "n/a",
            "" if index_figure else "bot.core.cluster has no StoryIndex",
        )
        del stored, texts
        rss_after_cluster = maxrss_mb()

        progress(f"part 6: tracemalloc over {TRACEMALLOC_FEEDS} feeds")
        gc.collect()
        tracemalloc.start()
        await run_pipeline(feeds[:TRACEMALLOC_FEEDS], workdir / "traced.db", timed_calls=False)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    report.section("6. memory")
    report.add("peak RSS after parts 1-3", f"{rss_after_pipeline:,.0f} MiB", "ru_maxrss")
    report.add("peak RSS after part 4", f"{rss_after_http:,.0f} MiB", "client side only")
    report.add("peak RSS after part 5", f"{rss_after_cluster:,.0f} MiB")
    report.add("peak RSS of the HTTP server process", f"{server_rss:,.0f} MiB")
    report.add(
        "tracemalloc peak, pipeline",
        f"{traced_peak / 2**20:,.1f} MiB",
        f"Python heap while running part 1 over {TRACEMALLOC_FEEDS} feeds"
        " (feed bodies excluded: allocated before)",
    )
    return report


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100 feeds, 10,000 stories")
    args = parser.parse_args()
    scale = Scale(100, (1_000, 10_000)) if args.quick else Scale(1_000, (1_000, 100_000))
    started = time.perf_counter()
    report = asyncio.run(main_async(scale))
    report.add("total run time", f"{time.perf_counter() - started:.0f} s")
    report.print()


if __name__ == "__main__":
    main()
