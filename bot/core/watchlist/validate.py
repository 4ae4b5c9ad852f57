"""Turning one parsed TOML document into a ``Watchlist``, reporting every problem at once.

The document's shape: ``[watchlist]`` (name, title), ``[groups.NAME]`` (title, terms) and
``[[themes]]`` (slug, title, description, colour, terms, require, exclude, min_score,
others, roundups, verdict). Each
problem names the file, the line (from ``LineIndex``), the field in TOML terms
(``themes[3].colour``) and a fix. Unknown keys are errors: a typo such as ``exlude`` must not
silently switch a rule off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath

from bot.core.watchlist.checker import SLUG, Checker, show
from bot.core.watchlist.kept import Kept
from bot.core.watchlist.model import Group, Term, Theme, Watchlist
from bot.core.watchlist.terms import term_list
from bot.core.watchlist.toml_lines import Path

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_TOP_KEYS = ("watchlist", "groups", "themes")
_WATCHLIST_KEYS = ("name", "title", "description")
_GROUP_KEYS = ("title", "description", "terms")
_THEME_KEYS = (
    "slug",
    "title",
    "description",
    "colour",
    "terms",
    "require",
    "exclude",
    "min_score",
    "others",
    "roundups",
    "verdict",
)


# Validated context groups and themes by what they were parsed from (`Sources`): a draft
# previewed in the panel's editor changes one theme of eight, and checking the ~1,100 terms
# of the others again was a third of loading it. Only what validated without a problem is
# kept: a problem names its line, which depends on the rest of the document.
_GROUPS: Kept[str, dict[str, Group]] = Kept(16)
_THEMES: Kept[tuple[str, str], Theme] = Kept(128)


@dataclass(frozen=True, slots=True)
class Sources:
    """The text a document's parts were parsed from, each alone (`load.parse_document`): the
    head (everything before the first ``[[themes]]``), then each theme table's."""

    head: str
    themes: tuple[str, ...]


def build_watchlist(
    doc: dict[str, object], file: FilePath, checker: Checker, sources: Sources | None = None
) -> Watchlist | None:
    """The ``Watchlist`` of a parsed document, or None when ``checker`` has problems.

    With ``sources``, the groups and themes validated earlier from the same text are reused
    (they are what validating them again would give: it reads nothing else).
    """
    checker.keys(doc, (), _TOP_KEYS)
    head = _watchlist_table(doc, checker)
    groups = _kept_groups(doc, sources, checker)
    themes = _themes(doc, groups, checker, sources)
    if checker.problems or head is None:
        return None
    name, title = head
    return Watchlist(name, title, file, themes)


def _watchlist_table(doc: dict[str, object], checker: Checker) -> tuple[str, str] | None:
    if "watchlist" not in doc:
        checker.report((), "missing [watchlist] table", "add [watchlist] with name and title")
        return None
    table = checker.table(doc["watchlist"], ("watchlist",), "write [watchlist] name = …")
    if table is None:
        return None
    checker.keys(table, ("watchlist",), _WATCHLIST_KEYS)
    name = checker.slug(table, ("watchlist",), "name")
    title = checker.text(table, ("watchlist",), "title", required=True)
    return (name, title) if name and title else None


def _kept_groups(
    doc: dict[str, object], sources: Sources | None, checker: Checker
) -> dict[str, Group]:
    """`_groups` of the document, reused for the same head text (the groups are all in it)."""
    if sources is None:
        return _groups(doc.get("groups", {}), checker)
    found = _GROUPS.get(sources.head)
    if found is None:
        before = len(checker.problems)
        found = _groups(doc.get("groups", {}), checker)
        if len(checker.problems) == before:
            _GROUPS.put(sources.head, found)
    return dict(found)  # the caller's own dict: the kept one is never changed


def _groups(value: object, checker: Checker) -> dict[str, Group]:
    tables = checker.table(value, ("groups",), "write [groups.NAME] with terms = [...]") or {}
    groups: dict[str, Group] = {}
    for name, raw in tables.items():
        path: Path = ("groups", name)
        if not SLUG.match(name):
            checker.report(path, f"{name!r} is not a group name", 'use e.g. "north-korea"')
        spec = checker.table(raw, path, f"write [groups.{name}] with terms = [...]")
        if spec is None:
            continue
        checker.keys(spec, path, _GROUP_KEYS)
        title = checker.text(spec, path, "title", required=False) or name
        checker.text(spec, path, "description", required=False)
        if "terms" not in spec:
            checker.report(path, 'missing "terms"', 'add terms = ["…"]')
            continue
        groups[name] = Group(name, title, term_list(checker, spec["terms"], (*path, "terms"), True))
    return groups


def _themes(
    doc: dict[str, object], groups: dict[str, Group], checker: Checker, sources: Sources | None
) -> tuple[Theme, ...]:
    raw = doc.get("themes")
    if raw is None:
        checker.report((), "no themes", "add at least one [[themes]] table")
        return ()
    items = checker.typed(raw, list, ("themes",), "an array of tables", "write [[themes]] tables")
    known = sources is not None and items is not None and len(sources.themes) == len(items)
    themes = []
    for index, item in enumerate(items or []):
        path: Path = ("themes", index)
        spec = checker.table(item, path, "write [[themes]] with slug, title, colour, terms")
        if not spec:
            continue
        if known and sources is not None:
            theme = _kept_theme((sources.head, sources.themes[index]), spec, path, groups, checker)
        else:
            theme = _theme(spec, path, groups, checker)
        if theme:
            themes.append(theme)
    return tuple(themes)


def _kept_theme(
    key: tuple[str, str],
    spec: dict[str, object],
    path: Path,
    groups: dict[str, Group],
    checker: Checker,
) -> Theme | None:
    """`_theme`, reused for the same theme text and head (whose groups it may require).

    A theme kept had no problem of its own; what it can have here is a slug another theme
    of this document already has, checked as `_theme` checks it.
    """
    found = _THEMES.get(key)
    if found is None:
        before = len(checker.problems)
        theme = _theme(spec, path, groups, checker)
        if theme is not None and len(checker.problems) == before:
            _THEMES.put(key, theme)
        return theme
    _check_slug(found.slug, path, checker)
    return found


def _theme(
    spec: dict[str, object], path: Path, groups: dict[str, Group], checker: Checker
) -> Theme | None:
    checker.keys(spec, path, _THEME_KEYS)
    slug = checker.slug(spec, path, "slug")
    if slug is not None:
        _check_slug(slug, path, checker)
    title = checker.text(spec, path, "title", required=True)
    description = checker.text(spec, path, "description", required=False) or ""
    colour = _colour(spec, path, checker)
    terms = _required(spec, path, "terms", lambda v, p: term_list(checker, v, p, True), checker)
    require = _require(spec.get("require", []), (*path, "require"), slug or "", groups, checker)
    exclude = term_list(checker, spec.get("exclude", []), (*path, "exclude"), False)
    min_score = _min_score(spec, path, checker)
    others = _require(spec.get("others", []), (*path, "others"), slug or "", groups, checker)
    roundups = _require(spec.get("roundups", []), (*path, "roundups"), slug or "", groups, checker)
    verdict = False
    if "verdict" in spec:
        value = checker.typed(
            spec["verdict"], bool, (*path, "verdict"), "true or false", "write verdict = true"
        )
        verdict = bool(value)
    if slug and title and colour and terms:
        return Theme(
            slug,
            title,
            description,
            colour,
            terms,
            require,
            exclude,
            min_score,
            others,
            roundups,
            verdict,
        )
    return None


def _check_slug(slug: str, path: Path, checker: Checker) -> None:
    """Report a slug an earlier theme has; record where this one is."""
    if slug in checker.slugs:
        where = f"line {checker.slug_at(slug)[1]}"
        checker.report((*path, "slug"), f'duplicate slug "{slug}" (also {where})', "rename one")
    checker.slugs[slug] = (*path, "slug")


def _required(
    spec: dict[str, object],
    path: Path,
    key: str,
    parse: Callable[[object, Path], tuple[Term, ...]],
    checker: Checker,
) -> tuple[Term, ...]:
    if key not in spec:
        checker.report(path, f'missing "{key}"', f'add {key} = ["…"]')
        return ()
    return parse(spec[key], (*path, key))


def _colour(spec: dict[str, object], path: Path, checker: Checker) -> str | None:
    value = checker.text(spec, path, "colour", required=True)
    if value is not None and not COLOUR.match(value):
        checker.report((*path, "colour"), f'"{value}" is not a colour', 'use "#rrggbb"')
        return None
    return value.lower() if value else None


def _min_score(spec: dict[str, object], path: Path, checker: Checker) -> float:
    if "min_score" not in spec:
        return 1.0
    value = checker.number(spec["min_score"], (*path, "min_score"), "a number", "write 1.0")
    if value is not None and value <= 0:
        checker.report(
            (*path, "min_score"), f"{value} is not above 0", "use e.g. 1.0 (one summary hit)"
        )
    return value if value and value > 0 else 1.0


def _require(
    value: object, path: Path, slug: str, groups: dict[str, Group], checker: Checker
) -> tuple[Group, ...]:
    key = str(path[-1])  # "require", "others" or "roundups": read alike
    items = checker.typed(value, list, path, "a list", f'write {key} = ["group-name", …]')
    out: list[Group] = []
    for index, item in enumerate(items or []):
        if isinstance(item, list):
            terms = term_list(checker, item, (*path, index), True)
            title = terms[0].text if terms else ""  # shown as the context's name
            out.append(Group(f"{slug}.{key}[{index}]", title, terms))
        elif isinstance(item, str) and item in groups:
            if any(g.name == item for g in out):
                checker.report((*path, index), f'group "{item}" is listed twice', "remove one")
            out.append(groups[item])
        elif isinstance(item, str):
            known = ", ".join(sorted(groups)) or "none defined"
            checker.report(
                (*path, index),
                f'unknown group "{item}"',
                f"define [groups.{item}] or use one of: {known}",
            )
        else:
            checker.report(
                (*path, index), f"{show(item)} is not a group", 'write a group name or ["term", …]'
            )
    return tuple(out)
