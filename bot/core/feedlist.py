"""Read a feed list (`seeds/feeds.toml`): `[[feed]]` tables with url, name, optional interval."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.core.normalize import canonical_url
from bot.settings import parse_duration


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
    entries = data.get("feed", [])
    if not isinstance(entries, list):
        raise FeedListError(f"{path}: `feed` must be an array of tables: write [[feed]]")
    return [_spec(path, number, entry) for number, entry in enumerate(entries, start=1)]


def _spec(path: Path, number: int, entry: object) -> FeedSpec:
    where = f"{path}: feed #{number}"
    if not isinstance(entry, dict):
        raise FeedListError(f"{where}: must be a table ([[feed]])")
    url = canonical_url(str(entry.get("url", "")))
    if url is None:
        raise FeedListError(f"{where}: `url` must be an http(s) URL (got {entry.get('url')!r})")
    name = str(entry.get("name") or url)
    interval = entry.get("interval")
    try:
        seconds = None if interval is None else int(parse_duration(interval))
    except ValueError as exc:
        raise FeedListError(f"{where} ({name}): `interval`: {exc}") from None
    return FeedSpec(url=url, name=name, interval_seconds=seconds)
