"""Admins' pages: the routes (config file and subscriptions) and the audit log."""

from __future__ import annotations

from aiohttp import web

from bot.core.commands.model import Invocation
from bot.panel.changes import DESTINATION, reply_dict
from bot.panel.render import caller_of, config_of, is_admin, page
from bot.panel.security import refusal

AUDIT_SHOWN = 100
_ADMINS_ONLY = "Only admins can see this page (README, “Admins”, says who counts as one)."


def add_routes(app: web.Application) -> None:
    """The admin routes."""
    app.router.add_get("/subscriptions", subscriptions_page)
    app.router.add_get("/audit", audit_page)


async def subscriptions_page(request: web.Request) -> web.Response:
    """Every route, as `/nkru subscriptions` lists them."""
    if not is_admin(request):
        return refusal(request, 403, "Admins only", _ADMINS_ONLY)
    invocation = Invocation(caller_of(request), DESTINATION, "subscriptions")
    reply = await config_of(request).commands.handle(invocation)
    return await page(request, "subscriptions.html", {"reply": reply_dict(reply)})


async def audit_page(request: web.Request) -> web.Response:
    """The newest admin actions, refused ones included."""
    if not is_admin(request):
        return refusal(request, 403, "Admins only", _ADMINS_ONLY)
    async with config_of(request).store.transaction() as tx:
        entries = await tx.audit.recent(AUDIT_SHOWN)
    return await page(request, "audit.html", {"entries": entries})
