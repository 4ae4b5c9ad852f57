"""What changed between two versions of a watchlist, as short lines people can read.

`+ term "Rason" (word) in tumen-bridge`, `− exclude "Yalu" from tumen-bridge`,
`+ theme kaesong "Kaesong zone"`, `~ tumen-bridge min_score 1.3 → 1.5`. The lines compare the
loaded watchlists, not the text: a change of comments or layout only says so. Every line that
concerns a theme names its slug, which is how `watch history <theme>` finds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.watchlist.model import Group, Term, Theme, Watchlist

MINUS = "−"  # U+2212: a "- " line start would become a bullet list in Discord's markdown
LAYOUT_ONLY = "~ comments or layout only"


def term_options(term: Term) -> list[str]:
    """A term's mode, then "fuzzy" and its weight when they are set."""
    options: list[str] = [term.mode]
    if term.fuzzy:
        options.append("fuzzy")
    if term.weight != 1.0:
        options.append(f"×{term.weight:g}")
    return options


def describe_term(term: Term) -> str:
    """`"Rason" (word)`, with fuzziness and weight when they are set."""
    return f'"{term.text}" ({", ".join(term_options(term))})'


def diff_watchlists(old: Watchlist | None, new: Watchlist) -> list[str]:
    """The changes from `old` to `new`, themes in the new order, then context groups."""
    if old is None:
        return [_added(theme) for theme in new.themes]
    lines = _heading(old, new)
    before = {theme.slug: theme for theme in old.themes}
    after = {theme.slug: theme for theme in new.themes}
    for slug in before.keys() - after.keys():
        lines.append(f"{MINUS} theme {slug}")
    for theme in new.themes:
        if theme.slug not in before:
            lines.append(_added(theme))
        else:
            lines += _theme(before[theme.slug], theme)
    lines += _groups(_groups_of(old), _groups_of(new))
    return lines


def summary(lines: list[str], slugs: Iterable[str] = (), limit: int = 400) -> str:
    """The lines as one line of about `limit` characters (the stored `change`); lines left
    out are counted, and the themes they concern named, so `watch history <theme>` finds them."""
    if not lines:
        return LAYOUT_ONLY
    shown: list[str] = []
    for line in lines:
        if len("; ".join([*shown, line])) > limit - 40:
            break
        shown.append(line)
    if len(shown) == len(lines):
        return "; ".join(shown)
    left = lines[len(shown) :]
    named = [slug for slug in slugs if any(_names_slug(line, slug) for line in left)]
    about = f" in {', '.join(named)}" if named else ""
    head = "; ".join(shown) if shown else lines[0][: limit - 40] + "…"
    return f"{head}; …and {len(left)} more{about}"


def _names_slug(line: str, slug: str) -> bool:
    return re.search(rf"(?<![a-z0-9-]){re.escape(slug)}(?![a-z0-9-])", line) is not None


def _added(theme: Theme) -> str:
    """`+ theme kaesong "Kaesong" (1 term)`: a new theme's terms are not listed one by one."""
    count = len(theme.terms)
    return f"+ theme {theme.slug} {_quoted(theme.title)} ({count} term{'s' if count != 1 else ''})"


def _heading(old: Watchlist, new: Watchlist) -> list[str]:
    lines = []
    if old.name != new.name:
        lines.append(f"~ watchlist name {old.name} → {new.name}")
    if old.title != new.title:
        lines.append(f"~ watchlist title {_quoted(old.title)} → {_quoted(new.title)}")
    return lines


def _theme(old: Theme, new: Theme) -> list[str]:
    slug = new.slug
    lines = [
        f"~ {slug} {name} {_shown(a)} → {_shown(b)}"
        for name, a, b in (
            ("title", old.title, new.title),
            ("description", old.description, new.description),
            ("colour", old.colour, new.colour),
            ("min_score", old.min_score, new.min_score),
            ("verdict", old.verdict, new.verdict),
        )
        if a != b
    ]
    required = [g.title or g.name for g in old.require], [g.title or g.name for g in new.require]
    if required[0] != required[1]:
        lines.append(f"~ {slug} requires {_names(required[0])} → {_names(required[1])}")
    lines += _terms(new.terms, old.terms, "term", f"in {slug}", f"from {slug}")
    lines += _terms(new.exclude, old.exclude, "exclude", f"in {slug}", f"from {slug}")
    return lines


def _terms(
    new: Iterable[Term], old: Iterable[Term], kind: str, where: str, gone: str = ""
) -> list[str]:
    """Added, removed and changed terms (a term is known by its text)."""
    before = {term.text: term for term in old}
    after = {term.text: term for term in new}
    lines = [
        f"{MINUS} {kind} {describe_term(term)} {gone}"
        for t, term in before.items()
        if t not in after
    ]
    for text, term in after.items():
        if text not in before:
            lines.append(f"+ {kind} {describe_term(term)} {where}")
        elif before[text] != term:
            lines.append(f"~ {kind} {describe_term(before[text])} → {describe_term(term)} {where}")
    return lines


def _groups_of(watchlist: Watchlist) -> dict[str, Group]:
    """The named context groups the themes use (inline `require` lists are the theme's own)."""
    return {
        group.name: group
        for theme in watchlist.themes
        for group in theme.require
        if "." not in group.name  # inline lists are named "<slug>.require[i]"
    }


def _groups(old: dict[str, Group], new: dict[str, Group]) -> list[str]:
    lines = []
    for name in sorted(old.keys() & new.keys()):
        where = f"in group {name}"
        lines += _terms(new[name].terms, old[name].terms, "term", where, f"from group {name}")
    return lines


def _quoted(text: str) -> str:
    return f'"{text}"'


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else _quoted(str(value))


def _names(names: list[str]) -> str:
    return ", ".join(names) or "nothing"
