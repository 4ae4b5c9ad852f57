"""Rendering a page: what every template gets, and the filters that write times and scores."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web

from bot.core.commands.model import Caller
from bot.core.commands.text import when
from bot.core.watchlist.model import Term
from bot.core.watchlist_editing.diff import describe_term
from bot.panel.config import CONFIG_KEY, PanelConfig
from bot.panel.security import USER_KEY, csrf_token


def config_of(request: web.Request) -> PanelConfig:
    """The panel's configuration."""
    return request.app[CONFIG_KEY]


def caller_of(request: web.Request) -> Caller:
    """The signed-in caller (the session middleware put it there)."""
    return request[USER_KEY]


def is_admin(request: web.Request) -> bool:
    """Whether the signed-in caller is an admin now, by the chat's rules."""
    return config_of(request).admin.is_admin(caller_of(request))


async def page(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    """Render a signed-in page: the caller, their role and the CSRF token for its forms."""
    full = {
        "caller": caller_of(request),
        "admin": is_admin(request),
        "csrf": await csrf_token(request),
        "path": request.path,
        **context,
    }
    return aiohttp_jinja2.render_template(template, request, full, status=status)


def _when(moment: datetime | None) -> str:
    return when(moment) if moment is not None else "—"


def _web_url(url: str | None) -> str:
    """`url` if it is an http(s) address, else "" (a feed's `javascript:` link stays text)."""
    if not url:
        return ""
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _term(term: Term) -> str:
    """A term as `watch show` lists it, with the longer forms that do not count."""
    unless = ", ".join(f'"{form}"' for form in term.exceptions)
    return describe_term(term) + (f" except {unless}" if unless else "")


FILTERS: dict[str, Callable[..., Any]] = {
    "when": _when,
    "web_url": _web_url,
    "score": lambda value: f"{value:.2f}",
    "number": lambda value: f"{value:g}",
    "term": _term,
}


def _query(given: Mapping[str, str], **more: str) -> str:
    """The stories page's query string for the same filters (on another page: `before`)."""
    kept = {name: value for name, value in {**given, **more}.items() if value}
    return urlencode(kept)


GLOBALS: dict[str, Callable[..., Any]] = {"query": _query}
