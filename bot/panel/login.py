"""Signing in with a one-time link, and out.

The link's GET only shows a button: chat apps and mail scanners fetch links to preview them,
and a GET that spent the token would sign nobody in. The button POSTs the token back; the
database marks it used in the same statement that checks it (bot.core.web_login).
"""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.core.web_login import token_hash
from bot.panel.render import config_of
from bot.panel.security import SIGN_IN, refusal, sign_in

log = logging.getLogger(__name__)
_SPENT = (
    "This sign-in link has expired or was used already. Links work once, for a few minutes: "
    "type /nkru web in Slack or Discord for a new one."
)


def add_routes(app: web.Application) -> None:
    """The sign-in routes."""
    app.router.add_get("/", home)
    app.router.add_get(SIGN_IN, signin_page)
    app.router.add_get("/login/{token}", link_page)
    app.router.add_post("/login/{token}", redeem)
    app.router.add_post("/signout", signout)


async def home(_request: web.Request) -> web.Response:
    """The panel starts at the stories."""
    raise web.HTTPFound("/stories")


async def signin_page(request: web.Request) -> web.Response:
    """How to sign in (where every page without a session leads)."""
    return aiohttp_jinja2.render_template("signin.html", request, {"caller": None})


async def link_page(request: web.Request) -> web.Response:
    """The link's landing page: a button that spends the token (see the module's note)."""
    context = {"caller": None, "token": request.match_info["token"]}
    return aiohttp_jinja2.render_template("login.html", request, context)


async def redeem(request: web.Request) -> web.Response:
    """Spend the token: a fresh session as the link's caller, or 403 if it is spent/expired."""
    config = config_of(request)
    async with config.store.transaction() as tx:
        grant = await tx.web_logins.redeem(token_hash(request.match_info["token"]), config.clock())
    if grant is None:
        return refusal(request, 403, "Link expired or used", _SPENT)
    await sign_in(request, grant)
    log.info("web panel: %s (%s) signed in", grant.user_name or grant.user_id, grant.platform)
    raise web.HTTPSeeOther("/stories")


async def signout(request: web.Request) -> web.Response:
    """End the session."""
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther(SIGN_IN)
