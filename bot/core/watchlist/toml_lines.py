"""Line numbers for TOML keys, so that validation errors can say where to look.

``tomllib`` gives values without positions. This scanner follows table headers
(``[groups.russia]``, ``[[themes]]``) and ``key =`` lines and records the line of each key
path, e.g. ``("themes", 3, "colour") -> 42``. For array items it records the line where
each item starts, so a bad term inside a long multi-line ``terms = [...]`` is pointed at
directly. It is deliberately forgiving: anything it cannot follow falls back to the line
of the nearest enclosing key, and it never rejects a file (tomllib does that).
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_ARRAY_TABLE = re.compile(r"\s*\[\[\s*(.+?)\s*\]\]\s*(#.*)?$")
_TABLE = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(
    r"""\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_STRING_OR_TABLE = re.compile(r"""\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|\{[^{}]*\}|\[|[^,\]\s#]+)""")


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return tuple(p.strip("\"'") for p in parts)


def _after_multiline_string(lines: list[str], number: int, quote: str) -> int:
    """The index of the line after the one that closes a multi-line string."""
    while number < len(lines) and quote not in lines[number]:
        number += 1
    return number + 1


class LineIndex:
    """Maps key paths of one TOML document to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        # Scanned when a line is first asked for: a document that loads without problems
        # (each preview of a draft, each save) never asks, and the scan is ~1.5 ms of ~500
        # lines of Python.
        self._text: str | None = text
        self._lines: dict[Path, int] = {}
        self._array_counts: dict[tuple[str, ...], int] = {}

    def _scan(self, text: str) -> None:
        table: Path = ()
        lines = text.splitlines()
        number = 0
        while number < len(lines):
            line = lines[number]
            number += 1
            if match := _ARRAY_TABLE.match(line):
                name = _split_key(match.group(1))
                index = self._array_counts.get(name, -1) + 1
                self._array_counts[name] = index
                table = (*name, index)
                self._lines.setdefault(table, number)
            elif match := _TABLE.match(line):
                table = _split_key(match.group(1))
                self._lines.setdefault(table, number)
            elif match := _KEY.match(line):
                path = (*table, *_split_key(match.group(1)))
                self._lines[path] = number
                rest = line[match.end() :].lstrip()
                if rest.startswith("["):
                    number = self._array_items(path, lines, number - 1, match.end())
                elif rest.startswith(('"""', "'''")) and rest.count(rest[:3]) == 1:
                    number = _after_multiline_string(lines, number, rest[:3])

    def _array_items(self, path: Path, lines: list[str], row: int, col: int) -> int:
        """Record the line of each top-level item of the array starting at (row, col)."""
        depth, index, at_item_start = 0, 0, False
        while row < len(lines):
            line = lines[row]
            while col < len(line):
                char = line[col]
                if char == "#":
                    break
                if char.isspace():
                    col += 1
                    continue
                if depth == 1 and at_item_start and char not in ",]":
                    self._lines[(*path, index)] = row + 1
                    index += 1
                    at_item_start = False
                if char == "[":
                    depth += 1
                    at_item_start = at_item_start or depth == 1
                elif char == "]":
                    depth -= 1
                    if depth == 0:
                        return row + 1
                elif char == "," and depth == 1:
                    at_item_start = True
                elif char in "\"'{":
                    item = _STRING_OR_TABLE.match(line, col)
                    col = item.end() if item and item.end() > col else col + 1
                    continue
                col += 1
            row, col = row + 1, 0
        return row

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest recorded ancestor."""
        if self._text is not None:
            text, self._text = self._text, None
            self._scan(text)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None
