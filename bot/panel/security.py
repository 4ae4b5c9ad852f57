"""Who is signed in, and what every request must show: a session for anything but the public
paths, and the session's CSRF token with every POST.

The session is an encrypted cookie (aiohttp-session's EncryptedCookieStorage: Fernet, so it can
be neither read nor forged without the key; HttpOnly, SameSite=Lax, Secure over https) that
holds the caller's platform identity and the facts their platform reported when they asked for
the link. Whether they may change something is decided from those facts by the chat's
AdminPolicy on every POST, never stored as a flag.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from bot.core.commands.model import Caller, Platform
from bot.core.records import LoginGrant
from bot.core.web_login import caller_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = web.RequestKey("caller", Caller)  # request[USER_KEY]: the signed-in Caller
SIGN_IN = "/signin"
# Answer without a session: the bot's own endpoints, the sign-in pages and the stylesheet.
PUBLIC_PREFIXES = ("/healthz", "/slack/", SIGN_IN, "/login/", "/static/")
_CSRF_FIELD = "csrf"
# Sent with every panel page: no script at all, no framing, and no Referer (a sign-in link's
# token must not leave in one).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_public(path: str) -> bool:
    """Whether `path` answers without a session."""
    return path == "/healthz" or path.startswith(PUBLIC_PREFIXES)


async def sign_in(request: web.Request, grant: LoginGrant) -> None:
    """Start a fresh session (never the one the browser brought) as the grant's caller."""
    caller = caller_of(grant)
    session = await new_session(request)
    session["user"] = {
        "platform": caller.platform,
        "id": caller.user_id,
        "name": caller.user_name,
        "roles": sorted(caller.roles),
        "permissions": sorted(caller.permissions),
    }
    session[_CSRF_FIELD] = secrets.token_urlsafe(32)


def caller_in(session: Session) -> Caller | None:
    """The signed-in caller, or None."""
    user: Any = session.get("user")
    if not isinstance(user, dict):
        return None
    platform: Platform = user["platform"]
    return Caller(
        platform,
        str(user["id"]),
        str(user["name"]),
        frozenset(user["roles"]),
        frozenset(user["permissions"]),
    )


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token, for the forms of the page being rendered."""
    return str((await get_session(request)).get(_CSRF_FIELD, ""))


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add SECURITY_HEADERS to the panel's answers (not to Slack's or the probes')."""
    response = await handler(request)
    if not request.path.startswith(("/healthz", "/slack/")):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No session: a page read is sent to the sign-in page, anything else refused (401).
    A POST without the session's CSRF token is refused (403)."""
    if is_public(request.path):
        return await handler(request)
    session = await get_session(request)
    caller = caller_in(session)
    if caller is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPFound(SIGN_IN)
        return refusal(request, 401, "Not signed in", _SIGN_IN_AGAIN)
    request[USER_KEY] = caller
    if request.method == "POST" and not await _csrf_matches(request, session):
        return refusal(request, 403, "Form refused", _BAD_FORM)
    return await handler(request)


_SIGN_IN_AGAIN = "Sign in again with a new link: type /nkru web in Slack or Discord."
_BAD_FORM = (
    "This form did not come with this session's security token, so it was not acted on. "
    "It may be from an older session or from another site: reload the page and try again."
)


async def _csrf_matches(request: web.Request, session: Session) -> bool:
    expected = str(session.get(_CSRF_FIELD, ""))
    form = await request.post()
    given = form.get(_CSRF_FIELD)
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(given, expected)


def refusal(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """A plain page saying why the request was refused, with its HTTP status."""
    context = {"title": title, "message": message, "caller": None}  # no nav: nothing assumed
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)
