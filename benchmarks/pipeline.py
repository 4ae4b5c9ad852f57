"""Throughput of the polling pipeline, end to end, on synthetic feeds and SQLite file databases.

Run ``.venv/bin/python benchmarks/pipeline.py`` (full: 1,000 feeds x 50 items, clustering with
1,000 and 100,000 stories; several minutes on 2 cores) or ``--quick`` (100 feeds, 1,000 and
10,000 stories) for a smoke check. The table goes to stdout, progress to stderr.

Feeds come from ``benchmarks/_synthetic.py``: half RSS 2.0, half Atom 1.0, ~70-character
headlines, 300-600 character HTML descriptions, guid, link and date, generated from word lists
with a fixed seed (about 5 % of the items are another outlet's copy of a shared story). Every
database is a fresh SQLite file in a temporary folder opened with ``Store.open``, so migrated and
in WAL mode with ``synchronous=NORMAL``, exactly as the bot runs.

What each figure means:

1. **pipeline** - articles/s through the real code path, ``PIPELINE_CONCURRENCY`` feeds in
   flight at a time (as part 4 and the scheduler run polls): ``parser.prepare`` runs
   ``prepare.prepare_feed`` (``parse.parse_feed``: feedparser, then plain text from HTML,
   canonical URLs, UTC dates; layer-(a) dedup keys, content hashes; story fingerprints), then
   ``ingest`` through the ``GroupCommitter`` as ``poll_feed`` does (``insert_new``; every new
   article put in a story; one outbox alert per new story queued for ``console``; flood guard
   off; the feed's poll state recorded in the same transaction; polls that finish while a
   transaction runs are stored together by the next one). Every item is new. It runs twice,
   each on its own database, the two interleaved slice by slice:
   **1a** with a ``ProcessPoolParser`` of ``--workers`` processes (default: the usable CPUs,
   as ``NKRU_PARSE_WORKERS``), so parsing runs on other cores while this process stores - the
   headline figure; **1b** with the ``ThreadParser`` (``NKRU_PARSE_WORKERS=0``), where parsing
   competes with the event loop for the GIL. The breakdown says where the main process's time
   goes: "ingest transactions" is the time inside them (one at a time on SQLite), its sub-rows
   come from wrapping the repository and cluster functions it calls with a stopwatch, "rest" is
   what is left (BEGIN/COMMIT, aiosqlite hand-offs, ingest's own loop); "awaiting
   parser.prepare" overlaps it. *prepare_feed alone* is the CPU cost per article of what moved
   off the event loop, measured sequentially in this process.
2. **feedparser alone** - articles/s of ``feedparser.parse(body)`` (bytes in, nothing else) on
   the same bodies, one process, sequential: the reference. It is the floor under (1), which
   calls feedparser and then does more. feedparser alone, prepare_feed alone and both pipelines
   are measured interleaved, INTERLEAVE feeds at a time, so a busy machine slows all alike.
3. **ratio** - pipeline rate / feedparser rate, for 1a and 1b: 1.0 would mean everything after
   feedparser is free. The project aims at >= 0.8. 3a uses more than one process (parsing in
   the pool, storing in this one) against a single-process reference: that is the point of
   the pool, but read it as throughput of the machine, not as a cheaper pipeline.
4. **HTTP polls** - the real path, ``pipeline.poll_feed`` for every feed, 10 in flight at a
   time, parsing in the process pool as the bot does by default, with a real ``FeedFetcher``
   (global_limit 50; no per-host limit, as every feed is on 127.0.0.1) against an aiohttp
   server in a separate process. *first poll*
   fetches, parses and stores everything (a fresh database); *304* is the next round against a
   server honouring ``If-None-Match``; *same body* is a server that ignores validators and
   sends the same 200 (the fetcher's body hash says "unchanged", nothing is parsed); *changed
   body* sends every body with a new trailing comment, as servers that rebuild
   ``lastBuildDate`` on each request do: parsed again, nothing new to store. The aim is a
   re-poll >= 10x faster than the first poll. A last 304 round starts every poll at once, as
   ``app.poll_all_once`` and the scheduler's first run do; ``--all-at-once`` runs every round
   that way (on SQLite, 1,000 first polls at once end in pool timeouts and "database is
   locked": the failures are counted and shown).
5. **clustering** - cost per new item of layer-(b) dedup with N stories already in the 72 h
   window (``--stories 1000,1000000`` picks N; ``--only-clustering`` runs this part alone).
   A fresh database (``Store.open``, so migrated) gets N stories bulk-loaded into
   ``stories`` with plain sqlite3: real signatures (``cluster.fingerprint`` of synthetic
   headlines), last seen within the window. *cold sync* is the first ``StoryCache.sync`` of a
   process, which loads all N into the in-memory LSH index (``cluster.StoryIndex``): its time,
   the process's RSS growth, the index's Python heap (``tracemalloc``, a second cold sync
   not timed) and its arrays (``StoryIndex.nbytes``). Then 2,000 items (80 % new stories,
   20 % near-duplicates of stored ones) go through the real path with that warmed cache:
   ``ingest.ingest`` on each 50 (insert the articles, ``StoryCache.sync``,
   ``clustering.choose``: ``StoryIndex.best_matches`` and the batch's own index, bulk story
   writes; one outbox alert per new story), fingerprints computed beforehand as the parser
   does. *in-memory lookup* is ``StoryIndex.best_matches`` alone on the same items in 50s
   against the N stories (nothing added), with the signatures compared per item. Then
   10,000 distinct items, and one headline retold 10,000 times, each in one ``ingest`` (a
   poll of a huge feed). A probe task sleeps 10 ms in a loop meanwhile and records its
   worst overshoot: the event loop's worst stall, as wall time and as CPU time of the loop's
   thread (on a busy machine the wall time also counts waiting for a core). Aims: cost(N) <=
   2 x cost(1,000) on the ingest path and in memory; no stall over 100 ms; the retold
   headline <= 2 x the distinct items. "near-duplicates joined" counts items that joined the
   very story they copy, which should not depend on N. The benchmark's own data is frozen
   out of the garbage collector (``gc.freeze``) from the cold sync on: a million preloaded
   signatures are not the bot's.
``--profile`` adds a cProfile of the pipeline of (1b) over 100 feeds (main thread only: time
spent inside SQLite or in the parser thread shows up as the event loop waiting in ``select``).

6. **memory** - peak resident set size of this process (``ru_maxrss``) after each part and of
   the server process, and the ``tracemalloc`` peak of the Python heap over the pipeline of (1)
   run again on 50 feeds with the thread parser (tracemalloc slows Python too much to run
   during the timed pass, and sees this process only).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import importlib.metadata
import inspect
import itertools
import multiprocessing
import os
import platform
import pstats
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
from aiohttp import web
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _synthetic as synthetic

from bot.core import cluster, feed_health, minhash
from bot.core.feed_health import PollPolicy
from bot.core.models import Feed, FetchOutcome, FetchResult, NewArticle, PollState
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.group_commit import GroupCommitter
from bot.core.poll.ingest import AlertPolicy, IngestReport, ingest
from bot.core.poll.pipeline import PollContext, PollReport, poll_feed
from bot.core.poll.prepare import Parser, ProcessPoolParser, ThreadParser, prepare_feed
from bot.core.records import NewFeed
from bot.core.story_cache import StoryCache
from bot.core.story_index import StoryIndex
from storage.articles import SqlArticles
from storage.engine import Store
from storage.outbox import SqlOutbox
from storage.schema import articles as articles_table
from storage.stories import SqlStories

ITEMS_PER_FEED = 50
INTERLEAVE = 50  # feeds per alternation of feedparser-alone and pipeline passes
CLUSTER_ITEMS = 2_000
CLUSTER_BATCH = 50  # items per transaction, like one feed's new items
FLOOD_ITEMS = 10_000  # one feed's items in one ingest: distinct, then one headline retold
LAG_AIM_MS = 100.0
MATCH = cluster.THRESHOLD * cluster.NUM_PERM  # equal positions to join a story
FLOOD_AIM = 2.0
NEAR_DUPLICATE_SHARE = 0.2
WINDOW = timedelta(hours=72)
GLOBAL_LIMIT = 50
# poll_feed calls in flight at once in part 4: below the SQLAlchemy pool's 15 connections
# (5 + 10 overflow). With every feed at once, as app.poll_all_once does, first polls of 1,000
# feeds end in pool timeouts and "database is locked" (see --all-at-once).
POLL_CONCURRENCY = 10
# Feeds in flight in parts 1-3, as in part 4: enough that one feed's parse (in the pool) overlaps
# other feeds' ingest transactions in this process.
PIPELINE_CONCURRENCY = POLL_CONCURRENCY
PROFILE_FEEDS = 100
TRACEMALLOC_FEEDS = 50
DESTINATIONS = ("console",)
RATIO_AIM = 0.8
REPOLL_AIM = 10.0
SCALING_AIM = 2.0


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
        """Start a part of the table."""
        self.rows.append(Row(f"[{title}]", ""))

    def add(self, label: str, value: str, note: str = "") -> None:
        """Add one figure."""
        self.rows.append(Row(label, value, note))

    def print(self) -> None:
        """Print the table with aligned columns."""
        figures = [r for r in self.rows if r.value or not r.label.startswith("[")]
        width = max(len(r.label) for r in figures) + 2
        vwidth = max(len(r.value) for r in figures) + 2
        rule = "=" * (width + vwidth + 60)
        print(rule)
        for row in self.rows:
            if not row.value and row.label.startswith("["):
                print(f"\n{row.label}")
                continue
            print(f"  {row.label:<{width}}{row.value:>{vwidth}}   {row.note}".rstrip())
        print(rule)


def progress(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"... {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def rate(count: int, seconds: float) -> str:
    """Items per second, rounded for reading."""
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "inf"


def micros(seconds: float, count: int) -> str:
    """Microseconds per item."""
    return f"{seconds / count * 1e6:,.1f} µs" if count else "n/a"


def aim(met: bool) -> str:
    """Verdict for an aim."""
    return "met" if met else "NOT met"


def maxrss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status_mb(field_name: str) -> float:
    """A memory figure from /proc/self/status in MiB (VmRSS: now, VmHWM: peak); 0 if unknown.

    A spawned child's ru_maxrss starts from its parent's peak (Linux keeps it across exec);
    VmHWM belongs to the process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def usable_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews every figure)."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


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
    usable = usable_cpus()
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
def stopwatch(
    targets: list[tuple[Any, str]], laps: dict[str, Lap] | None = None
) -> Iterator[dict[str, Lap]]:
    """Temporarily wrap module functions or class methods so each call's time adds up by name.

    Targets are (module or class, attribute name); names it does not have are skipped.
    Times are added to `laps` when given (so passes interleaved with others can add up).
    """
    laps = {} if laps is None else laps
    saved: list[tuple[Any, str, Any]] = []
    for owner, name in targets:
        original = owner.__dict__.get(name)  # a class's own function, not an inherited one
        if original is None:
            continue
        lap = laps.setdefault(f"{owner.__name__.rsplit('.', 1)[-1]}.{name}", Lap())
        if inspect.iscoroutinefunction(original):
            wrapper = _async_wrapper(original, lap)
        else:
            wrapper = _sync_wrapper(original, lap)
        saved.append((owner, name, original))
        setattr(owner, name, wrapper)
    try:
        yield laps
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


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
        added = await conn.feeds.add_missing(new, now)
    by_url = {feed.url: feed for feed in added}
    return [by_url[url] for url in urls]


async def table_counts(store: Store) -> dict[str, int]:
    """Row counts of the tables the pipeline writes."""
    counts = {}
    async with store.transaction() as conn:
        for table in ("articles", "stories", "outbox"):
            result = await conn.connection.exec_driver_sql(f"SELECT count(*) FROM {table}")
            counts[table] = int(result.scalar_one())
    return counts


# --------------------------------------------------------------------------- parts 1-3


@dataclass(slots=True)
class PipelineRun:
    """One way of running the pipeline (process pool or thread) over every feed."""

    label: str
    parser: Parser
    store: Store
    stored: list[Feed] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the passes
    ingest: float = 0.0  # inside ingest transactions (one at a time on SQLite), commit included
    prepare_wait: float = 0.0  # awaiting parser.prepare, summed over the feeds in flight
    articles: int = 0
    new_stories: int = 0
    joined: int = 0
    alerts: int = 0
    laps: dict[str, Lap] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    stories: StoryCache = field(default_factory=StoryCache)
    committer: GroupCommitter | None = None


@dataclass(slots=True)
class PipelineResult:
    """What parts 1-3 measured."""

    runs: list[PipelineRun] = field(default_factory=list)
    workers: int = 0
    pool_start: float = 0.0
    feedparser_seconds: float = 0.0
    feedparser_entries: int = 0
    prepare_seconds: float = 0.0
    prepare_articles: int = 0


# What ingest calls, timed one by one (non-overlapping: StoryCache.sync is its two queries plus
# StoryIndex work); names this version does not have are skipped.
INGEST_TARGETS: list[tuple[Any, str]] = [
    (SqlArticles, "insert_new"),
    (SqlStories, "signatures_after"),
    (StoryIndex, "add_many"),
    (StoryIndex, "remove_older_than"),
    (StoryIndex, "maintain"),
    (cluster, "fingerprint"),
    (StoryIndex, "best_matches"),
    (minhash, "best_candidate"),
    (SqlStories, "create_many"),
    (SqlStories, "attach_many"),
    (SqlArticles, "set_stories"),
    (SqlOutbox, "stories_with_new_alert"),
    (SqlOutbox, "enqueue"),
]


def feedparser_pass(feeds: list[synthetic.SyntheticFeed]) -> tuple[float, int]:
    """Seconds and entries of feedparser.parse over the bodies."""
    entries = 0
    started = time.perf_counter()
    for feed in feeds:
        entries += len(feedparser.parse(feed.body).entries)
    return time.perf_counter() - started, entries


def prepare_pass(feeds: list[Feed], bodies: list[synthetic.SyntheticFeed]) -> tuple[float, int]:
    """Seconds and articles of prepare_feed in this process, one feed after another."""
    articles = 0
    now = datetime.now(UTC)
    started = time.perf_counter()
    for feed, body in zip(feeds, bodies, strict=True):
        prepared = prepare_feed(
            body.body,
            url=feed.url,
            content_type=body.content_type,
            fetched_at=now,
            feed_id=feed.id,
            feed_url=feed.url,
            source_name=feed.name,
        )
        articles += len(prepared.articles)
    return time.perf_counter() - started, articles


async def run_pipeline(
    feeds: list[synthetic.SyntheticFeed],
    workdir: Path,
    *,
    workers: int,
    timed_calls: bool,
    with_feedparser: bool,
) -> PipelineResult:
    """prepare (parser) → ingest for every feed, PIPELINE_CONCURRENCY feeds in flight.

    With `workers` > 0 the pipeline runs twice, each on its own database: with a process pool
    of that many workers, and with a worker thread (NKRU_PARSE_WORKERS=0); with 0 only the
    latter. With `with_feedparser`, feedparser alone and prepare_feed alone (single process,
    sequential) run over each slice of INTERLEAVE feeds just before the pipelines do.
    """
    out = PipelineResult(workers=workers)
    policy = AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW)
    urls = [f"https://{f.host}/feed.xml" for f in feeds]
    names = [f.name for f in feeds]
    pool: ProcessPoolParser | None = None
    try:
        if workers:
            started = time.perf_counter()
            pool = ProcessPoolParser(workers)
            await pool.start()
            out.pool_start = time.perf_counter() - started
            pool_store = await Store.open(sqlite_url(workdir / "pool.db"))
            out.runs.append(PipelineRun(f"process pool ({workers} workers)", pool, pool_store))
        thread_store = await Store.open(sqlite_url(workdir / "thread.db"))
        out.runs.append(PipelineRun("worker thread (no pool)", ThreadParser(), thread_store))
        for run in out.runs:
            run.stored = await add_feeds(run.store, urls, names)
        gc.collect()
        for number, start in enumerate(range(0, len(feeds), INTERLEAVE)):
            bodies = feeds[start : start + INTERLEAVE]
            if with_feedparser:
                seconds, entries = feedparser_pass(bodies)
                out.feedparser_seconds += seconds
                out.feedparser_entries += entries
                stored = out.runs[0].stored[start : start + INTERLEAVE]
                seconds, entries = prepare_pass(stored, bodies)
                out.prepare_seconds += seconds
                out.prepare_articles += entries
            order = out.runs if number % 2 == 0 else out.runs[::-1]  # neither always goes first
            for run in order:
                with stopwatch(INGEST_TARGETS if timed_calls else [], run.laps):
                    await _pipeline_slice(run, start, bodies, policy)
        for run in out.runs:
            run.counts = await table_counts(run.store)
    finally:
        for run in out.runs:
            await run.store.close()
        if pool is not None:
            await pool.close()
    return out


async def _pipeline_slice(
    run: PipelineRun, start: int, bodies: list[synthetic.SyntheticFeed], policy: AlertPolicy
) -> None:
    slots = asyncio.Semaphore(PIPELINE_CONCURRENCY)

    async def one(feed: Feed, body: synthetic.SyntheticFeed) -> None:
        async with slots:
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            prepared = await run.parser.prepare(
                body.body,
                url=feed.url,
                content_type=body.content_type,
                fetched_at=now,
                feed_id=feed.id,
                feed_url=feed.url,
                source_name=feed.name,
            )
            t1 = time.perf_counter()
            result = FetchResult(FetchOutcome.FETCHED, feed.url, http_status=200, body=body.body)

            def outcome(report: IngestReport) -> tuple[int, PollState]:
                state = feed_health.succeeded(
                    feed, result, now, PollPolicy(), new_items=len(report.new_articles)
                )
                return feed.id, state

            assert run.committer is not None
            report = await run.committer.ingest(prepared.articles, now, outcome=outcome)
            run.prepare_wait += t1 - t0
            run.articles += len(report.new_articles)
            run.new_stories += report.new_stories
            run.joined += report.joined_stories
            run.alerts += report.queued_alerts

    feeds = run.stored[start : start + len(bodies)]
    if run.committer is None:
        run.committer = GroupCommitter(run.store, policy, run.stories)
    started = time.perf_counter()
    in_transactions = run.committer.stats.seconds
    await asyncio.gather(*(one(f, b) for f, b in zip(feeds, bodies, strict=True)))
    run.seconds += time.perf_counter() - started
    run.ingest += run.committer.stats.seconds - in_transactions


def pipeline_rows(report: Report, result: PipelineResult) -> None:
    """Rows for parts 1-3."""
    fp_seconds, fp_entries = result.feedparser_seconds, result.feedparser_entries
    fp_rate = fp_entries / fp_seconds
    if result.workers:
        report.add(
            "pool start-up (not timed below)",
            f"{result.pool_start:.2f} s",
            f"{result.workers} workers started by a fork server, each warmed up",
        )
    for number, run in enumerate(result.runs, start=1):
        n = run.articles
        report.add(
            f"1{'ab'[number - 1]}. pipeline, {run.label}",
            rate(n, run.seconds),
            f"{n:,} new articles in {run.seconds:.1f} s ({micros(run.seconds, n)}/article),"
            f" {PIPELINE_CONCURRENCY} feeds in flight",
        )
        share = 1 / run.seconds if run.seconds else 0.0
        groups = run.committer.stats if run.committer else None
        report.add(
            "   ingest transactions (main process)",
            micros(run.ingest, n),
            f"{run.ingest * share:.0%} of the wall time (one at a time);"
            + (f" {groups.groups:,} group commits for {groups.jobs:,} polls" if groups else ""),
        )
        accounted = 0.0
        for name, lap in run.laps.items():
            if not lap.calls:
                continue
            accounted += lap.seconds
            report.add(f"     {name}", micros(lap.seconds, n), f"{lap.calls:,} calls")
        if run.laps:
            report.add(
                "     rest: BEGIN/COMMIT, hand-offs, loop", micros(run.ingest - accounted, n)
            )
        report.add(
            "   awaiting parser.prepare",
            micros(run.prepare_wait, n),
            "summed over the feeds in flight: overlaps the ingest above",
        )
        report.add(
            "   stored",
            f"{run.counts.get('articles', 0):,}",
            f"articles; {run.new_stories:,} new stories, {run.joined:,} joined,"
            f" {run.alerts:,} alerts queued; StoryCache: {len(run.stories.index):,} stories"
            " (as of the last ingest's sync)",
        )
    report.add(
        "1c. prepare_feed alone, in-process",
        rate(result.prepare_articles, result.prepare_seconds),
        f"{micros(result.prepare_seconds, result.prepare_articles)}/article, sequential:"
        " parse_feed + item_key + content_hash + fingerprint, the CPU work moved off the loop",
    )
    report.add(
        "     of which feedparser (from part 2)",
        micros(fp_seconds, fp_entries),
        f"{fp_seconds / result.prepare_seconds:.0%}" if result.prepare_seconds else "",
    )
    report.add(
        "2. feedparser.parse alone (bytes in)",
        rate(fp_entries, fp_seconds),
        f"{fp_entries:,} entries in {fp_seconds:.1f} s ({micros(fp_seconds, fp_entries)}/entry),"
        " one process, sequential: the reference",
    )
    for number, run in enumerate(result.runs, start=1):
        ratio = (run.articles / run.seconds) / fp_rate
        extra = (
            f"; uses up to {result.workers + 1} processes, the reference uses one"
            if isinstance(run.parser, ProcessPoolParser)
            else "; one process"
        )
        report.add(
            f"3{'ab'[number - 1]}. ratio 1{'ab'[number - 1]} / 2, {run.label}",
            f"{ratio:.2f}",
            f"aim >= {RATIO_AIM}: {aim(ratio >= RATIO_AIM)}{extra}",
        )


# --------------------------------------------------------------------------- part 4


def serve(folder: str, pipe: Connection) -> None:
    """Child process: serve every ``*.xml`` of `folder` at /feeds/<stem> until told to stop."""
    bodies = {path.stem: path.read_bytes() for path in Path(folder).glob("*.xml")}
    asyncio.run(_serve(bodies, pipe))


async def _serve(bodies: dict[str, bytes], pipe: Connection) -> None:
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
    pipe.send(proc_status_mb("VmHWM"))
    await runner.cleanup()


@dataclass(slots=True)
class PollRound:
    """One round of poll_feed over every feed."""

    label: str
    seconds: float
    outcomes: Counter[str]
    new_articles: int
    errors: list[str]


async def poll_round(
    ctx: PollContext, feed_ids: list[int], label: str, limit: int | None
) -> PollRound:
    """poll_feed for every feed, at most `limit` at a time (None: all at once)."""
    slots = asyncio.Semaphore(limit or len(feed_ids))

    async def one(feed_id: int) -> PollReport:
        async with slots:
            return await poll_feed(ctx, feed_id)

    gc.collect()
    started = time.perf_counter()
    results = await asyncio.gather(*(one(feed_id) for feed_id in feed_ids), return_exceptions=True)
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


# (server mode, label, all at once?): bounded rounds first, then the cheap one unbounded.
HTTP_PLAN = [
    ("etag", "first poll (every item new)", False),
    ("etag", "re-poll, server honours ETag (304)", False),
    ("plain", "re-poll, server ignores ETag (same body)", False),
    ("changed", "re-poll, changed body, all items seen", False),
    ("etag", "re-poll (304), every feed at once", True),
]


async def run_http(
    feeds: list[synthetic.SyntheticFeed], workdir: Path, limit: int | None, workers: int
) -> tuple[list[PollRound], float]:
    """Serve the feeds from a child process and poll them four times. Returns rounds, server RSS.

    Parsing runs as the bot runs it: in a pool of `workers` processes (a thread when 0).
    """
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
        if not await asyncio.to_thread(parent.poll, 60):
            raise RuntimeError(f"the feed server did not start (exit code {server.exitcode})")
        port = parent.recv()
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
                ProcessPoolParser(max(workers, 1), lazy=not workers) as pool,
            ):
                ctx = PollContext(
                    store,
                    fetcher,
                    poll_policy=PollPolicy(flood_guard=False),
                    alert_policy=AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW),
                    parser=pool if workers else ThreadParser(),
                )
                for mode, label, at_once in HTTP_PLAN:
                    if at_once and limit is None:
                        continue  # every round already was
                    async with control.get(f"{base}/_mode/{mode}") as resp:
                        resp.raise_for_status()
                    progress(f"part 4: {label}")
                    rounds.append(await poll_round(ctx, ids, label, None if at_once else limit))
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
        if i:
            speedup = first / round_.seconds
            verdict = ""
            if round_.new_articles == 0 and "fetched" not in round_.outcomes:
                verdict = f" (aim >= {REPOLL_AIM:g}x: {aim(speedup >= REPOLL_AIM)})"
            note = f"{speedup:.1f}x faster{verdict}; {note}"
        report.add(round_.label, f"{round_.seconds:.2f} s", note)
        for error in sorted(set(round_.errors))[:3]:
            report.add("    error", "", error[:200])


# --------------------------------------------------------------------------- part 5


@dataclass(frozen=True, slots=True)
class ClusterItems:
    """The items to cluster, fingerprinted as the parser does, and the story each one copies."""

    texts: list[tuple[str, str]]
    prints: list[cluster.Fingerprint]
    sources: list[int | None]  # id of the stored story a near-duplicate copies, else None

    @property
    def near_duplicates(self) -> int:
        """How many items copy a stored story."""
        return sum(1 for source in self.sources if source is not None)


@dataclass(slots=True)
class Lag:
    """The event loop's worst stall seen by a probe: wall time, and CPU time of its thread."""

    wall: float = 0.0
    cpu: float = 0.0


@dataclass(slots=True)
class ClusterResult:
    """Part 5 against N stored stories."""

    stories: int
    fill_seconds: float = 0.0
    indexed: int = 0  # stories in the cache after the cold sync
    sync_seconds: float = 0.0
    sync_rss_mb: float = 0.0
    index_heap_mb: float = 0.0
    index_bytes: int = 0  # StoryIndex.nbytes after the cold sync
    lookup_seconds: float = 0.0
    lookup_candidates: int = 0  # signatures compared
    lookup_matches: int = 0
    lookup_source_matches: int = 0
    ingest_seconds: float = 0.0
    ingest_lag: Lag = field(default_factory=Lag)  # worst event-loop stall, ingest pass
    floods: list[FloodRun] = field(default_factory=list)
    laps: dict[str, Lap] = field(default_factory=dict)
    new_stories: int = 0
    joined: int = 0
    alerts: int = 0
    source_joined: int = 0


@dataclass(frozen=True, slots=True)
class FloodRun:
    """FLOOD_ITEMS items in one ingest (one poll of a huge feed)."""

    label: str
    seconds: float
    lag: Lag
    new_stories: int
    joined: int


@asynccontextmanager
async def loop_lag() -> AsyncIterator[Lag]:
    """Measure the event loop's worst stall meanwhile: a task sleeps 10 ms in a loop and
    records its worst overshoot. On a busy machine the wall time also counts the time the
    process waited for a core; the CPU time the loop's thread spent meanwhile does not."""
    worst = Lag()
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.01)
            worst.wall = max(worst.wall, time.perf_counter() - wall - 0.01)
            worst.cpu = max(worst.cpu, time.thread_time() - cpu)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)
    try:
        yield worst
    finally:
        stop.set()
        await task


# What ingest calls for clustering (and around it), timed in part 5.
CLUSTER_TARGETS = INGEST_TARGETS


def new_items(stored: list[tuple[str, str]]) -> ClusterItems:
    """The items to cluster: mostly new stories, some near-duplicates of stored ones."""
    rng = random.Random(synthetic.SEED + 2)
    fresh = iter(synthetic.headlines(CLUSTER_ITEMS, seed=synthetic.SEED + 3))
    texts: list[tuple[str, str]] = []
    sources: list[int | None] = []
    for _ in range(CLUSTER_ITEMS):
        if rng.random() < NEAR_DUPLICATE_SHARE:
            index = rng.randrange(len(stored))
            texts.append(synthetic.near_duplicate(rng, *stored[index]))
            sources.append(index + 1)  # fill_stories numbers the stories from 1
        else:
            texts.append(next(fresh))
            sources.append(None)
    prints = [cluster.fingerprint(title, summary) for title, summary in texts]
    return ClusterItems(texts, prints, sources)


def _sqlite_time(value: datetime) -> str:
    # How SQLAlchemy's SQLite DATETIME stores the naive UTC values UTCDateTime hands it.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill_stories(db: Path, stories: list[tuple[str, bytes]], now: datetime) -> None:
    """Bulk-load (title, signature) stories, ids from 1, all seen within the window (sqlite3)."""
    rng = random.Random(synthetic.SEED + 4)
    seen = [_sqlite_time(now - timedelta(minutes=rng.randrange(70 * 60))) for _ in stories]
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO stories (id, title, lead_article_id, first_seen_at, last_seen_at,"
                " article_count, signature) VALUES (?, ?, NULL, ?, ?, 1, ?)",
                (
                    (i, title, seen[i - 1], seen[i - 1], signature)
                    for i, (title, signature) in enumerate(stories, start=1)
                ),
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def cold_sync(store: Store, now: datetime) -> tuple[StoryCache, float, float]:
    """A new process's first StoryCache.sync: the cache, seconds, RSS growth in MiB."""
    gc.collect()
    rss_before = proc_status_mb("VmRSS")
    cache = StoryCache()
    started = time.perf_counter()
    async with store.transaction() as conn:
        await cache.sync(conn, now, WINDOW)
    seconds = time.perf_counter() - started
    return cache, seconds, proc_status_mb("VmRSS") - rss_before


async def index_heap_mb(store: Store, now: datetime) -> float:
    """Python heap held by a StoryCache after a cold sync (tracemalloc; slow, so not timed)."""
    gc.collect()
    tracemalloc.start()
    try:
        cache = StoryCache()
        async with store.transaction() as conn:
            await cache.sync(conn, now, WINDOW)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        assert len(cache.index) > 0
    finally:
        tracemalloc.stop()
    return held / 2**20


def lookup_pass(index: StoryIndex, items: ClusterItems, result: ClusterResult) -> None:
    """StoryIndex.best_matches on each CLUSTER_BATCH items, as ingest does; nothing added."""
    found: list[tuple[int, int]] = []
    gc.collect()
    compared = index.examined
    started = time.perf_counter()
    for start in range(0, len(items.prints), CLUSTER_BATCH):
        found += index.best_matches(items.prints[start : start + CLUSTER_BATCH])
    result.lookup_seconds = time.perf_counter() - started
    result.lookup_candidates = index.examined - compared
    matches = [story if equal >= MATCH else None for story, equal in found]
    result.lookup_matches = sum(1 for match in matches if match is not None)
    result.lookup_source_matches = sum(
        1
        for match, source in zip(matches, items.sources, strict=True)
        if source is not None and match == source
    )


def bench_articles(
    feed_id: int, prefix: str, texts: list[tuple[str, str]], prints: list[cluster.Fingerprint]
) -> list[NewArticle]:
    """New articles of these texts, item keys `prefix:N`, fingerprinted as prepare_feed does."""
    made = datetime.now(UTC)
    return [
        NewArticle(
            feed_id=feed_id,
            item_key=f"{prefix}:{i}",
            guid=None,
            url=f"https://bench.example/{prefix}/{i}",
            title=title,
            summary=summary,
            published_at=made,
            fetched_at=made,
            content_hash=f"hash:{prefix}:{i}",
            source_name=prefix,
            # Computed with the parse, off the event loop, as prepare_feed does.
            signature=fp.signature,
            band_keys=fp.band_keys,
        )
        for i, ((title, summary), fp) in enumerate(zip(texts, prints, strict=True))
    ]


def flood_texts() -> dict[str, list[tuple[str, str]]]:
    """FLOOD_ITEMS distinct headlines, and one headline retold FLOOD_ITEMS times."""
    distinct = synthetic.headlines(FLOOD_ITEMS, seed=synthetic.SEED + 5)
    title, summary = distinct[0]
    retold = [(f"Story number {n}: {title}", summary) for n in range(FLOOD_ITEMS)]
    return {"distinct": distinct, "near-identical": retold}


async def flood_passes(
    store: Store, cache: StoryCache, feed_id: int, floods: dict[str, list[tuple[str, str]]]
) -> list[FloodRun]:
    """Each flood as one ingest() of all its items (a poll of a huge feed), the loop probed."""
    policy = AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW)
    runs = []
    for label, texts in floods.items():
        prints = [cluster.fingerprint(title, summary) for title, summary in texts]
        articles = bench_articles(feed_id, label, texts, prints)
        gc.collect()
        async with loop_lag() as lag:
            started = time.perf_counter()
            async with store.transaction() as conn:
                report = await ingest(conn, articles, datetime.now(UTC), policy, cache=cache)
            seconds = time.perf_counter() - started
        runs.append(FloodRun(label, seconds, lag, report.new_stories, report.joined_stories))
    return runs


async def ingest_pass(
    store: Store, cache: StoryCache, items: ClusterItems, feed_id: int, result: ClusterResult
) -> None:
    """ingest() on each CLUSTER_BATCH new articles with the warmed cache, as the bot runs it."""
    policy = AlertPolicy(destinations=DESTINATIONS, story_window=WINDOW)
    articles = bench_articles(feed_id, "bench", items.texts, items.prints)
    gc.collect()
    with stopwatch(CLUSTER_TARGETS, result.laps):
        async with loop_lag() as lag:
            started = time.perf_counter()
            for start in range(0, len(articles), CLUSTER_BATCH):
                now = datetime.now(UTC)
                async with store.transaction() as conn:
                    report = await ingest(
                        conn, articles[start : start + CLUSTER_BATCH], now, policy, cache=cache
                    )
                result.new_stories += report.new_stories
                result.joined += report.joined_stories
                result.alerts += report.queued_alerts
            result.ingest_seconds = time.perf_counter() - started
    result.ingest_lag = lag
    async with store.transaction() as conn:
        stmt = select(articles_table.c.item_key, articles_table.c.story_id)
        story_of = {key: story_id for key, story_id in (await conn.connection.execute(stmt)).all()}
    assert len(story_of) == len(articles), "not every article was stored"
    result.source_joined = sum(
        1
        for i, source in enumerate(items.sources)
        if source is not None and story_of[f"bench:{i}"] == source
    )


async def run_clustering(
    workdir: Path,
    stored: list[tuple[str, bytes]],
    items: ClusterItems,
    floods: dict[str, list[tuple[str, str]]],
) -> ClusterResult:
    """Bulk-load `stored` into a fresh database, sync a cold cache, then cluster `items`."""
    result = ClusterResult(len(stored))
    db = workdir / f"cluster-{len(stored)}.db"
    store = await Store.open(sqlite_url(db))  # migrations create the schema
    await store.close()
    started = time.perf_counter()
    fill_stories(db, stored, datetime.now(UTC))
    result.fill_seconds = time.perf_counter() - started
    empty = cluster.fingerprint("", "").signature  # too little text: never indexed
    expected = sum(1 for _, signature in stored if signature != empty)

    store = await Store.open(sqlite_url(db))
    # The benchmark's own data (up to a million preloaded signatures) is not the bot's: frozen,
    # the garbage collector's full passes do not walk it while the bot's code is timed.
    gc.collect()
    gc.freeze()
    try:
        [feed] = await add_feeds(store, ["https://bench.example/feed.xml"], ["bench"])
        now = datetime.now(UTC)
        cache, result.sync_seconds, result.sync_rss_mb = await cold_sync(store, now)
        result.indexed = len(cache.index)
        assert result.indexed == expected, f"{result.indexed:,} indexed, {expected:,} expected"
        result.index_bytes = cache.index.nbytes
        result.index_heap_mb = await index_heap_mb(store, now)
        lookup_pass(cache.index, items, result)
        await ingest_pass(store, cache, items, feed.id, result)
        result.floods = await flood_passes(store, cache, feed.id, floods)
    finally:
        gc.unfreeze()
        await store.close()
    del cache
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    return result


def stall(lag: Lag) -> str:
    """The worst event-loop stall, against the aim."""
    cpu_ms = lag.cpu * 1e3
    return (
        f"worst event-loop stall {cpu_ms:.0f} ms of CPU, {lag.wall * 1e3:.0f} ms wall (aim <="
        f" {LAG_AIM_MS:g} ms of CPU: {aim(cpu_ms <= LAG_AIM_MS)})"
    )


def _parts(laps: dict[str, Lap], n: int) -> str:
    return ", ".join(
        f"{name.split('.')[-1]} {lap.seconds / n * 1e6:,.0f}"
        for name, lap in laps.items()
        if lap.calls
    )


def cluster_rows(
    report: Report, results: list[ClusterResult], items: ClusterItems, fingerprint_each: float
) -> None:
    """Rows for part 5."""
    n = len(items.prints)
    dupes = items.near_duplicates
    for result in results:
        label = f"{result.stories:,} stories"
        report.add(
            f"{label}: bulk load (not timed below)",
            f"{result.fill_seconds:.1f} s",
            "plain sqlite3 executemany into stories",
        )
        per_story = result.index_heap_mb * 2**20 / result.indexed / 1024 if result.indexed else 0
        arrays = result.index_bytes / result.indexed if result.indexed else 0
        report.add(
            f"{label}: cold StoryCache.sync",
            f"{result.sync_seconds:.2f} s",
            f"{result.indexed:,} stories indexed ({micros(result.sync_seconds, result.indexed)}"
            f"/story); RSS +{result.sync_rss_mb:,.0f} MiB; index heap"
            f" {result.index_heap_mb:,.1f} MiB ({per_story:.2f} KiB/story, tracemalloc;"
            f" arrays {arrays:,.0f} bytes/story, StoryIndex.nbytes)",
        )
        report.add(
            f"{label}: ingest path (per {CLUSTER_BATCH})",
            micros(result.ingest_seconds, n) + "/item",
            f"{result.new_stories:,} new stories, {result.joined:,} joined,"
            f" {result.alerts:,} alerts; {stall(result.ingest_lag)}"
            f" [µs/item: {_parts(result.laps, n)}]",
        )
        report.add(
            f"{label}: in-memory lookup",
            micros(result.lookup_seconds, n) + "/item",
            f"StoryIndex.best_matches per {CLUSTER_BATCH}, nothing added;"
            f" {result.lookup_candidates / n:.1f} signatures compared/item,"
            f" {result.lookup_matches:,} matches",
        )
        for flood in result.floods:
            report.add(
                f"{label}: {FLOOD_ITEMS:,} {flood.label} items, one ingest",
                f"{flood.seconds:.2f} s",
                f"{flood.new_stories:,} new stories, {flood.joined:,} joined; {stall(flood.lag)}",
            )
        if len(result.floods) == 2:
            distinct, retold = result.floods
            ratio = retold.seconds / distinct.seconds
            report.add(
                f"{label}: ratio near-identical / distinct",
                f"{ratio:.2f}x",
                f"aim <= {FLOOD_AIM:g}x: {aim(ratio <= FLOOD_AIM)}",
            )
        report.add(
            f"{label}: near-duplicates joined",
            f"{result.source_joined:,} / {dupes:,}",
            f"joined the very story they copy (ingest path); in-memory lookup:"
            f" {result.lookup_source_matches:,}",
        )
    if len(results) >= 2:
        small, big = results[0], results[-1]
        scale = f"{big.stories:,} / {small.stories:,}"
        growth = big.ingest_seconds / small.ingest_seconds
        report.add(
            f"ratio {scale}, ingest path",
            f"{growth:.2f}x",
            f"aim <= {SCALING_AIM:g}x: {aim(growth <= SCALING_AIM)}",
        )
        lookups = big.lookup_seconds / small.lookup_seconds
        report.add(
            f"ratio {scale}, in-memory lookup",
            f"{lookups:.2f}x",
            f"aim <= {SCALING_AIM:g}x: {aim(lookups <= SCALING_AIM)}; signatures compared/item"
            f" {small.lookup_candidates / n:.1f} → {big.lookup_candidates / n:.1f}",
        )
        report.add(
            f"ratio {scale}, cold sync per story",
            f"{(big.sync_seconds / big.indexed) / (small.sync_seconds / small.indexed):.2f}x",
            f"{micros(small.sync_seconds, small.indexed)} →"
            f" {micros(big.sync_seconds, big.indexed)} per story",
        )
    report.add("cluster.fingerprint alone", f"{fingerprint_each * 1e6:,.1f} µs", "per headline")


# --------------------------------------------------------------------------- main


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes of one run."""

    feeds: int
    story_counts: tuple[int, ...]
    poll_limit: int | None = POLL_CONCURRENCY
    workers: int = 1  # parser processes (NKRU_PARSE_WORKERS); 0 = a thread only
    only_clustering: bool = False


async def clustering_part(report: Report, workdir: Path, story_counts: tuple[int, ...]) -> float:
    """Part 5 into `report`; the peak RSS after it (MiB)."""
    try:
        progress(f"part 5: fingerprinting {max(story_counts):,} stories to preload")
        texts = synthetic.iter_headlines(seed=synthetic.SEED + 1)
        first: list[tuple[str, str]] = []
        stored: list[tuple[str, bytes]] = []
        started = time.perf_counter()
        for title, summary in itertools.islice(texts, max(story_counts)):
            if len(first) < min(story_counts):
                first.append((title, summary))
            stored.append((title, cluster.fingerprint(title, summary).signature))
        fingerprint_each = (time.perf_counter() - started) / len(stored)
        items_to_cluster = new_items(first)
        floods = flood_texts()
        cluster_results = []
        for count in story_counts:
            progress(f"part 5: clustering against {count:,} stories")
            cluster_results.append(
                await run_clustering(workdir, stored[:count], items_to_cluster, floods)
            )
            gc.collect()
        report.section(
            f"5. story clustering: {CLUSTER_ITEMS:,} new items ({NEAR_DUPLICATE_SHARE:.0%}"
            f" near-duplicates), ingest() per {CLUSTER_BATCH}, N stories in the window,"
            " warmed StoryCache"
        )
        cluster_rows(report, cluster_results, items_to_cluster, fingerprint_each)
        del stored
        gc.collect()
    except sqlite3.Error as exc:  # e.g. a schema this part does not know yet
        report.section("5. story clustering")
        report.add("skipped", "", f"{type(exc).__name__}: {exc}"[:200])
    return maxrss_mb()


async def main_async(scale: Scale) -> Report:
    """Run every part and fill the report."""
    report = Report()
    report.section("machine")
    for key, value in machine():
        report.add(key, "", value)
    report.add("load average at start", "", load_average())
    if scale.only_clustering:
        with tempfile.TemporaryDirectory(prefix="nkru-bench-") as tmp:
            rss = await clustering_part(report, Path(tmp), scale.story_counts)
        report.section("6. memory")
        report.add("peak RSS after part 5", f"{rss:,.0f} MiB", "ru_maxrss")
        return report

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

        progress("parts 1-3: feedparser alone and parse → normalise → dedup → store")
        result = await run_pipeline(
            feeds, workdir, workers=scale.workers, timed_calls=True, with_feedparser=True
        )
        for name in ("pool.db", "thread.db"):
            (workdir / name).unlink(missing_ok=True)
        rss_after_pipeline = maxrss_mb()
        report.section(
            "1-3. parse → normalise → dedup → store, no HTTP, every item new;"
            f" feedparser alone and prepare_feed alone interleaved every {INTERLEAVE} feeds"
        )
        pipeline_rows(report, result)

        progress("part 4: HTTP polls")
        rounds, server_rss = await run_http(feeds, workdir, scale.poll_limit, scale.workers)
        in_flight = "all at once" if scale.poll_limit is None else f"{scale.poll_limit} at a time"
        parsing = f"{scale.workers} parser processes" if scale.workers else "parsing in a thread"
        report.section(
            f"4. poll_feed over HTTP: {scale.feeds:,} feeds, {in_flight}, server in another"
            f" process on 127.0.0.1, FeedFetcher global_limit {GLOBAL_LIMIT}, {parsing}"
        )
        http_rows(report, rounds, scale.feeds)
        rss_after_http = maxrss_mb()

        rss_after_cluster = await clustering_part(report, workdir, scale.story_counts)

        progress(f"part 6: tracemalloc over {TRACEMALLOC_FEEDS} feeds")
        gc.collect()
        tracemalloc.start()
        await run_pipeline(  # parsing in a thread: tracemalloc sees this process only
            feeds[:TRACEMALLOC_FEEDS],
            workdir,
            workers=0,
            timed_calls=False,
            with_feedparser=False,
        )
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    report.section("6. memory")
    report.add("peak RSS after parts 1-3", f"{rss_after_pipeline:,.0f} MiB", "ru_maxrss")
    report.add("peak RSS after part 4", f"{rss_after_http:,.0f} MiB", "this (client) process")
    report.add(
        "peak RSS after part 5",
        f"{rss_after_cluster:,.0f} MiB",
        "the preloaded signatures, the StoryCache of the largest N and a second cold sync under"
        " tracemalloc (whose traces cost memory too) included",
    )
    report.add("peak RSS of the HTTP server process", f"{server_rss:,.0f} MiB", "VmHWM")
    report.add(
        "tracemalloc peak, pipeline",
        f"{traced_peak / 2**20:,.1f} MiB",
        f"Python heap during part 1 over {TRACEMALLOC_FEEDS} feeds (bodies made before)",
    )
    report.section("end")
    report.add("load average at end", "", load_average())
    return report


async def profile_pipeline(feeds: list[synthetic.SyntheticFeed]) -> None:
    """cProfile of part 1 over `feeds`, printed after the table."""
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="nkru-bench-") as tmp:
        profiler.enable()
        await run_pipeline(feeds, Path(tmp), workers=0, timed_calls=False, with_feedparser=False)
        profiler.disable()
    print(f"\ncProfile of part 1 (worker thread) over {len(feeds)} feeds (main thread only)")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 100 feeds, 1,000 and 10,000 stories"
    )
    parser.add_argument(
        "--all-at-once",
        action="store_true",
        help="part 4: start every poll at once (like app.poll_all_once) in every round",
    )
    parser.add_argument(
        "--profile", action="store_true", help=f"also cProfile part 1 over {PROFILE_FEEDS} feeds"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=usable_cpus(),
        help="parser processes for parts 1 and 4 (default: usable CPUs; 0 = thread only)",
    )
    parser.add_argument(
        "--stories",
        help="part 5: stories in the window, comma-separated (default 1000,100000; --quick"
        " 1000,10000), e.g. 1000,1000000",
    )
    parser.add_argument(
        "--only-clustering", action="store_true", help="run part 5 alone (and its memory row)"
    )
    args = parser.parse_args()
    limit = None if args.all_at_once else POLL_CONCURRENCY
    feeds, story_counts = (100, (1_000, 10_000)) if args.quick else (1_000, (1_000, 100_000))
    if args.stories:
        story_counts = tuple(int(count) for count in args.stories.split(","))
    scale = Scale(feeds, story_counts, limit, max(args.workers, 0), args.only_clustering)
    started = time.perf_counter()
    report = asyncio.run(main_async(scale))
    report.add("total run time", f"{time.perf_counter() - started:.0f} s")
    report.print()
    if args.profile:
        asyncio.run(profile_pipeline(synthetic.make_feeds(PROFILE_FEEDS, ITEMS_PER_FEED)))


if __name__ == "__main__":
    main()
