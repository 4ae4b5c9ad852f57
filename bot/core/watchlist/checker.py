"""Collecting validation problems with file, line, field and fix."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TypeVar

from bot.core.watchlist.model import Problem
from bot.core.watchlist.toml_lines import LineIndex, Path

T = TypeVar("T")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def field_name(path: Path) -> str:
    """``("themes", 3, "colour")`` → ``themes[3].colour``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def show(value: object) -> str:
    """A TOML value as an error message shows it."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


@dataclass
class Checker:
    """Validates one document, collecting problems instead of stopping at the first."""

    file: str
    lines: LineIndex
    problems: list[Problem] = field(default_factory=list)
    slugs: dict[str, Path] = field(default_factory=dict)  # where each theme's slug is

    def slug_at(self, slug: str) -> tuple[str, int | None]:
        """The field and line of a theme's slug (asked only to report a problem: the line
        index is built on demand)."""
        path = self.slugs[slug]
        return field_name(path), self.lines.line(path)

    def report(self, path: Path, message: str, fix: str) -> None:
        """Record a problem at ``path``."""
        self.problems.append(
            Problem(self.file, self.lines.line(path), field_name(path), message, fix)
        )

    def keys(self, table: dict[str, object], path: Path, allowed: tuple[str, ...]) -> None:
        """Report keys of ``table`` that are not in ``allowed``, suggesting the closest."""
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f'did you mean "{close[0]}"?' if close else "allowed: " + ", ".join(allowed)
                self.report((*path, key), f'unknown key "{key}"', hint)

    def typed(self, value: object, kind: type[T], path: Path, what: str, fix: str) -> T | None:
        """``value`` if it is a ``kind`` (bools are not numbers), else report and None."""
        if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
            return value
        self.report(path, f"{show(value)} is not {what}", fix)
        return None

    def table(self, value: object, path: Path, fix: str) -> dict[str, object] | None:
        """A TOML table."""
        return self.typed(value, dict, path, "a table", fix)

    def text(self, table: dict[str, object], path: Path, key: str, required: bool) -> str | None:
        """A non-empty string field."""
        if key not in table:
            if required:
                self.report(path, f'missing "{key}"', f'add {key} = "…"')
            return None
        value = self.typed(table[key], str, (*path, key), "a string", f'write {key} = "…"')
        if value is not None and not value.strip():
            self.report((*path, key), f'"{key}" is empty', "write some text")
            return None
        return value

    def slug(self, table: dict[str, object], path: Path, key: str) -> str | None:
        """A lowercase-hyphenated identifier."""
        value = self.text(table, path, key, required=True)
        if value is not None and not SLUG.match(value):
            self.report((*path, key), f"{value!r} is not a slug", 'use e.g. "tumen-bridge"')
            return None
        return value

    def number(self, value: object, path: Path, what: str, fix: str) -> float | None:
        """An int or float (not a bool)."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        self.report(path, f"{show(value)} is not {what}", fix)
        return None
