"""The trend chart as an SVG document (a string), for pages to inline or serve.

It shrinks to fit a narrower page (a phone), drawn to scale. Accessible as an image:
`role="img"` named by its `<title>` and described by its `<desc>` (each theme's total and
busiest day, in words); every theme's group carries its full title as a tooltip. Every text
and attribute value is escaped: theme titles are whatever an admin typed.
"""

from __future__ import annotations

import re
from html import escape

from bot.core.trends.geometry import BACKGROUND, Chart, Line, Marker, Point, Text

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def render_svg(chart: Chart, id_prefix: str = "trends") -> str:
    """The chart as SVG; `id_prefix` keeps the ids apart when a page holds several charts."""
    if not _ID.fullmatch(id_prefix):
        raise ValueError(f"id_prefix must be a letter then letters, digits, - or _: {id_prefix!r}")
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{chart.width}" '
        f'height="{chart.height}" viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="DejaVu Sans, Arial, sans-serif" '
        'style="max-width: 100%; height: auto">',  # narrower on a phone, drawn to scale
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>',
        f'<rect width="{chart.width}" height="{chart.height}" fill="{BACKGROUND}"/>',
    ]
    parts += [_line(rule) for rule in chart.rules]
    parts += [_text(label) for label in chart.labels]
    for series in chart.series:
        line, marker, text = series.legend
        parts.append(f"<g><title>{escape(series.title)}</title>{_line(series.line)}")
        parts += [_marker(each) for each in series.markers]
        parts += [_line(line), _marker(marker), _text(text), "</g>"]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _points(points: tuple[Point, ...]) -> str:
    return " ".join(f"{x:g},{y:g}" for x, y in points)


def _line(line: Line) -> str:
    dash = f' stroke-dasharray="{",".join(map(str, line.dash))}"' if line.dash else ""
    return (
        f'<polyline points="{_points(line.points)}" fill="none" stroke="{escape(line.colour)}" '
        f'stroke-width="{line.width:g}"{dash}/>'
    )


def _marker(marker: Marker) -> str:
    fill = escape(marker.colour) if marker.filled else BACKGROUND
    return (
        f'<polygon points="{_points(marker.outline)}" fill="{fill}" '
        f'stroke="{escape(marker.colour)}" stroke-width="1.5"/>'
    )


def _text(text: Text) -> str:
    weight = ' font-weight="bold"' if text.bold else ""
    return (
        f'<text x="{text.x:g}" y="{text.y:g}" text-anchor="{text.anchor}" '
        f'font-size="{text.size}"{weight} fill="#222222">{escape(text.text)}</text>'
    )
