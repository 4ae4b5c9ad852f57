"""The trend chart's layout, worked out once and drawn by `svg` and `png` alike.

Everything is in pixels of a `width` × `height` picture: a plot with horizontal grid lines at
round counts, a line per theme, the days along the bottom and a legend under the chart (as many
rows as the themes need). Themes are told apart without colour: each line has a dash pattern
and a marker shape (filled or hollow) of its own, shown again in the legend. Markers sit on
every few days, shifted a day per theme so they do not cover each other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from bot.core.trends.data import Trends

Point = tuple[float, float]
Anchor = Literal["start", "middle", "end"]
Shape = Literal["circle", "square", "triangle", "diamond", "triangle-down"]

WIDTH = 960
MIN_WIDTH = 320  # a phone's; the SVG also scales down to its container (`svg`)
LEFT, RIGHT, TOP = 64, 24, 64  # the plot's margins (tick labels left, title and caption above)
PLOT_HEIGHT = 300
LEGEND_COLUMN, LEGEND_ROW = 224, 24
TITLE_CHARS = 26  # of a theme's title in the legend (the whole one is in the SVG's tooltip)
MARKER_RADIUS = 4.5
INK, GRID, BACKGROUND = "#222222", "#d0d0d0", "#ffffff"
# Eight dash patterns (on, off, … in pixels) and ten markers: every theme of up to forty has a
# combination of its own.
DASHES: tuple[tuple[int, ...], ...] = (
    (), (9, 4), (2, 3), (10, 3, 2, 3), (5, 5), (16, 4), (1, 4), (6, 2, 2, 2, 2, 2),
)  # fmt: skip
SHAPES: tuple[Shape, ...] = ("circle", "square", "triangle", "diamond", "triangle-down")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class Text:
    """A label; `y` is its baseline."""

    x: float
    y: float
    text: str
    anchor: Anchor = "start"
    size: int = 12
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """A polyline, solid or dashed."""

    points: tuple[Point, ...]
    colour: str
    width: float = 1.0
    dash: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Marker:
    """A marker: its outline as a polygon (a circle has sixteen sides), filled or hollow."""

    outline: tuple[Point, ...]
    colour: str
    filled: bool


@dataclass(frozen=True, slots=True)
class SeriesDrawing:
    """One theme: its line and markers in the plot, and its legend entry."""

    title: str
    line: Line
    markers: tuple[Marker, ...]
    legend: tuple[Line, Marker, Text]


@dataclass(frozen=True, slots=True)
class Chart:
    """The whole picture: size, what it says (title, description), and what to draw."""

    width: int
    height: int
    title: str
    description: str
    rules: tuple[Line, ...]  # grid lines, then the axes
    labels: tuple[Text, ...]  # title, axis captions, tick labels
    series: tuple[SeriesDrawing, ...]


def layout(trends: Trends, width: int = WIDTH) -> Chart:
    """The chart of these trends, `width` pixels wide (the height follows from the legend)."""
    if width < MIN_WIDTH:
        raise ValueError(f"a trend chart is at least {MIN_WIDTH} pixels wide, not {width}")
    plot = (LEFT, TOP, width - RIGHT, TOP + PLOT_HEIGHT)  # left, top, right, bottom
    top_count, step = nice_scale(max((max(s.counts) for s in trends.series), default=0))
    rules, labels = _axes(trends, plot, top_count, step)
    columns = max(1, (width - LEFT - RIGHT) // LEGEND_COLUMN)
    rows = math.ceil(len(trends.series) / columns)
    legend_top = plot[3] + 72
    series = tuple(
        _series(trends, index, plot, top_count, (columns, legend_top))
        for index in range(len(trends.series))
    )
    height = legend_top + rows * LEGEND_ROW + 8
    return Chart(width, height, _title(trends), describe(trends), rules, labels, series)


def nice_scale(most: int) -> tuple[int, int]:
    """The top of the count axis and its step: 1, 2 or 5 × 10ⁿ, at most five steps, top ≥ most."""
    if most <= 0:
        return 1, 1
    step = 1
    while math.ceil(most / step) > 5:
        step = _next_step(step)
    return math.ceil(most / step) * step, step


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, …"""
    return step * 5 // 2 if str(step).startswith("2") else step * 2


def _axes(
    trends: Trends, plot: tuple[float, float, float, float], top_count: int, step: int
) -> tuple[tuple[Line, ...], tuple[Text, ...]]:
    left, top, right, bottom = plot
    rules: list[Line] = []
    labels = [
        Text(left, 28, _title(trends), size=16, bold=True),
        Text(left, top - 14, "Stories per day"),
        Text((left + right) / 2, bottom + 48, "Day (UTC)", anchor="middle"),
    ]
    for count in range(0, top_count + 1, step):
        y = _y(count, plot, top_count)
        rules.append(Line(((left, y), (right, y)), GRID))
        labels.append(Text(left - 8, y + 4, str(count), anchor="end"))
    every = max(1, math.ceil(len(trends.days) / 10))
    for index in range(len(trends.days) - 1, -1, -every):  # the newest day is always labelled
        x = _x(index, len(trends.days), plot)
        day = trends.days[index]
        rules.append(Line(((x, bottom), (x, bottom + 5)), INK))
        labels.append(Text(x, bottom + 20, f"{day.day} {MONTHS[day.month - 1]}", anchor="middle"))
    rules += [
        Line(((left, top), (left, bottom)), INK),
        Line(((left, bottom), (right, bottom)), INK),
    ]
    return tuple(rules), tuple(labels)


def _series(
    trends: Trends,
    index: int,
    plot: tuple[float, float, float, float],
    top_count: int,
    legend: tuple[int, int],
) -> SeriesDrawing:
    series = trends.series[index]
    colour = series.colour if _COLOUR.fullmatch(series.colour) else PALETTE[index % len(PALETTE)]
    dash = DASHES[index % len(DASHES)]
    shape, filled = SHAPES[index % len(SHAPES)], (index // len(SHAPES)) % 2 == 0
    days = len(trends.days)
    points = tuple(
        (_x(day, days, plot), _y(count, plot, top_count)) for day, count in enumerate(series.counts)
    )
    every = max(1, math.ceil(days / 12))
    markers = tuple(
        Marker(outline(shape, x, y), colour, filled) for x, y in points[index % every :: every]
    )
    columns, legend_top = legend
    x = LEFT + (index % columns) * LEGEND_COLUMN
    y = legend_top + (index // columns) * LEGEND_ROW
    entry = (
        Line(((x, y), (x + 36, y)), colour, 2.0, dash),
        Marker(outline(shape, x + 18, y), colour, filled),
        Text(x + 44, y + 4, _shorten(series.title)),
    )
    return SeriesDrawing(series.title, Line(points, colour, 2.0, dash), markers, entry)


def outline(shape: Shape, x: float, y: float, r: float = MARKER_RADIUS) -> tuple[Point, ...]:
    """A marker's polygon centred on (x, y)."""
    corners: dict[Shape, tuple[Point, ...]] = {
        "square": ((-1, -1), (1, -1), (1, 1), (-1, 1)),
        "triangle": ((0, -1.25), (1.15, 0.9), (-1.15, 0.9)),
        "diamond": ((0, -1.35), (1.35, 0), (0, 1.35), (-1.35, 0)),
        "triangle-down": ((0, 1.25), (1.15, -0.9), (-1.15, -0.9)),
        "circle": tuple((math.cos(k * math.pi / 8), math.sin(k * math.pi / 8)) for k in range(16)),
    }
    return tuple((round(x + dx * r, 2), round(y + dy * r, 2)) for dx, dy in corners[shape])


def dashed(line: Line) -> list[tuple[Point, Point]]:
    """The line as the segments its dash pattern draws (for drawers without dashes)."""
    pairs = list(zip(line.points, line.points[1:], strict=False))
    if not line.dash:
        return pairs
    pattern = line.dash * (len(line.dash) % 2 + 1)  # an odd pattern repeats, as in SVG
    slot, left = 0, float(pattern[0])
    segments: list[tuple[Point, Point]] = []
    for (x0, y0), (x1, y1) in pairs:
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while done < length:
            run = min(left, length - done)
            if slot % 2 == 0:  # a dash, not a gap
                a, b = done / length, (done + run) / length
                start = (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a)
                segments.append((start, (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)))
            done, left = done + run, left - run
            if left <= 0:
                slot = (slot + 1) % len(pattern)
                left = float(pattern[slot])
    return segments


def describe(trends: Trends) -> str:
    """The chart in words (its SVG `desc`): the window, then each theme's total and peak."""
    first, last = trends.days[0], trends.days[-1]
    parts = [f"Stories per theme per day, {first.isoformat()} to {last.isoformat()} (UTC)."]
    for series in trends.series:
        total = sum(series.counts)
        if total == 0:
            parts.append(f"{series.title}: no stories.")
            continue
        peak = max(series.counts)
        day = trends.days[series.counts.index(peak)]
        stories = "story" if total == 1 else "stories"
        parts.append(f"{series.title}: {total} {stories}, most on {day.isoformat()} ({peak}).")
    return " ".join(parts)


def _title(trends: Trends) -> str:
    return f"Stories per theme per day, last {len(trends.days)} days"


def _shorten(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"


def _x(index: int, days: int, plot: tuple[float, float, float, float]) -> float:
    left, _, right, _ = plot
    if days == 1:
        return (left + right) / 2
    return round(left + (right - left) * index / (days - 1), 2)


def _y(count: int, plot: tuple[float, float, float, float], top_count: int) -> float:
    _, top, _, bottom = plot
    return round(bottom - (bottom - top) * count / top_count, 2)
