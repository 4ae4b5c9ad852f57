"""Edits of a watchlist's TOML text that keep its comments and layout (tomlkit).

Each function takes the document as text and returns the edited text; it checks only what it
needs to find its way (the theme exists, the term is there or not). Whether the result is a
valid watchlist is the loader's call (`load_watchlist_text`), made by the editor afterwards.

Deleting a theme works on lines rather than on tomlkit's tree: tomlkit attaches the comment
above a `[[themes]]` header to the table before it, so deleting the table there would leave
the deleted theme's comment behind and take the next theme's comment with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import tomlkit
from tomlkit.items import AoT, Array, InlineTable, Table

from bot.core.watchlist.checker import SLUG
from bot.core.watchlist.normalize import normalize_term
from bot.core.watchlist.toml_lines import LineIndex

Field = Literal["terms", "exclude"]
FIELD_NAMES: dict[Field, str] = {"terms": "term", "exclude": "exclusion"}
# Colours for new themes, distinct from each other and readable on light and dark themes.
PALETTE = (
    "#16a085", "#d35400", "#2c3e50", "#f39c12", "#27ae60", "#e84393", "#0984e3", "#6c5ce7",
    "#b33939", "#218c74",
)  # fmt: skip


class EditError(Exception):
    """The edit cannot be made as asked; the message says why (and `hint` what exists)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def add_terms(text: str, slug: str, terms: Sequence[str], field: Field = "terms") -> str:
    """Append `terms` (plain strings: the loader gives them their default mode) to a theme's
    indicator terms or exclusions."""
    doc = tomlkit.parse(_with_field(text, slug, field))
    theme = _theme(doc, slug)
    array = _array(theme, field)
    present = {normalize_term(_term_text(item)) for item in array}
    for term in terms:
        if normalize_term(term) in present:
            raise EditError(f'{slug} already has the {FIELD_NAMES[field]} "{term}"')
        present.add(normalize_term(term))
    if "\n" in array.as_string():  # a multi-line list: the new terms get a line of their own
        array.add_line(*terms, indent="  ")
    else:
        array.extend(terms)
    return doc.as_string()


def remove_terms(text: str, slug: str, terms: Sequence[str]) -> tuple[str, list[Field]]:
    """Remove each term from the theme's terms, else from its exclusions (same words once
    normalised, so case and punctuation need not match); also where each was found."""
    doc = tomlkit.parse(text)
    theme = _theme(doc, slug)
    found: list[Field] = []
    for term in terms:
        found.append(_remove_one(theme, slug, term))
    return doc.as_string(), found


def _remove_one(theme: Table | InlineTable, slug: str, term: str) -> Field:
    wanted = normalize_term(term)
    fields: tuple[Field, ...] = ("terms", "exclude")
    for field in fields:
        array = theme.get(field)
        if not isinstance(array, Array):
            continue
        for index, item in enumerate(array):
            if normalize_term(_term_text(item)) == wanted:
                del array[index]
                return field
    raise EditError(f'{slug} has no term or exclusion "{term}"')


def new_theme(text: str, slug: str, title: str) -> str:
    """Add a theme with `title` as its one term, the context every theme shares, and a colour
    no theme uses yet."""
    if not SLUG.match(slug):
        raise EditError(f"'{slug}' is not a slug: use lower-case words and hyphens, e.g. kaesong")
    doc = tomlkit.parse(text)
    themes = list(_themes(doc))
    if any(theme.get("slug") == slug for theme in themes):
        raise EditError(f"there is already a theme '{slug}'")
    used = {str(theme.get("colour", "")).lower() for theme in themes}
    table = tomlkit.table()
    table["slug"] = slug
    table["title"] = title
    table["colour"] = next((c for c in PALETTE if c not in used), PALETTE[0])
    table["require"] = shared_context(themes)
    table["terms"] = [title]
    existing = doc.get("themes")
    if isinstance(existing, Array):  # themes = [ {…}, … ]: an inline table more
        existing.append(_inline(table))
        return doc.as_string()
    # [[themes]] tables: a new one at the end, after a blank line like the others.
    addition = tomlkit.dumps({"themes": [table]})
    return text.rstrip("\n") + "\n\n" + addition


def shared_context(themes: Sequence[Table | InlineTable]) -> list[str]:
    """The named context groups every theme requires (a new theme's sensible default)."""
    shared: list[str] | None = None
    for theme in themes:
        names = [str(g) for g in theme.get("require", []) if isinstance(g, str)]
        shared = names if shared is None else [g for g in shared if g in names]
    return shared or []


def delete_theme(text: str, slug: str) -> str:
    """Remove a theme, with the comment block right above its header."""
    doc = tomlkit.parse(text)
    themes = list(_themes(doc))
    index = next((i for i, t in enumerate(themes) if t.get("slug") == slug), None)
    if index is None:
        raise EditError(f"unknown theme '{slug}'", _known(doc))
    existing = doc.get("themes")
    if not isinstance(existing, AoT):
        assert isinstance(existing, Array)
        del existing[index]
        return doc.as_string()
    lines = text.splitlines(keepends=True)
    where = LineIndex(text)
    start = block_start(lines, _header(where, index))
    end = block_start(lines, _header(where, index + 1)) if index + 1 < len(themes) else len(lines)
    kept = lines[:start] + lines[end:]
    return "".join(kept).rstrip("\n") + "\n"


def theme_slugs(text: str) -> list[str]:
    """The slugs in a document, in order (for hints)."""
    return [str(theme.get("slug")) for theme in _themes(tomlkit.parse(text))]


def _header(where: LineIndex, index: int) -> int:
    """The 0-based line of the index-th `[[themes]]` header."""
    line = where.line(("themes", index))
    assert line is not None, "every [[themes]] header has a line"
    return line - 1


def block_start(lines: list[str], header: int) -> int:
    """Where the comment block directly above a header starts (the header if there is none)."""
    start = header
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def _themes(doc: tomlkit.TOMLDocument) -> Iterator[Table | InlineTable]:
    for theme in doc.get("themes", []):
        if isinstance(theme, Table | InlineTable):
            yield theme


def _theme(doc: tomlkit.TOMLDocument, slug: str) -> Table | InlineTable:
    for theme in _themes(doc):
        if theme.get("slug") == slug:
            return theme
    raise EditError(f"unknown theme '{slug}'", _known(doc))


def _known(doc: tomlkit.TOMLDocument) -> str:
    slugs = [str(theme.get("slug")) for theme in _themes(doc)]
    return f"themes: {', '.join(slugs)}" if slugs else "the watchlist has no themes"


def _with_field(text: str, slug: str, field: Field) -> str:
    """The text with an empty list `field` in the theme if it had none.

    In a `[[themes]]` table the list goes on a line after the theme's last key, not at the
    table's end: tomlkit's tree ends the table with the comments above the next header, which
    describe the next theme. tomlkit has no public way to insert a key at a position, so this
    works on lines, like `delete_theme`.
    """
    doc = tomlkit.parse(text)
    theme = _theme(doc, slug)
    if field in theme:
        return text
    if isinstance(theme, InlineTable):
        theme[field] = tomlkit.array()
        return doc.as_string()
    themes = list(_themes(doc))
    index = next(i for i, t in enumerate(themes) if t is theme)
    lines = text.splitlines(keepends=True)
    where = LineIndex(text)
    has_next = index + 1 < len(themes)
    end = block_start(lines, _header(where, index + 1)) if has_next else len(lines)
    while end > _header(where, index) + 1 and _blank_or_comment(lines[end - 1]):
        end -= 1
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, f"{field} = []\n")
    return "".join(lines)


def _blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _array(theme: Table | InlineTable, field: Field) -> Array:
    """The theme's list of terms or exclusions (`_with_field` made sure it exists)."""
    value = theme.get(field)
    if not isinstance(value, Array):
        raise EditError(f"{field} of {theme.get('slug')} is not a list: fix it in the file")
    return value


def _term_text(item: Any) -> str:
    """A term's text, written as a string or as { text = … }."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return str(item.get("text", ""))
    return ""


def _inline(table: Table) -> InlineTable:
    inline = tomlkit.inline_table()
    inline.update(table)
    return inline
