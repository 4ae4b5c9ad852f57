"""Trends without a database: zero-filling, CSV, and the chart's layout drawn as SVG and PNG."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.core.commands.model import ThemeInfo
from bot.core.trends import layout, render_png, render_svg, to_csv, zero_filled
from bot.core.trends.geometry import Line, dashed, nice_scale

TODAY = date(2026, 11, 20)
SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = 'Troops <script>alert("x")</script> & co'
THEMES = [
    ThemeInfo("tumen-bridge", "Tumen River bridge", colour="#16a085"),
    ThemeInfo("troops", SCRIPT, colour="#8e44ad"),
    ThemeInfo("quiet", "Quiet theme", colour="not a colour"),
]
ROWS = [
    (TODAY - timedelta(days=2), "tumen-bridge", 3),
    (TODAY, "tumen-bridge", 1),
    (TODAY, "troops", 7),
    (TODAY - timedelta(days=40), "troops", 9),  # before the window
    (TODAY, "removed-theme", 4),  # no longer in the watchlist
]


def test_every_day_and_every_theme_is_there_zeros_included() -> None:
    trends = zero_filled(ROWS, THEMES, TODAY, 30)

    assert len(trends.days) == 30 and (trends.days[0], trends.days[-1]) == (
        TODAY - timedelta(days=29),
        TODAY,
    )
    counts = {series.slug: series.counts for series in trends.series}
    assert list(counts) == ["tumen-bridge", "troops", "quiet"]  # the watchlist's order
    assert counts["tumen-bridge"] == (0,) * 27 + (3, 0, 1)
    assert counts["troops"] == (0,) * 29 + (7,)
    assert counts["quiet"] == (0,) * 30


@pytest.mark.parametrize("days", [0, 367])
def test_a_window_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match=f"1 to 366 days, not {days}"):
        zero_filled([], THEMES, TODAY, days)


def test_the_csv_reads_back_as_the_counts() -> None:
    trends = zero_filled(ROWS, THEMES, TODAY, 30)

    header, *rows = list(csv.reader(io.StringIO(to_csv(trends))))

    assert header == ["date", "theme", "stories"]
    assert len(rows) == 30 * 3
    back = {(date.fromisoformat(day), theme): int(n) for day, theme, n in rows}
    for series in trends.series:
        assert tuple(back[day, series.slug] for day in trends.days) == series.counts


def test_the_svg_is_an_accessible_image_with_escaped_theme_names() -> None:
    svg = render_svg(layout(zero_filled(ROWS, THEMES, TODAY, 30)), id_prefix="t30")

    assert "<script" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # well-formed, whatever the titles held
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t30-title t30-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "t30-title"
    assert title.text == "Stories per theme per day, last 30 days"
    assert desc is not None and desc.get("id") == "t30-desc"
    assert (
        desc.text is not None
        and "Tumen River bridge: 4 stories, most on 2026-11-18 (3)." in desc.text
    )
    assert "Quiet theme: no stories." in desc.text
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert {"Stories per day", "Day (UTC)", "20 Nov", "Tumen River bridge"} <= set(texts)
    tooltips = [group.find(f"{SVG}title") for group in root.iter(f"{SVG}g")]
    assert [t.text for t in tooltips if t is not None] == [t.title for t in THEMES]


def test_themes_are_told_apart_without_colour() -> None:
    themes = [ThemeInfo(f"t{n}", f"Theme {n}", colour="#000000") for n in range(12)]
    chart = layout(zero_filled([], themes, TODAY, 30))

    styles = {(s.line.dash, _rough(s.legend[1].outline), s.legend[1].filled) for s in chart.series}
    assert len(styles) == 12  # dash, marker shape and fill: no two themes alike
    for series in chart.series:  # the plot shows the legend's marker and dash
        assert series.line.dash == series.legend[0].dash
        plot, legend = _shape(series.markers[0].outline), _shape(series.legend[1].outline)
        assert plot == pytest.approx(legend, abs=0.02)  # outlines are rounded to 0.01 px
    svg = ET.fromstring(render_svg(chart))
    dashes = {line.get("stroke-dasharray") for line in svg.iter(f"{SVG}polyline")}
    assert len(dashes) == 8  # every dash pattern, solid included (None)


def _rough(outline: tuple[tuple[float, float], ...]) -> tuple[int, ...]:
    """A marker's shape to the pixel (for telling shapes apart)."""
    return tuple(round(v) for v in _shape(outline))


def _shape(outline: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    """A marker's outline relative to its first point, flat: its shape, wherever it sits."""
    x0, y0 = outline[0]
    return tuple(v for x, y in outline for v in (x - x0, y - y0))


def test_a_bad_colour_gets_one_of_the_palette_and_bad_sizes_and_ids_are_refused() -> None:
    chart = layout(zero_filled([], THEMES, TODAY, 7))

    assert [s.line.colour for s in chart.series][:2] == ["#16a085", "#8e44ad"]
    assert chart.series[2].line.colour.startswith("#") and "not" not in render_svg(chart)
    with pytest.raises(ValueError, match="at least 320 pixels wide, not 200"):
        layout(zero_filled([], THEMES, TODAY, 7), width=200)
    with pytest.raises(ValueError, match="id_prefix"):
        render_svg(chart, id_prefix='x" onload="alert(1)')


def test_the_png_decodes_at_the_charts_size_with_the_themes_drawn() -> None:
    chart = layout(zero_filled(ROWS, THEMES, TODAY, 90))

    image = Image.open(io.BytesIO(render_png(chart)))

    assert image.format == "PNG" and image.size == (chart.width, chart.height)
    colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 16) or []}
    assert (0x16, 0xA0, 0x85) in colours and (0x8E, 0x44, 0xAD) in colours


def test_the_svg_and_the_png_are_drawn_from_one_layout() -> None:
    trends = zero_filled(ROWS, THEMES, TODAY, 30)
    chart = layout(trends)

    svg = ET.fromstring(render_svg(chart))
    png = Image.open(io.BytesIO(render_png(chart)))

    assert (int(svg.get("width") or 0), int(svg.get("height") or 0)) == png.size
    first_line = next(svg.iter(f"{SVG}g")).find(f"{SVG}polyline")
    assert first_line is not None
    points = [[float(v) for v in p.split(",")] for p in (first_line.get("points") or "").split()]
    (x0, y0), (x1, y1) = points[-2:]  # the middle of its last stretch is the theme's colour
    assert png.convert("RGB").getpixel((round((x0 + x1) / 2), round((y0 + y1) / 2))) == (
        0x16, 0xA0, 0x85,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("most", "scale"),
    [(0, (1, 1)), (5, (5, 1)), (6, (6, 2)), (7, (8, 2)), (23, (25, 5)), (100, (100, 20))],
)
def test_the_count_axis_has_round_steps(most: int, scale: tuple[int, int]) -> None:
    assert nice_scale(most) == scale


def test_a_dashed_line_is_drawn_as_its_dashes() -> None:
    line = Line(((0.0, 0.0), (10.0, 0.0), (20.0, 0.0)), "#000000", dash=(4, 3))

    segments = dashed(line)

    starts = [start[0] for start, _ in segments]
    assert starts == pytest.approx([0, 7, 10, 14])  # the dash 7-11 turns the corner at x=10
    assert segments[-1][1][0] == pytest.approx(18)  # then a gap to the end
