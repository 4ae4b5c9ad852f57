"""Loading watchlist files: one TOML file per watchlist, or a directory of them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.core.watchlist.checker import Checker
from bot.core.watchlist.kept import Kept
from bot.core.watchlist.model import Problem, Watchlist, WatchlistError
from bot.core.watchlist.toml_lines import LineIndex
from bot.core.watchlist.validate import Sources, build_watchlist

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
        doc, sources = parse_document(text)
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistError([_syntax_problem(path, exc)]) from None
    checker = Checker(str(path), LineIndex(text))
    watchlist = build_watchlist(doc, path, checker, sources)
    if watchlist is None:
        raise WatchlistError(checker.problems)
    return watchlist


# A `[[themes]]` header at the start of a line: where `parse_document` cuts a document.
_THEMES_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*themes[ \t]*\]\]", re.MULTILINE)
# Parsed parts by their text (`parse_document`): the tables in them are read, never changed.
_PARSED: Kept[str, dict[str, Any]] = Kept(64)


def parse_document(text: str) -> tuple[dict[str, Any], Sources | None]:
    """`tomllib.loads(text)`, and what its parts were parsed from if it was parsed in parts.

    tomllib is pure Python: parsing the default watchlist takes ~6 ms, and a draft previewed
    in the panel's editor differs from the last one in one theme. So the document is cut
    before each ``[[themes]]`` header line, and each part is parsed alone and kept by its
    text. That gives what parsing the whole gives when every part parses alone, the head
    (before the first header) has no ``themes`` key and each other part is exactly one theme
    table: a part that parses alone ends outside any string, array or inline table, so its
    cut is a header of the whole document too, and each theme part's lines then belong to
    the table its header starts. Otherwise (a header line inside a multi-line string, a
    syntax error, themes written another way) the whole document is parsed, which also
    gives the error as the whole document has it. The tables returned may be shared with
    other callers: read them, never change them.
    """
    found = _parse_in_parts(text)
    if found is not None:
        return found
    return tomllib.loads(text), None


def _parse_in_parts(text: str) -> tuple[dict[str, Any], Sources] | None:
    starts = [match.start() for match in _THEMES_HEADER.finditer(text)]
    if not starts:
        return None
    head = text[: starts[0]]
    ends = [*starts[1:], len(text)]
    parts = tuple(text[start:end] for start, end in zip(starts, ends, strict=True))
    head_doc = _parsed(head)
    if head_doc is None or "themes" in head_doc:
        return None
    themes = []
    for part in parts:
        doc = _parsed(part)
        tables = doc.get("themes") if doc is not None and len(doc) == 1 else None
        if not isinstance(tables, list) or len(tables) != 1:
            return None
        themes.append(tables[0])
    return {**head_doc, "themes": themes}, Sources(head, parts)


def _parsed(part: str) -> dict[str, Any] | None:
    """`tomllib.loads(part)`, kept by its text; None if it does not parse alone."""
    found = _PARSED.get(part)
    if found is None:
        try:
            found = tomllib.loads(part)
        except tomllib.TOMLDecodeError:
            return None
        _PARSED.put(part, found)
    return found
