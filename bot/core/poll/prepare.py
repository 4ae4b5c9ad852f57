"""Everything a fetched body needs before storage, as one pure function, plus where to run it.

`prepare_feed` does all the per-entry CPU work of a poll: feedparser (or the JSON Feed reader)
with normalising (bot.core.poll.parse), the `identifiable` filter, the layer-(a) dedup key and
content hash (bot.core.dedup) and the layer-(b) story fingerprint (bot.core.cluster). It is
module-level, picklable and keeps no state, so it can run in another process; its result is
small (no feedparser objects) to send back.

A `Parser` decides where it runs:

* `ThreadParser` (the default of `PollContext`): a worker thread of this process. No start-up
  cost, but the work holds the GIL, so it competes with the event loop and its database work.
* `ProcessPoolParser`: a pool of worker processes (`NKRU_PARSE_WORKERS`), so parsing runs on
  the machine's other cores while this process stores. Workers are started by a fork server
  (never forked from a process with a running event loop and open database connections) and
  warmed up on entry (or on first use). A broken pool (a worker killed, e.g. by the OOM
  killer) never fails a poll: that call runs in a thread instead and the pool is recreated.
  Workers end when this process ends, however it ends (`kill -9` included): see
  `_watch_parent`. With them gone, the fork server and multiprocessing's resource tracker
  end too (each waits for EOF on a pipe whose write ends only this process and the workers
  hold).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Protocol

from bot.core.cluster import fingerprint
from bot.core.dates import publication_time
from bot.core.dedup import content_hash, item_key
from bot.core.models import NewArticle, ParsedEntry, ParsedFeed
from bot.core.poll.parse import UNTITLED, parse_feed
from bot.core.search_terms.terms import index_text

log = logging.getLogger(__name__)

ParseFunction = Callable[..., ParsedFeed]


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    """A parsed feed reduced to what the poll stores and records: articles ready for ingest."""

    articles: list[NewArticle]
    title: str | None = None
    ttl_minutes: int | None = None
    problem: str | None = None  # feedparser's bozo reason, recorded on the feed's health
    fatal: bool = False  # nothing feed-like could be read at all


def prepare_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    fetched_at: datetime,
    feed_id: int,
    feed_url: str,
    source_name: str,
    parse: ParseFunction | None = None,
) -> PreparedFeed:
    """Parse and normalise a body, keep identifiable entries, key, hash and fingerprint them.

    `url` is where the body came from (after redirects: relative links resolve against it);
    `feed_url` is the feed as stored (opaque GUIDs are scoped to its host). `parse` replaces
    `parse_feed` (the in-thread runner passes the pipeline's, so tests can observe parsing).
    """
    parsed = (parse or parse_feed)(body, url=url, content_type=content_type, fetched_at=fetched_at)
    articles = []
    for entry in parsed.entries:
        if not identifiable(entry):
            continue
        fp = fingerprint(entry.title, entry.summary)
        articles.append(
            NewArticle(
                feed_id=feed_id,
                item_key=item_key(entry, feed_url),
                guid=entry.guid,
                url=entry.link,
                title=entry.title,
                summary=entry.summary,
                published_at=publication_time(entry.published, fetched_at),
                fetched_at=fetched_at,
                content_hash=content_hash(entry.title, entry.summary),
                source_name=source_name,
                image_url=entry.image_url,
                signature=fp.signature,
                band_keys=fp.band_keys,
                search_text=index_text(entry.title, entry.summary),
            )
        )
    return PreparedFeed(
        articles=articles,
        title=parsed.title,
        ttl_minutes=parsed.ttl_minutes,
        problem=parsed.problem,
        fatal=parsed.fatal,
    )


def identifiable(entry: ParsedEntry) -> bool:
    """An entry with no id, no link and no text can be neither shown nor recognised again
    (its dedup key would be the hash of nothing, shared by every such entry): skip it."""
    has_text = entry.summary.strip() or entry.title not in ("", UNTITLED)
    return bool(entry.guid or entry.link or has_text)


class Parser(Protocol):
    """Runs `prepare_feed` somewhere that is not the event loop."""

    async def prepare(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        fetched_at: datetime,
        feed_id: int,
        feed_url: str,
        source_name: str,
    ) -> PreparedFeed:
        """`prepare_feed` with these arguments, awaited."""
        ...


class ThreadParser:
    """`prepare_feed` in a worker thread of this process: no pool to start or stop."""

    def __init__(self, parse: ParseFunction | None = None) -> None:
        self._parse = parse

    async def prepare(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        fetched_at: datetime,
        feed_id: int,
        feed_url: str,
        source_name: str,
    ) -> PreparedFeed:
        """`prepare_feed` via `asyncio.to_thread`."""
        return await asyncio.to_thread(
            prepare_feed,
            body,
            url=url,
            content_type=content_type,
            fetched_at=fetched_at,
            feed_id=feed_id,
            feed_url=feed_url,
            source_name=source_name,
            parse=self._parse,
        )


# Parse workers do bulk work (a first poll of 10,000 feeds parses 200,000 items, keeping both
# cores of a small machine busy); the main process answers chat and /healthz from its event
# loop. Where they compete for a core, the loop goes first: a worker waits, a Slack command
# must be answered in 3 s.
WORKER_NICENESS = 10


def _start_method() -> str:
    # Never plain "fork": the parent has a running event loop, threads and open connections.
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _worker_init(parent_alive: Connection) -> None:
    # Ctrl+C reaches the whole process group: the main process shuts the pool down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # only lowers this worker's priority: always allowed
        os.nice(WORKER_NICENESS)
    watch = threading.Thread(
        target=_watch_parent, args=(parent_alive,), name="parent-watch", daemon=True
    )
    watch.start()


def _watch_parent(parent_alive: Connection) -> None:
    """End this worker as soon as the process that owns the pool has ended, however it ended.

    `parent_alive` is the read end of a pipe whose only write end stays in the pool's owner and
    is never written to: the kernel closes it when the owner dies, even by SIGKILL, and the read
    returns EOF. Watching the parent pid instead would not do: a worker's parent is the fork
    server, which itself waits for the workers to end; and PR_SET_PDEATHSIG fires on the death
    of the forking thread (the fork server's), is Linux-only and not in the standard library.
    A worker stuck in C code that holds the GIL cannot run this thread; parsing is bounded by
    the fetch size limit, so it gets here soon after.
    """
    with contextlib.suppress(EOFError, OSError):
        parent_alive.recv_bytes()  # nothing is ever sent: this returns only at EOF
    # SIGKILL, not sys.exit: a normal exit joins the result queue's feeder thread, which can
    # block for ever on a pipe nobody reads now; the owner is gone, nothing is left to tidy.
    os.kill(os.getpid(), signal.SIGKILL)


def _warm_up() -> int:
    """Run once per worker at start: imports done, feedparser and the tokeniser exercised."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>warm-up</title><item>'
        b"<title>Pyongyang and Moscow open a new rail bridge over the Tumen river</title>"
        b"<guid>warm-up-1</guid><description>A road bridge across the Tumen river opened."
        b"</description></item></channel></rss>"
    )
    prepare_feed(
        body,
        url="https://warm-up.invalid/feed",
        content_type="application/rss+xml",
        fetched_at=datetime.now(UTC),
        feed_id=0,
        feed_url="https://warm-up.invalid/feed",
        source_name="warm-up",
    )
    return os.getpid()


class ProcessPoolParser:
    """`prepare_feed` in a pool of `workers` processes; use as an async context manager.

    The workers start on entry, or with `lazy=True` on `start()` or the first `prepare` (so a
    command that never parses starts no process). Starting never blocks the event loop.
    """

    def __init__(self, workers: int, *, lazy: bool = False) -> None:
        if workers < 1:
            raise ValueError("a process pool needs at least one worker")
        self.workers = workers
        self.lazy = lazy
        self.restarts = 0  # how often a broken pool was replaced (for tests and logs)
        self._executor: ProcessPoolExecutor | None = None
        self._in_threads = False  # the pool could not be started: parse in threads
        self._closed = False
        self._lock = asyncio.Lock()
        # (read end, write end) of the pipe the workers watch (see _watch_parent); made with
        # the first pool, kept for its replacements, closed on close().
        self._parent_alive: tuple[Connection, Connection] | None = None

    async def __aenter__(self) -> ProcessPoolParser:
        if not self.lazy:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the workers and wait until each has parsed a small feed (off the event loop).

        Does nothing if they run already. If they cannot be started, says so in the log and
        parses in threads from then on.
        """
        async with self._lock:
            if self._executor is not None or self._in_threads or self._closed:
                return
            try:
                self._executor = await asyncio.to_thread(self._new_executor)
            except Exception:
                log.exception("parser pool could not be started: parsing in threads instead")
                self._in_threads = True

    async def close(self) -> None:
        """Stop the workers (work not started yet is cancelled); later calls use a thread."""
        async with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        if self._parent_alive is not None:
            for end in self._parent_alive:
                end.close()
            self._parent_alive = None

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (empty before start and after close)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [pid for pid, process in dict(processes).items() if process.is_alive()]

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(_start_method())
        if context.get_start_method() == "forkserver":
            # Imported once by the fork server, so each worker starts with them loaded. Only
            # takes effect when this process starts its fork server (the first pool).
            context.set_forkserver_preload(["bot.core.poll.prepare"])
        if self._parent_alive is None:
            # Both ends are created non-inheritable and only the read end is sent (to each
            # worker): no other process ever holds the write end.
            self._parent_alive = context.Pipe(duplex=False)
        executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_worker_init,
            initargs=(self._parent_alive[0],),
        )
        try:
            # Submitted together, the warm-ups start every worker now rather than on first use.
            futures = [executor.submit(_warm_up) for _ in range(self.workers)]
            for future in futures:
                future.result(timeout=120)
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return executor

    async def prepare(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        fetched_at: datetime,
        feed_id: int,
        feed_url: str,
        source_name: str,
    ) -> PreparedFeed:
        """`prepare_feed` in a worker process; in a thread if the pool is broken or closed."""
        call = functools.partial(
            prepare_feed,
            body,
            url=url,
            content_type=content_type,
            fetched_at=fetched_at,
            feed_id=feed_id,
            feed_url=feed_url,
            source_name=source_name,
        )
        if self._executor is None:
            await self.start()
        executor = self._executor
        if executor is None:
            return await asyncio.to_thread(call)
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, call)
        except BrokenProcessPool as exc:
            log.warning(
                "parser pool broken (%s): parsing %s in a thread instead; restarting the pool",
                exc,
                url,
            )
            await self._replace(executor)
            return await asyncio.to_thread(call)

    async def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken executor for a new one, once however many calls saw it break."""
        async with self._lock:
            if self._executor is not broken:
                return  # already replaced (or closed) by another call
            self._executor = None
            broken.shutdown(wait=False, cancel_futures=True)
            try:
                self._executor = await asyncio.to_thread(self._new_executor)
            except Exception:
                log.exception("parser pool could not be restarted: parsing in threads from now on")
                self._in_threads = True
                return
            self.restarts += 1
            log.warning("parser pool restarted with %d workers", self.workers)
