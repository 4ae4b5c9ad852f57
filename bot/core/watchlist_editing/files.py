"""The watchlist file on disk (NKRU_WATCHLISTS): the seed, and edits made in an editor.

The bot keeps one watchlist document. NKRU_WATCHLISTS names it, or a folder holding exactly
one `*.toml` file; a folder with several is refused with a message saying how to fix it (merge
them, or point the setting at one), because versions, undo and export work on one document.

`WatchedFile.read_if_changed` is the cheap part of the periodic check: a `stat`, and the text
only when the modification time or size moved (then its hash decides whether it really
changed, so touching a file or saving it unchanged is no change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.core.watchlist.model import Problem, WatchlistError


@dataclass(frozen=True, slots=True)
class FileText:
    """A watchlist file's content as read."""

    path: Path
    text: str
    digest: str  # SHA-256 of the text

    @property
    def name(self) -> str:
        """The watchlist's name: the file's stem ("nkru")."""
        return self.path.stem


def watchlist_file(setting: Path) -> Path:
    """The one watchlist file NKRU_WATCHLISTS names; WatchlistError says what is wrong."""
    if setting.is_dir():
        files = sorted(setting.glob("*.toml"))
        if len(files) == 1:
            return files[0]
        if not files:
            raise _problem(setting, "no *.toml files here", "add a watchlist file")
        names = ", ".join(file.name for file in files)
        raise _problem(
            setting,
            f"holds {len(files)} watchlist files ({names}) but the bot keeps one watchlist",
            "merge them into one file, or set NKRU_WATCHLISTS to one of them",
        )
    if not setting.is_file():
        raise _problem(setting, "no such file or directory", "give a watchlist path")
    return setting


def read_watchlist_file(path: Path) -> FileText:
    """The file's text (UTF-8); WatchlistError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(path, f"cannot read: {exc}", "fix or remove the file") from None
    return FileText(path, text, hashlib.sha256(text.encode()).hexdigest())


class WatchedFile:
    """NKRU_WATCHLISTS, checked for changes by modification time, size and content hash."""

    def __init__(self, setting: Path) -> None:
        self.setting = setting
        self._stamp: tuple[Path, int, int] | None = None
        self._digest: str | None = None

    def read_if_changed(self) -> FileText | None:
        """The file's content if it changed since the last call (the first call reads it);
        None if not. WatchlistError when the setting names no single readable file."""
        path = watchlist_file(self.setting)
        try:
            stat = path.stat()
        except OSError as exc:
            raise _problem(path, f"cannot read: {exc}", "fix or remove the file") from None
        stamp = (path, stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return None
        found = read_watchlist_file(path)
        self._stamp = stamp
        if found.digest == self._digest:
            return None
        self._digest = found.digest
        return found


def _problem(path: Path, message: str, fix: str) -> WatchlistError:
    return WatchlistError([Problem(str(path), None, "", message, fix)])
