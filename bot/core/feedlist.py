"""Read a feed list (`seeds/feeds.toml`): `[[feed]]` tables with url, name, optional interval;
copy it into an empty database."""

from __future__ import annotations

import asyncio
import logging
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.feed_input import feed_interval, feed_url
from bot.core.records import NewFeed
from bot.core.repositories import Database

if TYPE_CHECKING:
    from bot.core.models import Feed

log = logging.getLogger(__name__)

# Feeds stored per statement when a list is seeded: binding 10,000 rows' parameters at once
# held the event loop for a tenth of a second; 500 a statement still took 20-25 ms a step.
_SEED_CHUNK = 100
_FEED_KEYS = ("url", "name", "interval", "language")  # language: informational only


class FeedListError(Exception):
    """The feed list is malformed; the message names the file, the entry and the fix."""


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One configured feed."""

    url: str
    name: str
    interval_seconds: int | None


def load_feed_list(path: Path) -> list[FeedSpec]:
    """Parse and validate the file; raise FeedListError with a precise message."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FeedListError(f"{path}: file not found — set NKRU_FEEDS_FILE") from None
    except tomllib.TOMLDecodeError as exc:
        raise FeedListError(f"{path}: invalid TOML: {exc}") from None
    if unknown := sorted(set(data) - {"feed"}):
        # `[[feeds]]` for `[[feed]]` would otherwise seed nothing, silently.
        raise FeedListError(
            f"{path}: unknown top-level key {unknown[0]!r}: each feed is a [[feed]] table"
        )
    entries = data.get("feed", [])
    if not isinstance(entries, list):
        raise FeedListError(f"{path}: `feed` must be an array of tables: write [[feed]]")
    return [_spec(path, number, entry) for number, entry in enumerate(entries, start=1)]


def _spec(path: Path, number: int, entry: object) -> FeedSpec:
    where = f"{path}: feed #{number}"
    if not isinstance(entry, dict):
        raise FeedListError(f"{where}: must be a table ([[feed]])")
    if unknown := sorted(set(entry) - set(_FEED_KEYS)):
        # A misspelt `interval` would otherwise leave the feed on the default, silently.
        raise FeedListError(
            f"{where}: unknown key {unknown[0]!r}: a feed has {', '.join(_FEED_KEYS)}"
        )
    try:
        url = feed_url(str(entry.get("url", "")))
    except ValueError as exc:
        raise FeedListError(f"{where}: `url`: {exc}") from None
    name = str(entry.get("name") or url)
    interval = entry.get("interval")
    try:
        seconds = None if interval is None else feed_interval(interval)
    except ValueError as exc:
        raise FeedListError(f"{where} ({name}): `interval`: {exc}") from None
    return FeedSpec(url=url, name=name, interval_seconds=seconds)


async def read_feed_list(path: Path) -> list[FeedSpec]:
    """`load_feed_list` in a worker thread: reading and checking 10,000 feeds' URLs held the
    event loop for half a second at start-up, while /healthz and Slack commands waited."""
    return await asyncio.to_thread(load_feed_list, path)


async def seed_feed_list(store: Database, path: Path, default_interval: int) -> list[Feed]:
    """On first start (no feeds stored yet) copy the feed list at `path` into the database;
    feeds without an interval get `default_interval` seconds. Returns the feeds added."""
    async with store.transaction() as tx:
        if await tx.feeds.list_all():
            return []
    specs = await read_feed_list(path)
    new = [NewFeed(s.url, s.name, s.interval_seconds or default_interval, "seed") for s in specs]
    now = datetime.now(UTC)
    added: list[Feed] = []
    async with store.transaction() as tx:
        for start in range(0, len(new), _SEED_CHUNK):
            added += await tx.feeds.add_missing(new[start : start + _SEED_CHUNK], now)
    log.info("seeded %d feeds from %s", len(added), path)
    return added
