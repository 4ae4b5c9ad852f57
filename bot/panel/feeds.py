"""The feeds: health, last and next poll, items; admins add, enable, disable and remove.

Adding goes through `/nkru feeds add` (the command service): the same URL checks
(bot.core.feed_input), the check fetch (bot.core.feed_probe) and the public-address rule as
from chat.
"""

from __future__ import annotations

from aiohttp import web

from bot.panel.changes import run_change, take_flash
from bot.panel.render import config_of, page

ACTIONS = ("enable", "disable", "remove")


def add_routes(app: web.Application) -> None:
    """The feed routes."""
    app.router.add_get("/feeds", feeds_page)
    app.router.add_post("/feeds/add", add_feed)
    app.router.add_post("/feeds/{feed_id:\\d+}/{action}", change_feed)


async def feeds_page(request: web.Request) -> web.Response:
    """Every feed and its health."""
    config = config_of(request)
    async with config.store.reading() as tx:
        feeds = await tx.feeds.list_all()
    counts = {status: sum(1 for f in feeds if f.status.value == status) for status in _STATES}
    context = {"feeds": feeds, "counts": counts, "flash": await take_flash(request)}
    return await page(request, "feeds.html", context)


_STATES = ("ok", "failing", "disabled")


async def add_feed(request: web.Request) -> web.Response:
    """`feeds add <url> [name] [every <interval>]`."""
    form = await request.post()
    url, name, every = (str(form.get(k, "")).strip() for k in ("url", "name", "every"))
    words = (url or "", *name.split(), *(("every", every) if every else ()))
    return await run_change(request, "feeds", ("add", *words), "/feeds")


async def change_feed(request: web.Request) -> web.Response:
    """`feeds enable|disable|remove <id>`."""
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound(text=f"no feed action '{action[:20]}'")
    return await run_change(request, "feeds", (action, request.match_info["feed_id"]), "/feeds")
