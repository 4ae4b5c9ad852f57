"""Loading watchlist files: one TOML file per watchlist, or a directory of them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.core.watchlist.checker import Checker
from bot.core.watchlist.model import Problem, Watchlist, WatchlistError
from bot.core.watchlist.toml_lines import LineIndex
from bot.core.watchlist.validate import build_watchlist

# Python 3.11/3.12 put the position only in the message: "... (at line 3, column 5)".
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def load_watchlist(path: Path | str) -> Watchlist:
    """Load and validate one watchlist file; WatchlistError lists every problem in it."""
    watchlist, problems, _ = _load_file(Path(path))
    if watchlist is None:
        raise WatchlistError(problems)
    return watchlist


def load_watchlists(path: Path | str) -> list[Watchlist]:
    """Load a watchlist file, or every ``*.toml`` in a directory (sorted by name).

    Theme slugs and watchlist names must be unique across the files.
    """
    path = Path(path)
    files = _files(path)
    problems: list[Problem] = []
    loaded: list[Watchlist] = []
    slug_at: dict[str, str] = {}
    name_at: dict[str, str] = {}
    for file in files:
        watchlist, found, checker = _load_file(file)
        problems += found
        if watchlist is None or checker is None:
            continue
        problems += _duplicates(watchlist, checker, slug_at, name_at)
        loaded.append(watchlist)
    if problems:
        raise WatchlistError(problems)
    return loaded


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise WatchlistError(
                [Problem(str(path), None, "", "no *.toml files here", "add a watchlist file")]
            )
        return files
    if not path.is_file():
        raise WatchlistError(
            [Problem(str(path), None, "", "no such file or directory", "give a watchlist path")]
        )
    return [path]


def _load_file(path: Path) -> tuple[Watchlist | None, list[Problem], Checker | None]:
    """The watchlist of one file (None if it has problems), its problems, its checker."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), None, "", f"cannot read: {exc}", "fix or remove the file")
        return None, [problem], None
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(path, exc)], None
    checker = Checker(str(path), LineIndex(raw))
    watchlist = build_watchlist(doc, path, checker)
    return watchlist, checker.problems, checker


def _syntax_problem(path: Path, exc: tomllib.TOMLDecodeError) -> Problem:
    message = str(exc)
    line = getattr(exc, "lineno", None)
    if match := _POSITION.search(message):
        line = int(match.group(1))
        message = f"{message[: match.start()]} (column {match.group(2)})"
    return Problem(
        str(path), line, "", f"TOML syntax error: {message}", "see https://toml.io/ for the syntax"
    )


def _duplicates(
    watchlist: Watchlist, checker: Checker, slug_at: dict[str, str], name_at: dict[str, str]
) -> list[Problem]:
    """Slugs and names already used by an earlier file; records this file's."""
    problems = []
    file = checker.file
    if watchlist.name in name_at:
        problems.append(
            Problem(
                file,
                checker.lines.line(("watchlist", "name")),
                "watchlist.name",
                f'"{watchlist.name}" is also the name of {name_at[watchlist.name]}',
                "give each watchlist file its own name",
            )
        )
    name_at.setdefault(watchlist.name, file)
    for theme in watchlist.themes:
        field, line = checker.slug_at(theme.slug)
        if theme.slug in slug_at:
            problems.append(
                Problem(
                    file,
                    line,
                    field,
                    f'duplicate slug "{theme.slug}" (also in {slug_at[theme.slug]})',
                    "theme slugs must be unique across watchlist files: rename one",
                )
            )
        slug_at.setdefault(theme.slug, f"{file}:{line}")
    return problems


def load_watchlist_text(text: str, name: Path | str) -> Watchlist:
    """Validate a watchlist document given as text (a stored version, an edit before it is
    saved); problems name `name` as their file. WatchlistError lists every problem."""
    path = Path(name)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistError([_syntax_problem(path, exc)]) from None
    checker = Checker(str(path), LineIndex(text))
    watchlist = build_watchlist(doc, path, checker)
    if watchlist is None:
        raise WatchlistError(checker.problems)
    return watchlist
