"""Argument parsing for the `/nkru` commands: words in, typed arguments out (no I/O).

Every parser gets the invocation's words (Discord's typed options and Slack's text are both
split on whitespace first) and the current theme catalog, and raises UsageError with a short
message when the words do not fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.commands.model import ThemeCatalog
from bot.core.commands.registry import UsageError
from bot.core.commands.text import span, theme_list
from bot.core.durations import parse_duration

LATEST_DEFAULT, LATEST_MAX = 5, 20
EVERY_STORY = "all"  # `latest all`: every stored story, matched or not (unless a theme is so named)
DIGEST_DEFAULT, DIGEST_MIN, DIGEST_MAX = (
    timedelta(hours=24),
    timedelta(minutes=1),
    timedelta(days=30),
)
MUTE_MIN, MUTE_MAX = timedelta(minutes=1), timedelta(days=30)
_INTEGER = re.compile(r"[+-]?\d+")
# Quotation marks: around words they make a phrase (storage reads them); alone they are no word.
_QUOTES = "\"'“”‘’«»„"


@dataclass(frozen=True, slots=True)
class NoArgs:
    """A command that takes no arguments."""


@dataclass(frozen=True, slots=True)
class LatestArgs:
    """`latest [theme|all] [n]`: `count` is what will be shown, `asked` what was asked for;
    `every` (`all`) takes every stored story, matched or not."""

    theme: str | None = None
    count: int = LATEST_DEFAULT
    asked: int = LATEST_DEFAULT
    every: bool = False

    @property
    def clamped(self) -> bool:
        """Whether more were asked for than `latest` shows."""
        return self.asked > self.count


@dataclass(frozen=True, slots=True)
class SearchArgs:
    """`search <words>`."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DigestArgs:
    """`digest [since]`."""

    period: timedelta = DIGEST_DEFAULT


@dataclass(frozen=True, slots=True)
class MuteArgs:
    """`mute <theme> <duration>`."""

    theme: str
    duration: timedelta


@dataclass(frozen=True, slots=True)
class ListMutes:
    """`mute` with nothing after it: list what is muted here."""


@dataclass(frozen=True, slots=True)
class UnmuteArgs:
    """`unmute <theme>`: not checked against the catalog, so a mute of a theme that has since
    left the watchlist can still be lifted."""

    theme: str


def words_of(args: Sequence[str]) -> tuple[str, ...]:
    """The words of the arguments (an argument may hold several, e.g. a Discord search text)."""
    return tuple(word for arg in args for word in arg.split())


def no_args(words: Sequence[str], _catalog: ThemeCatalog) -> NoArgs:
    """Accept nothing."""
    if words:
        raise UsageError(f"unexpected '{' '.join(words)}'")
    return NoArgs()


def parse_latest(words: Sequence[str], catalog: ThemeCatalog) -> LatestArgs:
    """A theme (or `all`) and a number, in any order, both optional; more than the maximum is
    clamped."""
    theme: str | None = None
    every = False
    count: int | None = None
    for word in words:
        if _INTEGER.fullmatch(word):
            if count is not None:
                raise UsageError("give at most one number")
            count = int(word)
        elif theme is not None or every:
            raise UsageError("give at most one theme")  # `all` included
        elif word.casefold() == EVERY_STORY and EVERY_STORY not in catalog.themes:
            every = True
        else:
            theme = theme_of(word, catalog)
    asked = LATEST_DEFAULT if count is None else count
    if asked < 1:
        raise UsageError(f"n must be between 1 and {LATEST_MAX}")
    return LatestArgs(theme, min(asked, LATEST_MAX), asked, every)


def parse_search(words: Sequence[str], _catalog: ThemeCatalog) -> SearchArgs:
    """At least one word to look for; "quoted words" stay quoted, as a phrase."""
    if not any(word.strip().strip(_QUOTES) for word in words):
        raise UsageError("give at least one word to search for")
    return SearchArgs(tuple(word for word in words if word.strip()))


def parse_digest(words: Sequence[str], _catalog: ThemeCatalog) -> DigestArgs:
    """An optional period such as 24h, 3d or 90m."""
    if len(words) > 1:
        raise UsageError("give one period, e.g. 24h")
    if not words:
        return DigestArgs()
    return DigestArgs(duration_of(words[0], DIGEST_MAX, floor=DIGEST_MIN))


def parse_mute(words: Sequence[str], catalog: ThemeCatalog) -> MuteArgs | ListMutes:
    """A theme and a duration (either order), or nothing to list the mutes."""
    if not words:
        return ListMutes()
    if len(words) != 2:
        raise UsageError("mute needs a theme and a duration, e.g. arms-transfers 3d")
    theme_word, duration_word = words
    if _is_duration(theme_word) and not _is_duration(duration_word):
        theme_word, duration_word = duration_word, theme_word
    theme = theme_of(theme_word, catalog)
    return MuteArgs(theme, duration_of(duration_word, MUTE_MAX, floor=MUTE_MIN))


def parse_unmute(words: Sequence[str], _catalog: ThemeCatalog) -> UnmuteArgs:
    """Exactly one theme."""
    if len(words) != 1:
        raise UsageError("unmute needs one theme")
    return UnmuteArgs(words[0].casefold())


def theme_of(word: str, catalog: ThemeCatalog) -> str:
    """The catalog's slug for `word` (case does not matter), or a UsageError listing them."""
    slug = word.casefold()
    if slug not in catalog.themes:
        raise UsageError(f"unknown theme '{word}'", hint=theme_list(catalog))
    return slug


def duration_of(word: str, ceiling: timedelta, *, floor: timedelta) -> timedelta:
    """A duration between `floor` and `ceiling` (bot.core.durations syntax)."""
    try:
        seconds = parse_duration(word)
    except ValueError:
        raise UsageError(f"'{word}' is not a duration: write e.g. 90m, 24h or 3d") from None
    if seconds < floor.total_seconds():
        raise UsageError(f"'{word}' is too short: at least {span(floor)}")
    if seconds > ceiling.total_seconds():
        raise UsageError(f"'{word}' is too long: at most {span(ceiling)}")
    return timedelta(seconds=seconds)


def _is_duration(word: str) -> bool:
    try:
        parse_duration(word)
    except ValueError:
        return False
    return True
