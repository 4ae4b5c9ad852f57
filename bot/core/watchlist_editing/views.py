"""Plain-text views of the watchlist for `/nkru watch …`: themes, terms, matches, history.

No markup: the adapters escape every line for their platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from bot.core.records import VersionInfo
from bot.core.watchlist.model import Group, Term, Theme, Watchlist
from bot.core.watchlist.scoring import ThemeMatch
from bot.core.watchlist_editing.diff import describe_term

TERMS_SHOWN = 8  # a context group's terms shown in `watch show` (the rest are counted)


def theme_lines(watchlist: Watchlist) -> list[str]:
    """One line per theme: slug, title, how many terms, the context it needs."""
    return [
        f"{theme.slug} ({theme.title}): {_count(len(theme.terms), 'term')}"
        f"{', ' + _count(len(theme.exclude), 'exclusion') if theme.exclude else ''}"
        f"; needs {_groups(theme.require)}"
        for theme in watchlist.themes
    ]


def term_lines(theme: Theme) -> list[str]:
    """The theme's terms, then its exclusions, one per line with mode, fuzziness and weight."""
    lines = [f"term {describe_term(term)}" for term in theme.terms]
    lines += [f"exclude {describe_term(term)}" for term in theme.exclude]
    return lines


def show_lines(theme: Theme) -> list[str]:
    """Everything that decides whether an article matches the theme."""
    lines = [
        f"{theme.slug}: {theme.title}",
        *([theme.description] if theme.description else []),
        f"colour {theme.colour}",
        f"matches when: context has {_groups(theme.require)}; no exclusion; score ≥ "
        f"{theme.min_score:g} (weight × 2 in the title, × 1 in the summary, each term once)",
    ]
    for group in theme.require:
        lines.append(f"context {group.title or group.name}: {_some(group.terms)}")
    return lines + term_lines(theme)


def match_lines(matches: Sequence[ThemeMatch], titles: dict[str, str]) -> list[str]:
    """Why each theme matched, best first: the score, each term that counted, the context."""
    lines = []
    for match in matches:
        why = match.explanation
        # The terms and context follow one per line, so the head line is only the verdict.
        lines.append(
            f"{match.slug} ({titles.get(match.slug, match.slug)}): score {match.score:g} "
            f"(needs {why['min_score']:g})"
        )
        for hit in why["hits"]:
            kind = "exact" if hit["kind"] == "exact" else f"fuzzy, {hit['similarity']:g}%"
            lines.append(
                f'  • "{hit["term"]}" found as "{hit["matched"]}" in the {hit["field"]} '
                f"({kind}): {hit['points']:g} points"
            )
        for group, found in why["context"].items():
            lines.append(f'  • context {group}: "{found}"')
    return lines


def history_lines(versions: Sequence[VersionInfo], current: int | None) -> list[str]:
    """One line per version, newest first; the version in force is marked."""
    return [
        f"v{info.version}{' (in force)' if info.version == current else ''} · "
        f"{info.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC · {info.author.shown} "
        f"({info.author.platform}, {info.source}): {info.change}"
        for info in versions
    ]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _groups(groups: Sequence[Group]) -> str:
    return " and ".join(group.title or group.name for group in groups) or "nothing"


def _some(terms: Sequence[Term]) -> str:
    shown = ", ".join(f'"{term.text}"' for term in terms[:TERMS_SHOWN])
    more = len(terms) - TERMS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
