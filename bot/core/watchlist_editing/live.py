"""`LiveWatchlist`: the watchlist this process matches with, kept current.

The database is the truth: the newest stored version is the watchlist in force. Each process
compiles it into a matcher and, on every check (`refresh`, scheduled every
NKRU_WATCHLIST_CHECK_INTERVAL), does two cheap things:

1. the watchlist file: if it changed on disk (mtime, size, then hash) and its text is not a
   version already stored, it is validated and stored as a new version (source "file"); a
   broken file is logged and audited ("invalid") once, and the version in force stays;
2. the newest version number: if it moved (an edit from chat, an import, another process's
   file check), that version is loaded, compiled in a worker thread and swapped in.

So every process sharing a database picks up a change within one check, and edits made in this
process apply at once (the editor tells us). A file that is merely identical to some stored
version (the seed, an export) is not a change: after a chat edit the file on disk is older than
the database, and reading it again must not undo the edit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.core.records import VersionInfo
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist.model import Watchlist, WatchlistError
from bot.core.watchlist_editing.compiled import compile_matcher
from bot.core.watchlist_editing.editor import FILE_AUTHOR, NoWatchlist, WatchlistEditor, When
from bot.core.watchlist_editing.files import FileText, WatchedFile

log = logging.getLogger(__name__)
Apply = Callable[[WatchlistMatcher], None]


class LiveWatchlist:
    """The compiled newest version, refreshed from the file and the database."""

    def __init__(self, editor: WatchlistEditor, file: WatchedFile | None) -> None:
        self.editor = editor
        self.file = file
        self.version: int | None = None
        self.matcher: WatchlistMatcher | None = None
        self._apply: list[Apply] = []
        self._refreshing = asyncio.Lock()
        self._reported: set[str] = set()  # problems already logged (a bad stored version)
        self._file_reported: set[str] = set()  # the file's, forgotten once it is valid again
        editor.on_saved(self._saved)

    def on_change(self, apply: Apply) -> None:
        """Call `apply` with each new matcher (e.g. `PollContext.set_matcher`)."""
        self._apply.append(apply)

    @property
    def slugs(self) -> list[str]:
        """The theme slugs in force."""
        return self.matcher.slugs if self.matcher else []

    async def start(self) -> None:
        """At start-up: store the file as version 1 if nothing is stored (else as a new version
        if it changed while the bot was stopped), then load the newest version.

        Raises WatchlistError (or NoWatchlist) only when there is no version to run with.
        """
        if self.file is not None:
            try:
                found = self.file.read_if_changed()
            except WatchlistError as exc:
                if await self.editor.latest_number() is None:
                    raise  # nothing stored and no file to seed from
                self._report(str(exc), "the watchlist file cannot be read (NKRU_WATCHLISTS)")
                found = None
            if found is not None:
                await self._store_first(found)
        await self._adopt_latest()

    async def refresh(self) -> bool:
        """The periodic check (see the module docstring); True if the matcher changed."""
        async with self._refreshing:
            before = self.version
            if self.file is not None:
                await self._check_file()  # a version stored from the file is adopted at once
            number = await self.editor.latest_number()
            if number is not None and number != self.version:
                await self._adopt_latest()
            return self.version != before

    async def _store_first(self, found: FileText) -> None:
        if await self.editor.latest_number() is None:
            saved = await self.editor.store_document(
                found.text, found.path, FILE_AUTHOR, source="seed", when=When.EMPTY
            )
            if saved is not None:
                log.info("watchlist v%s stored from %s", saved.info.version, found.path)
                return
        await self._store_file(found)

    async def _check_file(self) -> None:
        assert self.file is not None
        try:
            found = self.file.read_if_changed()
        except WatchlistError as exc:
            what = "the watchlist file cannot be read (NKRU_WATCHLISTS)"
            self._report(str(exc), what, self._file_reported)
            return
        if found is not None:
            await self._store_file(found)

    async def _store_file(self, found: FileText) -> None:
        """Store an edited file as a new version, or log and audit why it was rejected."""
        try:
            saved = await self.editor.store_document(
                found.text, found.path, FILE_AUTHOR, source="file", when=When.UNSEEN
            )
        except WatchlistError as exc:
            what = f"{found.path} changed but is not a valid watchlist"
            if self._report(str(exc), what, self._file_reported):
                await self.editor.audit_invalid(FILE_AUTHOR, "watchlist file", str(found.path), exc)
            return
        self._file_reported.clear()  # valid again: breaking it again is news
        if saved is not None:
            log.info("watchlist v%s from %s: %s", saved.info.version, found.path, saved.info.change)

    async def _adopt_latest(self) -> bool:
        try:
            version, watchlist = await self.editor.latest()
        except WatchlistError as exc:  # stored, but this version of the code cannot read it
            self._report(str(exc), "the newest stored watchlist cannot be loaded")
            return False
        return await self._adopt(version.info, watchlist)

    async def _saved(self, info: VersionInfo, watchlist: Watchlist) -> None:
        await self._adopt(info, watchlist)

    async def _adopt(self, info: VersionInfo, watchlist: Watchlist) -> bool:
        if self.version is not None and info.version <= self.version:
            return False
        matcher = await asyncio.to_thread(compile_matcher, watchlist)
        if self.version is not None and info.version <= self.version:
            return False  # a newer one was adopted while this one compiled
        starting = self.version is None
        self.version, self.matcher = info.version, matcher
        self.editor.compiled.keep(info.version, matcher)  # the preview compares with it
        for apply in self._apply:
            apply(matcher)
        missing = sorted(self.editor.routed_themes - set(matcher.slugs))
        # At start-up the app refuses such routes with one line of its own (`build_watchlist`);
        # later, a version without them is only possible from outside the editor (a file).
        if missing and not starting:
            log.error(
                "watchlist v%s lacks themes NKRU_ROUTES follows (%s): those routes get no alerts",
                info.version,
                ", ".join(missing),
            )
        log.info("watchlist v%s in force (%s)", info.version, info.change)
        return True

    def _report(self, problem: str, what: str, seen: set[str] | None = None) -> bool:
        """Log a problem once (the check runs every few seconds); True the first time."""
        seen = self._reported if seen is None else seen
        if problem in seen:
            return False
        seen.add(problem)
        log.error("%s; keeping watchlist v%s: %s", what, self.version, problem)
        return True


__all__ = ["LiveWatchlist", "NoWatchlist", "compile_matcher"]
