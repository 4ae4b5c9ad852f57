"""The trend chart as a PNG (Pillow), drawn from the same layout as the SVG.

Pillow draws no dashed lines, so each line is drawn as the segments of its dash pattern
(`geometry.dashed`). Text is in DejaVu Sans where the system has it (Debian's fonts-dejavu:
Latin, Greek, Cyrillic), else in Pillow's bundled font (Latin only); letters a font lacks show
as boxes, where the SVG, drawn by the browser, has them all.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw, ImageFont

from bot.core.trends.geometry import BACKGROUND, INK, Chart, Line, Marker, Text, dashed

_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # left/middle/right, on the baseline


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes, `chart.width` × `chart.height` pixels."""
    image = Image.new("RGB", (chart.width, chart.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for rule in chart.rules:
        _line(draw, rule)
    for label in chart.labels:
        _text(draw, label)
    for series in chart.series:
        _line(draw, series.line)
        for marker in series.markers:
            _marker(draw, marker)
        line, marker, text = series.legend
        _line(draw, line)
        _marker(draw, marker)
        _text(draw, text)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _line(draw: ImageDraw.ImageDraw, line: Line) -> None:
    width = max(1, round(line.width))
    if not line.dash:
        draw.line(line.points, fill=line.colour, width=width, joint="curve")
        return
    for start, end in dashed(line):
        draw.line((start, end), fill=line.colour, width=width)


def _marker(draw: ImageDraw.ImageDraw, marker: Marker) -> None:
    fill = marker.colour if marker.filled else BACKGROUND
    draw.polygon(marker.outline, fill=fill, outline=marker.colour, width=2)


def _text(draw: ImageDraw.ImageDraw, text: Text) -> None:
    font, anchor = _font(text.size, text.bold), _ANCHORS[text.anchor]
    draw.text((text.x, text.y), text.text, fill=INK, font=font, anchor=anchor)


@functools.cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:  # Pillow looks for the file in the system's font folders
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)
