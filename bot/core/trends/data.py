"""Stories per theme per day: read once, every day and every theme present (zeros included).

A story counts once per theme, on the UTC day its first report matching the theme was
published (`ThemeMatches.new_stories_per_day`); the window ends with today, which is still
filling up. Themes are those of the watchlist in force, in its order: a theme with no story
has a line at zero, and counts of a theme since removed are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.core.commands.model import ThemeInfo
from bot.core.repositories import Database

MAX_DAYS = 366
CSV_HEADER = ("date", "theme", "stories")


@dataclass(frozen=True, slots=True)
class ThemeSeries:
    """One theme's stories per day, one count per day of the window."""

    slug: str
    title: str
    colour: str
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Trends:
    """The days of the window, oldest first, and each theme's counts on them."""

    days: tuple[date, ...]
    series: tuple[ThemeSeries, ...]


def window(today: date, days: int) -> tuple[date, ...]:
    """The `days` days ending with `today`, oldest first; ValueError for a length out of range."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a trend covers 1 to {MAX_DAYS} days, not {days}")
    return tuple(today - timedelta(days=back) for back in range(days - 1, -1, -1))


def zero_filled(
    rows: Iterable[tuple[date, str, int]], themes: Sequence[ThemeInfo], today: date, days: int
) -> Trends:
    """Counts as stored (day, theme, stories) spread over every day and theme of the window."""
    span = window(today, days)
    where = {day: index for index, day in enumerate(span)}
    counts = {theme.slug: [0] * len(span) for theme in themes}
    for day, slug, stories in rows:
        if slug in counts and day in where:
            counts[slug][where[day]] += stories
    series = tuple(
        ThemeSeries(theme.slug, theme.title, theme.colour, tuple(counts[theme.slug]))
        for theme in themes
    )
    return Trends(span, series)


async def load_trends(
    store: Database, themes: Sequence[ThemeInfo], today: date, days: int
) -> Trends:
    """The trends of the `days` days ending with `today` (a UTC date)."""
    span = window(today, days)
    since = datetime.combine(span[0], time(), UTC)
    until = datetime.combine(today + timedelta(days=1), time(), UTC)
    async with store.reading() as tx:
        rows = await tx.themes.new_stories_per_day(since, until)
    return zero_filled(rows, themes, today, days)


def to_csv(trends: Trends) -> str:
    """`date,theme,stories` (ISO date, theme slug), a row per day and theme, zeros included."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for index, day in enumerate(trends.days):
        for series in trends.series:
            writer.writerow((day.isoformat(), series.slug, series.counts[index]))
    return out.getvalue()
