"""`WatchlistEditor`: every change to the stored watchlist goes through here.

A change is a read-modify-write of the newest version: under the watchlist lock (one writer at
a time, across processes) the newest document is re-read, edited, validated with the real
loader, and stored as the next version, all in one transaction. Two admins editing at once
therefore get two versions, the second built on the first, and neither change is lost.

What is checked before a version is stored: the document loads (`load_watchlist_text`: every
problem with line, field and fix), and it still defines every theme the routes of this
process follow (a route to a theme that no longer exists would silently go quiet).
Listeners (`on_saved`) hear of each version stored by this process, so its matcher changes at
once; other processes notice on their next check (`LiveWatchlist.refresh`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from bot.core.records import AuditEntry, Author, NewVersion, VersionInfo, WatchlistVersion
from bot.core.repositories import Database, Transaction
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist.model import Problem, Watchlist, WatchlistError
from bot.core.watchlist_editing.compiled import CompiledVersion
from bot.core.watchlist_editing.diff import diff_watchlists, summary
from bot.core.watchlist_editing.document import EditError

log = logging.getLogger(__name__)
FILE_AUTHOR = Author("file", "file", "file")
Listener = Callable[[VersionInfo, Watchlist], Awaitable[None]]


class When(Enum):
    """When a whole document (a file, an import) is stored."""

    EMPTY = "empty"  # only as the first version: the seed
    UNSEEN = "unseen"  # unless some version already has exactly this text: a file on disk
    CHANGED = "changed"  # unless the newest version has exactly this text: an import


@dataclass(frozen=True, slots=True)
class Saved:
    """A version this editor stored, with its changes as lines (see `diff`)."""

    info: VersionInfo
    lines: list[str]
    watchlist: Watchlist


class NoWatchlist(LookupError):
    """Nothing is stored yet (the bot stores NKRU_WATCHLISTS as version 1 when it starts)."""

    def __init__(self) -> None:
        super().__init__(
            "no watchlist is stored yet: start the bot once (it stores NKRU_WATCHLISTS) "
            "or run `nkru watchlist import FILE`"
        )


class WatchlistEditor:
    """Reads and changes the stored watchlist; see the module docstring for the guarantees."""

    def __init__(
        self,
        store: Database,
        clock: Callable[[], datetime],
        *,
        routed_themes: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.clock = clock
        self.routed_themes = routed_themes  # themes NKRU_ROUTES follows: never removed
        self._listeners: list[Listener] = []
        self._parsed: tuple[int, Watchlist] | None = None  # the newest version, loaded
        # Its matcher: the live watchlist's (`LiveWatchlist`), which the preview reuses.
        self.compiled = CompiledVersion()

    def on_saved(self, listener: Listener) -> None:
        """Call `listener` after each version this editor stores."""
        self._listeners.append(listener)

    async def latest_number(self) -> int | None:
        """The newest version's number (one cheap query)."""
        async with self.store.transaction() as tx:
            return await tx.versions.latest_number()

    async def latest(self) -> tuple[WatchlistVersion, Watchlist]:
        """The newest version and its watchlist; NoWatchlist before the first is stored."""
        async with self.store.transaction() as tx:
            found = await tx.versions.latest()
        if found is None:
            raise NoWatchlist()
        return found, await self._load(found)

    async def version(self, number: int) -> WatchlistVersion | None:
        """One stored version."""
        async with self.store.transaction() as tx:
            return await tx.versions.get(number)

    async def history(self, limit: int = 20, theme: str | None = None) -> list[VersionInfo]:
        """The newest versions first (only those that changed `theme`, if given)."""
        async with self.store.transaction() as tx:
            return await tx.versions.history(limit, theme)

    async def edit(
        self, author: Author, change: Callable[[str], str], *, source: str = "chat"
    ) -> Saved:
        """Apply `change` (old text → new text; EditError if it cannot) to the newest version
        and store the result; WatchlistError if it would be invalid, EditError if it changes
        nothing."""
        async with self.store.transaction() as tx:
            await tx.versions.lock()
            current = await _latest(tx)
            text = await asyncio.to_thread(change, current.document)
            saved = await self._store(tx, current, text, author, source, "")
        await self._notify(saved)
        return saved

    async def undo(self, author: Author, to: int | None = None) -> Saved:
        """Store, as a new version, the document of version `to` (default: the one before the
        newest) exactly; EditError when there is nothing to go back to."""
        async with self.store.transaction() as tx:
            await tx.versions.lock()
            current = await _latest(tx)
            if to is None:
                target = await tx.versions.before(current.version)
            else:
                target = await tx.versions.get(to)
            if target is None:
                raise EditError(
                    f"there is no version {to}" if to is not None
                    else f"nothing to undo: v{current.version} is the first version"
                )  # fmt: skip
            prefix = f"undo to v{target.version}: "
            saved = await self._store(tx, current, target.document, author, "undo", prefix)
        await self._notify(saved)
        return saved

    async def store_document(
        self, text: str, path: Path, author: Author, *, source: str, when: When
    ) -> Saved | None:
        """Store a whole document (the seed, a file edited on disk, an import) as the next
        version, audited; None when `when` says it is not new. WatchlistError if invalid."""
        async with self.store.transaction() as tx:
            await tx.versions.lock()
            current = await tx.versions.latest()
            if await _known(tx, when, current, text):
                return None
            saved = await self._store(
                tx, current, text, author, source, f"{source} {path.name}: ",
                name=path.stem, label=str(path), routes=source != "seed",
            )  # fmt: skip
            await tx.audit.record(AuditEntry(
                    self.clock(), author.platform, author.user_id, author.user_name, "",
                    f"watchlist {source}", str(path), saved.info.change,
                ),
            )  # fmt: skip
        await self._notify(saved)
        return saved

    async def audit_invalid(
        self, author: Author, action: str, target: str, error: WatchlistError
    ) -> None:
        """Record a refused change (a broken file, an invalid import) in the audit log."""
        detail = "; ".join(str(problem) for problem in error.problems)
        entry = AuditEntry(
            self.clock(), author.platform, author.user_id, author.user_name, "", action, target,
            detail, outcome="invalid",
        )  # fmt: skip
        async with self.store.transaction() as tx:
            await tx.audit.record(entry)

    async def _store(
        self,
        tx: Transaction,
        current: WatchlistVersion | None,
        text: str,
        author: Author,
        source: str,
        prefix: str,
        *,
        name: str | None = None,
        label: str | None = None,
        routes: bool = True,
    ) -> Saved:
        if current is not None and text == current.document:
            raise EditError(
                f"no change: the watchlist in force (v{current.version}) is exactly that"
            )
        name = current.name if current is not None else (name or "watchlist")
        # Problems name the file they are in, or the stored watchlist's file name.
        new = await asyncio.to_thread(load_watchlist_text, text, label or f"{name}.toml")
        if routes:
            self.check_routes(new, name)
        if current is None:
            lines, change = diff_watchlists(None, new), prefix + _counts(new)
        else:
            old = await self._load(current)
            lines = diff_watchlists(old, new)
            slugs = sorted({t.slug for t in (*old.themes, *new.themes)})
            change = prefix + summary(lines, slugs)
        version = NewVersion(name, text, author, change, source)
        info = await tx.versions.insert_version(version, self.clock())
        self._parsed = (info.version, new)
        return Saved(info, lines, new)

    def check_routes(self, watchlist: Watchlist, name: str) -> None:
        """WatchlistError if `watchlist` lacks a theme the routes follow (a save would refuse)."""
        missing = sorted(self.routed_themes - {theme.slug for theme in watchlist.themes})
        if missing:
            message = f"NKRU_ROUTES follows {', '.join(missing)}, which this change removes"
            fix = "keep the theme, or take it out of NKRU_ROUTES first"
            raise WatchlistError([Problem(f"{name}.toml", None, "", message, fix)])

    async def _load(self, version: WatchlistVersion) -> Watchlist:
        if self._parsed is not None and self._parsed[0] == version.version:
            return self._parsed[1]
        loaded = await asyncio.to_thread(
            load_watchlist_text, version.document, f"{version.name}.toml"
        )
        self._parsed = (version.version, loaded)
        return loaded

    async def _notify(self, saved: Saved) -> None:
        for listener in self._listeners:
            try:
                await listener(saved.info, saved.watchlist)
            except Exception:  # the version is stored; the periodic check retries adopting it
                log.exception("could not apply watchlist v%s at once", saved.info.version)


async def _latest(tx: Transaction) -> WatchlistVersion:
    found = await tx.versions.latest()
    if found is None:
        raise NoWatchlist()
    return found


async def _known(tx: Transaction, when: When, current: WatchlistVersion | None, text: str) -> bool:
    """Whether the document is not new in the sense of `when`."""
    if when is When.EMPTY:
        return current is not None
    if when is When.CHANGED:
        return current is not None and current.document == text
    return await tx.versions.find_document(text) is not None


def _counts(watchlist: Watchlist) -> str:
    themes = len(watchlist.themes)
    return f"{themes} theme{'s' if themes != 1 else ''}, {watchlist.term_count()} terms"
