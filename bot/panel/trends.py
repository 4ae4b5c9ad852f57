"""Trends: stories per theme per day over 30 or 90 days, as an inline SVG chart, and the same
chart as a PNG and the counts as CSV to download (bot.core.trends draws and writes them)."""

from __future__ import annotations

import asyncio
from datetime import UTC

from aiohttp import web

from bot.core.trends import Trends, layout, load_trends, render_png, render_svg, to_csv
from bot.panel.render import config_of, page

SPANS = (30, 90)  # the windows offered, in days


def add_routes(app: web.Application) -> None:
    """The trends routes."""
    app.router.add_get("/trends", trends_page)
    app.router.add_get("/trends.png", trends_png)
    app.router.add_get("/trends.csv", trends_csv)


def days_of(request: web.Request) -> int:
    """The window asked for (30 by default); 400 for any other than SPANS."""
    given = request.query.get("days", str(SPANS[0]))
    if given not in {str(days) for days in SPANS}:
        spans = " or ".join(map(str, SPANS))
        raise web.HTTPBadRequest(text=f"days must be {spans}, not '{given[:20]}'")
    return int(given)


async def _trends(request: web.Request, days: int) -> Trends:
    config = config_of(request)
    today = config.clock().astimezone(UTC).date()
    return await load_trends(config.store, config.catalog().all(), today, days)


def _filename(trends: Trends, suffix: str) -> str:
    return f"nkru-trends-{len(trends.days)}d-{trends.days[-1].isoformat()}.{suffix}"


async def trends_page(request: web.Request) -> web.Response:
    """The chart of the window asked for, with links to the other window and the downloads."""
    days = days_of(request)
    trends = await _trends(request, days)
    svg = render_svg(layout(trends))
    totals = [(series.title, sum(series.counts)) for series in trends.series]
    context = {"days": days, "spans": SPANS, "svg": svg, "totals": totals, "trends": trends}
    return await page(request, "trends.html", context)


async def trends_png(request: web.Request) -> web.Response:
    """The chart as a PNG download."""
    trends = await _trends(request, days_of(request))
    body = await asyncio.to_thread(lambda: render_png(layout(trends)))  # CPU: off the loop
    return _download(body, "image/png", _filename(trends, "png"))


async def trends_csv(request: web.Request) -> web.Response:
    """The counts as CSV (`date,theme,stories`) to download."""
    trends = await _trends(request, days_of(request))
    body = to_csv(trends).encode("utf-8")
    return _download(body, "text/csv; charset=utf-8", _filename(trends, "csv"))


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    return web.Response(body=body, headers=headers)
