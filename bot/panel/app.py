"""Mount the panel on the bot's aiohttp application (bot.web): templates, sessions, routes."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.panel import admin_pages, feeds, login, stories, trends, watchlist, watchlist_edit
from bot.panel.config import CONFIG_KEY, PanelConfig, checked_key
from bot.panel.render import FILTERS, GLOBALS
from bot.panel.security import require_session, security_headers

STATIC = Path(__file__).with_name("static")
COOKIE = "nkru_panel"


def add_panel(app: web.Application, config: PanelConfig) -> None:
    """Serve the panel's pages from `app` (before it starts)."""
    app[CONFIG_KEY] = config
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.panel", "templates"),
        autoescape=True,  # feed text, names and errors are text: never markup
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    storage = EncryptedCookieStorage(
        checked_key(config.session_key),  # raw bytes: it encodes them itself
        cookie_name=COOKIE,
        max_age=config.session_ttl,
        secure=config.secure_cookies,
        httponly=True,
        samesite="Lax",
    )
    setup_sessions(app, storage)  # its middleware runs first: the others read the session
    app.middlewares.append(security_headers)
    app.middlewares.append(require_session)
    app.router.add_static("/static/", STATIC)
    login.add_routes(app)
    stories.add_routes(app)
    feeds.add_routes(app)
    watchlist.add_routes(app)
    watchlist_edit.add_routes(app)
    trends.add_routes(app)
    admin_pages.add_routes(app)
