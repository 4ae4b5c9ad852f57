"""`CompiledVersion`: the matcher of the version in force, compiled once per version.

Compiling the default watchlist takes 40-190 ms of CPU; a stored version's document never
changes (an edit or an undo stores a new number), so its matcher can be kept by number. The
live watchlist (`LiveWatchlist`) hands over the matcher it compiled for the poll, and the
preview of a draft (`preview_draft`) compares with it instead of compiling it again.

Sharing that matcher with the preview's worker thread is safe: matching keeps its state per
call, and the one thing it keeps across calls is a cache of fuzzy verdicts (a dict whose
single reads and writes the GIL makes atomic; a verdict depends on its key alone).
"""

from __future__ import annotations

import asyncio

from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.model import Watchlist


def compile_matcher(watchlist: Watchlist) -> WatchlistMatcher:
    """The matcher of one watchlist (CPU work: run it in a thread)."""
    return WatchlistMatcher(Matcher.from_watchlists([watchlist]))


class CompiledVersion:
    """The newest version's matcher seen, by version number (one is kept: older ones are
    of no more use to a preview, which always compares with the version in force)."""

    def __init__(self) -> None:
        self._kept: tuple[int, WatchlistMatcher] | None = None

    def keep(self, version: int, matcher: WatchlistMatcher) -> None:
        """Remember `matcher` as version `version`'s, unless a newer version's is kept."""
        if self._kept is None or version >= self._kept[0]:
            self._kept = (version, matcher)

    def get(self, version: int) -> WatchlistMatcher | None:
        """Version `version`'s matcher, if it is the one kept."""
        kept = self._kept
        return kept[1] if kept is not None and kept[0] == version else None

    async def of(self, version: int, watchlist: Watchlist) -> WatchlistMatcher:
        """Version `version`'s matcher (`watchlist` is its loaded document): the one kept, else
        compiled now in a worker thread and kept."""
        found = self.get(version)
        if found is not None:
            return found
        matcher = await asyncio.to_thread(compile_matcher, watchlist)
        self.keep(version, matcher)
        return matcher
