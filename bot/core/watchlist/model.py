"""What a watchlist is once loaded: frozen, validated, independent of TOML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TermMode = Literal["word", "phrase", "prefix"]
MODES: tuple[TermMode, ...] = ("word", "phrase", "prefix")


@dataclass(frozen=True, slots=True)
class Term:
    """One search term.

    ``word``: whole words on token boundaries; the last word may carry a plural or
    possessive "s" ("bridge" finds "bridges", "Korea's"). ``phrase``: the same without
    that tolerance. ``prefix``: every word of the term starts a word of the text
    ("Туманн" finds "Туманной"; "북한" finds "북한은"). ``exceptions``: a hit does not count
    where the text there starts with one of these ("북한" except "북한산", Bukhansan).
    """

    text: str
    mode: TermMode
    fuzzy: bool
    weight: float
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """A context group: present when any of its terms occurs in the title or summary."""

    name: str
    title: str
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Theme:
    """A theme: indicator terms score, every ``require`` group must be present, no exclusion.

    ``others``: groups naming other actors (other countries). When the title names one of
    them, each required group must be named in the title, in the summary's first sentence or
    in a sentence with one of the theme's terms: a country named only in a later aside ("its
    ties with Russia") does not make the other actor's story this theme's. ``roundups``:
    groups whose terms mark a title as a round-up of several stories ("war live", "key
    events", "сводка"): then every required group must be named in the title itself.
    ``verdict``: the theme judges dealings that other themes describe (sanctions evasion: goods
    shipped "despite the UN ban", firms added "to the blacklist"): when one of its specific
    terms counts in the title, it is filed as a subject whatever the subject model weighs.
    """

    slug: str
    title: str
    description: str
    colour: str
    terms: tuple[Term, ...]
    require: tuple[Group, ...]
    exclude: tuple[Term, ...]
    min_score: float
    others: tuple[Group, ...] = ()
    roundups: tuple[Group, ...] = ()
    verdict: bool = False


@dataclass(frozen=True, slots=True)
class Watchlist:
    """The themes of one watchlist file."""

    name: str
    title: str
    path: Path
    themes: tuple[Theme, ...]

    def term_count(self) -> int:
        """Term entries as written: indicators, exclusions, and each context group once."""
        groups = {
            g.name: g
            for theme in self.themes
            for g in (*theme.require, *theme.others, *theme.roundups)
        }
        return sum(len(t.terms) + len(t.exclude) for t in self.themes) + sum(
            len(g.terms) for g in groups.values()
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a watchlist file, with where and how to fix it."""

    file: str
    line: int | None
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message} — {self.fix}"


class WatchlistError(Exception):
    """A watchlist could not be loaded; ``problems`` says where and how to fix each issue."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
