"""The command service on its own, for a process that only answers commands.

`nkru latest` and `nkru search` need the database, the stored watchlist (for its themes) and
the routes, and nothing of what `bot.app.open_runtime` adds for polling and delivery (the
fetcher, the parser's workers, the scheduler, the chat platforms) nor its imports. The parts
both build on are here: routes from the settings, who is an admin, the watchlist in force.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from bot.core.commands.model import ThemeCatalog
from bot.core.commands.service import CommandService
from bot.core.routing import Route, unknown_themes
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing import LiveWatchlist, NoWatchlist, WatchlistEditor
from bot.core.watchlist_editing.files import WatchedFile
from bot.settings import Settings
from storage.engine import Store

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start as configured; the message says what to fix."""


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


def catalog_of(matcher: Callable[[], object]) -> Callable[[], ThemeCatalog]:
    """The current watchlist's themes, read when asked (the watchlist may be replaced)."""

    def catalog() -> ThemeCatalog:
        current = matcher()
        return current.catalog() if isinstance(current, WatchlistMatcher) else ThemeCatalog()

    return catalog


async def load_matcher(
    settings: Settings,
    store: Store,
    routes: Sequence[Route],
    clock: Callable[[], datetime] = utcnow,
) -> LiveWatchlist:
    """The watchlist in force, checked against the routes (bot.core.watchlist_editing).

    It is the newest version stored in the database: NKRU_WATCHLISTS is stored as version 1 on
    first start, and edits of that file become new versions (at start and while running).
    Without a usable watchlist start-up stops, unless no route needs one (no themes then).
    """
    routed = frozenset(theme for route in routes for theme in route.themes or ())
    editor = WatchlistEditor(store, clock, routed_themes=routed)
    live = LiveWatchlist(editor, WatchedFile(settings.watchlists))
    needed = any(route.themes is not None for route in routes)
    try:
        await live.start()
    except (WatchlistError, NoWatchlist) as exc:
        if needed:
            raise StartupError(f"the watchlist cannot be used (NKRU_WATCHLISTS): {exc}") from exc
        log.warning("no watchlist, so no themes (NKRU_WATCHLISTS): %s", exc)
        return live
    if live.matcher is None and needed:
        raise StartupError(
            "the watchlist cannot be used (NKRU_WATCHLISTS): the newest stored version does not "
            "load (see the log) — fix it with `nkru watchlist import FILE`"
        )
    if unknown := unknown_themes(routes, live.slugs):
        raise StartupError(
            f"NKRU_ROUTES names themes the watchlist does not define: {', '.join(unknown)}"
            f" — use one of {', '.join(live.slugs)}"
        )
    return live


@asynccontextmanager
async def open_command_service(settings: Settings) -> AsyncIterator[CommandService]:
    """Open the database (migrating it) and the watchlist in force, as `open_runtime` does, and
    the command service over them; close the database on exit."""
    store = await Store.open(settings.database_url)
    try:
        routes = settings.route_list()
        watchlist = await load_matcher(settings, store, routes)
        yield CommandService(
            store,
            catalog_of(lambda: watchlist.matcher),
            routes,
            utcnow,
            admin=settings.admin_policy(),
            services=[watchlist.editor, watchlist],
        )
    finally:
        await store.close()
