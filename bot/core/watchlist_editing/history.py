"""One stored version's changes, as `diff` lines: what the web panel's history shows.

The stored `change` of a version is a one-line summary (`diff.summary`, cut at ~400
characters); the full list is the diff of the version's document and the one before it, both
loaded with the real loader, the same lines a chat edit answers with.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.records import WatchlistVersion
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist.model import Watchlist, WatchlistError
from bot.core.watchlist_editing.diff import diff_watchlists
from bot.core.watchlist_editing.editor import WatchlistEditor


@dataclass(frozen=True, slots=True)
class VersionChanges:
    """A version, the one before it (None for the first) and what changed between them."""

    version: WatchlistVersion
    previous: WatchlistVersion | None
    lines: tuple[str, ...]


async def version_changes(editor: WatchlistEditor, number: int) -> VersionChanges | None:
    """The changes version `number` made, or None if there is no such version.

    A version this code cannot load (stored by another release) is described by the loader's
    problems rather than by a diff.
    """
    async with editor.store.transaction() as tx:
        version = await tx.versions.get(number)
        previous = await tx.versions.before(number) if version is not None else None
    if version is None:
        return None
    try:
        new = await _load(version)
        old = await _load(previous) if previous is not None else None
    except WatchlistError as error:
        return VersionChanges(version, previous, tuple(f"cannot load: {p}" for p in error.problems))
    return VersionChanges(version, previous, tuple(diff_watchlists(old, new)))


async def _load(version: WatchlistVersion) -> Watchlist:
    return await asyncio.to_thread(load_watchlist_text, version.document, f"{version.name}.toml")
