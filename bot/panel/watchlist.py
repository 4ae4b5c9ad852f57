"""The watchlist, read-only for everyone: every theme (terms, context groups, exclusions,
minimum score), the context groups, and the history of versions with each one's changes.

Admins also get an "Edit" link per part (bot.panel.watchlist_edit). What is shown is the
stored version in force (the chat's `WatchlistEditor`), not the file on disk.
"""

from __future__ import annotations

from aiohttp import web

from bot.core.watchlist.model import Group, Watchlist
from bot.core.watchlist_editing import NoWatchlist, WatchlistEditor
from bot.core.watchlist_editing.history import version_changes
from bot.core.watchlist_editing.parts import THEME, parts
from bot.panel.changes import take_flash
from bot.panel.render import config_of, page

HISTORY_SHOWN = 20
_NO_EDITOR = "This bot runs without a stored watchlist, so there is nothing to show here."


def add_routes(app: web.Application) -> None:
    """The watchlist's read-only routes."""
    app.router.add_get("/watchlist", watchlist_page)
    app.router.add_get("/watchlist/versions/{number:\\d+}", version_page)


def editor_of(request: web.Request) -> WatchlistEditor:
    """The stored watchlist's editor; 404 when the bot runs without one."""
    editor = config_of(request).editor
    if editor is None:
        raise web.HTTPNotFound(text=_NO_EDITOR)
    return editor


async def watchlist_page(request: web.Request) -> web.Response:
    """Every theme and context group of the version in force, and the newest versions."""
    editor = editor_of(request)
    try:
        version, watchlist = await editor.latest()
    except NoWatchlist as missing:
        raise web.HTTPNotFound(text=str(missing)) from None
    history = await editor.history(HISTORY_SHOWN)
    editable = {part.key for part in parts(version.document)}
    context = {
        "version": version.info,
        "watchlist": watchlist,
        "groups": shared_groups(watchlist),
        "history": history,
        "editable": editable,
        "theme_key": THEME,
        "flash": await take_flash(request),
    }
    return await page(request, "watchlist.html", context)


async def version_page(request: web.Request) -> web.Response:
    """One version: who made it, when, how, and every change from the version before."""
    number = int(request.match_info["number"])
    found = await version_changes(editor_of(request), number)
    if found is None:
        raise web.HTTPNotFound(text=f"No watchlist version {number}.")
    return await page(request, "watchlist_version.html", {"found": found})


def shared_groups(watchlist: Watchlist) -> list[Group]:
    """The named context groups the themes require, each once, in order of first use (a
    theme's inline `require` list is shown with the theme)."""
    found: dict[str, Group] = {}
    for theme in watchlist.themes:
        for group in theme.require:
            if "." not in group.name:  # inline lists are named "<slug>.require[i]"
                found.setdefault(group.name, group)
    return list(found.values())
