"""The parts of a watchlist document an admin edits one at a time in the web panel.

A watchlist of 800 terms is ~500 lines of TOML; an admin changes one theme at a time. So the
web editor offers each `[[themes]]` table (with the comment block above its header, which
describes it) as a part of its own, "head" for everything before the first theme (the
`[watchlist]` table and the shared context groups, which every theme requires), and "all" for
the whole document. A part is a slice of lines: putting an edited part back (`splice`) leaves
every other line, comments included, exactly as it was, and the result is a whole document
that the preview and the save take as any other draft. Blank lines after a part are not shown
in the editor and are put back after the edited text, so an unchanged part gives back the
unchanged document.

A document whose themes are not `[[themes]]` tables (an inline `themes = [...]` list) has only
"all".
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

from bot.core.watchlist.toml_lines import LineIndex
from bot.core.watchlist_editing.document import EditError, block_start

WHOLE = "all"
HEAD = "head"
THEME = "theme:"  # a theme's key: THEME + its slug (no slug can then be "all" or "head")


@dataclass(frozen=True, slots=True)
class Part:
    """Lines `start` to `end` (0-based, end excluded) of a document; `key` names it in forms."""

    key: str
    label: str
    start: int
    end: int

    def local_line(self, line: int | None) -> int | None:
        """The part's own line number (1-based) of a document line, if the line is in it."""
        if line is None or not self.start < line <= self.end:
            return None
        return line - self.start


def parts(text: str) -> list[Part]:
    """The document's parts: the whole, then the head and each theme when it has theme tables."""
    return list(_parts(text))


# Kept per document: a preview or save from the panel's editor finds the parts of the version
# it was based on twice (the part posted, and the form shown again), each a TOML parse and a
# line index of the whole document, ~8 ms; the documents asked about are the few newest
# versions. A tuple of frozen parts, so no caller can change what the next one gets.
@functools.lru_cache(maxsize=8)
def _parts(text: str) -> tuple[Part, ...]:
    lines = text.splitlines(keepends=True)
    whole = Part(WHOLE, "the whole document", 0, len(lines))
    slugs = _theme_slugs(text)
    if not slugs:
        return (whole,)
    where = LineIndex(text)
    starts = []
    for index in range(len(slugs)):
        header = where.line(("themes", index))
        if header is None:  # themes written another way: only the whole document
            return (whole,)
        starts.append(block_start(lines, header - 1))
    found = [whole, Part(HEAD, "watchlist and context groups", 0, starts[0])]
    for index, slug in enumerate(slugs):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        found.append(Part(THEME + slug, f"theme {slug}", starts[index], end))
    return tuple(found)


def find_part(text: str, key: str) -> Part:
    """The part named `key`; EditError naming the parts there are if there is none."""
    found = parts(text)
    for part in found:
        if part.key == key:
            return part
    names = ", ".join(part.key for part in found)
    raise EditError(f"the watchlist has no part '{key[:60]}'", f"parts: {names}")


def part_text(text: str, part: Part) -> str:
    """The part's lines as the editor shows them: without the blank lines that end it."""
    body, _ = _split_trailing(_lines(text, part))
    return body


def splice(text: str, part: Part, edited: str) -> str:
    """The document with `part` replaced by `edited` (newlines as a browser sends them are
    made plain, and the blank lines that ended the part are kept)."""
    lines = text.splitlines(keepends=True)
    _, trailing = _split_trailing(_lines(text, part))
    body = edited.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    middle = body + "\n" + trailing if body else trailing
    return "".join(lines[: part.start]) + middle + "".join(lines[part.end :])


def _lines(text: str, part: Part) -> str:
    return "".join(text.splitlines(keepends=True)[part.start : part.end])


def _split_trailing(chunk: str) -> tuple[str, str]:
    """The chunk without its final newline and blank lines, and those blank lines."""
    body = chunk.rstrip("\n")
    rest = chunk[len(body) :]
    return body, rest[1:] if rest else ""


def _theme_slugs(text: str) -> list[str]:
    """The slugs of the `[[themes]]` tables in order; none if the document does not parse (the
    loader says why when it is previewed or saved) or writes its themes another way."""
    try:
        themes = tomllib.loads(text).get("themes")
    except tomllib.TOMLDecodeError:
        return []
    if not isinstance(themes, list) or not all(isinstance(t, dict) for t in themes):
        return []
    slugs = [str(theme.get("slug", "")) for theme in themes]
    return slugs if all(slugs) and len(set(slugs)) == len(slugs) else []
