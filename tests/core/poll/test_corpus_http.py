"""Every corpus file through the whole pipeline over real HTTP into one SQLite store.

feedparser's test suite (~2,100 odd, broken and exotic documents) and 55 real outlets' feeds
are served from one loopback server and polled concurrently. Nothing may escape poll_feed:
each feed must end with stored items, a recorded error, or a parse that found nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from bot.core.dedup import item_key
from bot.core.feed_health import PollPolicy
from bot.core.models import Feed, FeedStatus, ParsedFeed
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.parse import parse_feed as real_parse
from bot.core.poll.pipeline import PollContext, PollReport, identifiable, poll_feed
from bot.core.records import NewFeed
from storage.engine import Store
from storage.schema import articles
from tests.conftest import CORPUS
from tests.fakes.feed_server import FeedServer

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not (CORPUS / "feedparser-tests").is_dir() or not (CORPUS / "real-feeds").is_dir(),
        reason=f"feed corpus not found at {CORPUS} (needs feedparser-tests/ and real-feeds/)",
    ),
]

FEEDPARSER = CORPUS / "feedparser-tests"
REAL = CORPUS / "real-feeds"
CONCURRENCY = 16
# `Header: Content-type: ...` in a feedparser test file's leading comment (simulated HTTP).
_HEADER_RE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.*?)\s*(?:-->)?\s*$", re.I | re.M)
_REAL_TYPES = {".json": "application/feed+json", ".rdf.xml": "application/rdf+xml"}


@dataclass(frozen=True, slots=True)
class Served:
    """One corpus file and how it is served."""

    route: str
    path: Path
    content_type: str
    headers: dict[str, str]
    real: bool


def _header_content_type(body: bytes) -> str | None:
    comment_end = body.find(b"-->")
    head = body[: comment_end if comment_end >= 0 else 2048]
    match = _HEADER_RE.search(head)
    return match.group(1).decode("latin-1") if match else None


def corpus_files() -> list[Served]:
    """Every feedparser-tests file, and every real-feeds feed (not .tsv, not LICENSES/)."""
    served = []
    for path in sorted(p for p in FEEDPARSER.rglob("*") if p.is_file()):
        content_type = _header_content_type(path.read_bytes()) or "application/xml"
        route = "/fp/" + quote(path.relative_to(FEEDPARSER).as_posix())
        served.append(Served(route, path, content_type, {}, real=False))
    for path in sorted(p for p in REAL.iterdir() if p.is_file() and p.suffix != ".tsv"):
        name = path.name.removesuffix(".gz")
        suffix = next((s for s in _REAL_TYPES if name.endswith(s)), "")
        content_type = _REAL_TYPES.get(suffix, "application/xml")
        headers = {"Content-Encoding": "gzip"} if path.name.endswith(".gz") else {}
        served.append(Served("/real/" + quote(path.name), path, content_type, headers, True))
    return served


def well_formed_real(served: Served) -> bool:
    return (
        served.real
        and not served.path.name.startswith("malformed_")
        and ("invalid" not in served.path.name)
    )


async def test_every_corpus_file_through_poll_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)  # thousands of expected per-feed warnings
    files = corpus_files()
    assert len(files) > 2100
    parsed_by_url: dict[str, ParsedFeed] = {}

    def recording_parse(*args: Any, **kwargs: Any) -> ParsedFeed:
        result = real_parse(*args, **kwargs)
        parsed_by_url[kwargs["url"]] = result
        return result

    monkeypatch.setattr("bot.core.poll.pipeline.parse_feed", recording_parse)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}")
    started = time.monotonic()
    try:
        async with FeedServer() as server:
            now = datetime.now(UTC)
            for item in files:
                server.add_feed(
                    item.route,
                    item.path.read_bytes(),
                    content_type=item.content_type,
                    headers=item.headers,
                )
            async with store.transaction() as conn:
                stored = await conn.feeds.add_missing(
                    [NewFeed(server.url(f.route), f.route, 3600) for f in files], now
                )
            assert len(stored) == len(files)
            ctx = PollContext(
                store,
                FeedFetcher(global_limit=CONCURRENCY, per_host_limit=CONCURRENCY),
                PollPolicy(flood_guard=False),
                AlertPolicy(alert_max_age=None),
            )
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(feed_id: int) -> PollReport:
                async with gate:
                    return await poll_feed(ctx, feed_id)

            async with ctx.fetcher:
                results = await asyncio.gather(
                    *(one(feed.id) for feed in stored), return_exceptions=True
                )
            duration = time.monotonic() - started
            escaped = [r for r in results if isinstance(r, BaseException)]
            assert not escaped, f"{len(escaped)} polls raised, first: {escaped[0]!r}"
            async with store.transaction() as conn:
                feeds = {feed.url: feed for feed in await conn.feeds.list_all()}
                keys = set((await conn.connection.execute(select(articles.c.item_key))).scalars())
    finally:
        await store.close()

    outcomes = check_outcomes(files, server.url, feeds, parsed_by_url, keys)
    print(
        f"\ncorpus: {len(files)} feeds in {duration:.1f} s — {outcomes['items']} with items, "
        f"{outcomes['error']} with errors, {outcomes['no-entries']} parsed without entries, "
        f"{outcomes['already-stored']} with only items another feed had stored "
        f"({outcomes['ok-with-warning']} ok feeds keep a parser warning); "
        f"{len(keys)} articles stored"
    )


def check_outcomes(
    files: list[Served],
    url_of: Any,
    feeds: dict[str, Feed],
    parsed_by_url: dict[str, ParsedFeed],
    keys: set[str],
) -> Counter[str]:
    """Classify each feed's final state; fail on any feed left unexplained."""
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    for item in files:
        feed = feeds[url_of(item.route)]
        if feed.last_polled_at is None:
            problems.append(f"{item.route}: never recorded a poll")
        elif feed.item_count > 0 and feed.status is FeedStatus.OK:
            outcomes["items"] += 1
        elif feed.status is FeedStatus.FAILING:
            if not feed.last_error or "\n" in feed.last_error:
                problems.append(f"{item.route}: failing without a one-line error")
            outcomes["error"] += 1
        elif feed.status is FeedStatus.OK and feed.item_count == 0:
            # Parsed fine but nothing new: no entries at all, or each one already stored
            # by another feed (layer-a dedup across feeds).
            parsed = parsed_by_url.get(feed.url)
            if parsed is None:
                problems.append(f"{item.route}: ok without ever being parsed")
            elif any(identifiable(e) and item_key(e, feed.url) not in keys for e in parsed.entries):
                problems.append(f"{item.route}: parsed entries were not stored")
            outcomes["already-stored" if parsed and parsed.entries else "no-entries"] += 1
        else:
            problems.append(f"{item.route}: unexpected state {feed.status} / {feed.item_count}")
        if feed.status is FeedStatus.OK and feed.last_error:
            outcomes["ok-with-warning"] += 1  # bozo feeds read anyway: problem kept visible
        if well_formed_real(item) and feed.item_count == 0:
            problems.append(f"{item.route}: well-formed real feed stored nothing ({feed})")
    assert not problems, "\n".join(problems[:30])
    return outcomes
