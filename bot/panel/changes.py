"""Changes made from the panel: run by the chat's command service, as the signed-in caller.

So a change from the panel is checked (admin rules, feed safety) and audited exactly as the
same change typed in chat; the audit log names "web" as where it was made. The answer is shown
once on the next page (post/redirect/get: a reload never repeats a change).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from bot.core.commands.model import Invocation, Reply
from bot.panel.render import caller_of, config_of
from bot.panel.security import refusal

DESTINATION = "web"
_FLASH = "flash"


async def run_change(
    request: web.Request, command: str, words: tuple[str, ...], back: str
) -> web.Response:
    """Run `/nkru <command> <words…>` as the caller; 403 if they are no admin, else back to
    `back` with the answer."""
    config = config_of(request)
    caller = caller_of(request)
    reply = await config.commands.handle(Invocation(caller, DESTINATION, command, words))
    # The command refused (and audited) it already; the page says so with the HTTP status too.
    if not config.admin.is_admin(caller):
        return refusal(request, 403, reply.title, " ".join(reply.lines))
    await set_flash(request, reply.title, list(reply.lines), error=reply.error)
    raise web.HTTPSeeOther(back)


async def set_flash(
    request: web.Request, title: str, lines: list[str], *, error: bool = False
) -> None:
    """Keep the answer of a change for the next page (`take_flash`)."""
    session = await get_session(request)
    session[_FLASH] = {"title": title, "lines": lines, "error": error}


async def take_flash(request: web.Request) -> dict[str, Any] | None:
    """The answer of the change just made, once."""
    session = await get_session(request)
    flash: Any = session.pop(_FLASH, None)
    return flash if isinstance(flash, dict) else None


def reply_dict(reply: Reply) -> dict[str, Any]:
    """A reply as the templates show it."""
    return {"title": reply.title, "lines": list(reply.lines), "error": reply.error}
