"""Trends: stories per watchlist theme per day, as a chart (SVG and PNG) and as CSV.

`data` reads the counts (through `ThemeMatches.new_stories_per_day`) and fills in the days and
themes without stories; `geometry` lays the chart out once (axes, lines with a dash pattern and
a marker shape of their own per theme, legend), and `svg` and `png` draw that same layout, so
the picture downloaded is the picture on the page.
"""

from bot.core.trends.data import ThemeSeries, Trends, load_trends, to_csv, zero_filled
from bot.core.trends.geometry import Chart, layout
from bot.core.trends.png import render_png
from bot.core.trends.svg import render_svg

__all__ = [
    "Chart",
    "ThemeSeries",
    "Trends",
    "layout",
    "load_trends",
    "render_png",
    "render_svg",
    "to_csv",
    "zero_filled",
]
