"""The bot's HTTP listener (NKRU_HTTP_HOST / NKRU_HTTP_PORT): `/healthz`, Slack's
`/slack/events` when Slack runs in HTTP mode (mounted by bot.adapters.slack), and the web panel
(bot.panel, mounted by `add_web_panel`)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.loop_watch import LoopWatch
from bot.panel import PanelConfig, add_panel
from bot.panel.config import KEY_BYTES, key_from_secret
from bot.settings import Settings
from storage.engine import Store

if TYPE_CHECKING:
    from bot.chat_wiring import ChatWiring

log = logging.getLogger(__name__)
STORE_KEY = web.AppKey("store", Store)
ADAPTERS_KEY: web.AppKey[Mapping[str, object]] = web.AppKey("adapters")
CLOCK_KEY: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
LOOP_KEY = web.AppKey("loop", LoopWatch)


def build_web_app(
    store: Store, adapters: Mapping[str, object], clock: Callable[[], datetime]
) -> web.Application:
    """An aiohttp application serving `/healthz`; platform adapters add their own routes.

    While it serves, a `LoopWatch` times the event loop's stalls (reported by `/healthz`)."""
    app = web.Application(client_max_size=1024 * 1024)  # Slack's payloads are small
    app[STORE_KEY] = store
    app[ADAPTERS_KEY] = adapters  # read per request: platforms register after the app is built
    app[CLOCK_KEY] = clock
    app[LOOP_KEY] = LoopWatch()
    app.cleanup_ctx.append(_watch_loop)
    app.router.add_get("/healthz", healthz)
    return app


async def _watch_loop(app: web.Application) -> AsyncIterator[None]:
    async with app[LOOP_KEY].running():
        yield


async def healthz(request: web.Request) -> web.Response:
    """200 with a summary when the database answers; 503 when it does not (for probes)."""
    store = request.app[STORE_KEY]
    try:
        # Not behind the queued writes (`reading`): a probe gets its answer under load.
        async with store.reading() as conn:
            await conn.connection.execute(text("SELECT 1"))
            feeds = await conn.feeds.count_by_status()
            backlog = await conn.outbox.count_by_status()
    except Exception as exc:  # any database failure means "unhealthy", never a 500 page
        log.warning("healthz: database unreachable: %s", exc)
        return web.json_response(
            {"ok": False, "error": "database unreachable", "loop": request.app[LOOP_KEY].report()},
            status=503,
        )
    adapters = request.app[ADAPTERS_KEY]
    return web.json_response(
        {
            "ok": True,
            "time": request.app[CLOCK_KEY]().isoformat(),
            "adapters": sorted(adapters),
            "feeds": {str(status): count for status, count in feeds.items()},
            "outbox": backlog,
            "loop": request.app[LOOP_KEY].report(),
        }
    )


async def start_http(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port until the returned runner is cleaned up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("HTTP listener on http://%s:%s (/healthz)", host, bound_port(runner) or port)
    return runner


def bound_port(runner: web.AppRunner) -> int | None:
    """The port actually bound (useful with port 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


async def session_key(settings: Settings, store: Store) -> bytes:
    """The key of the panel's session cookies: from NKRU_WEB_SECRET, else the one stored in the
    database (table web_keys), made by the first process that needed it."""
    if settings.web_secret:
        return key_from_secret(settings.web_secret)
    async with store.transaction() as tx:
        return await tx.web_logins.session_key(secrets.token_bytes(KEY_BYTES))


async def add_web_panel(app: web.Application, wiring: ChatWiring) -> None:
    """Mount the web panel on the listener's application (before it starts)."""
    settings = wiring.settings
    config = PanelConfig(
        store=wiring.store,
        commands=wiring.handler,
        admin=settings.admin_policy(),
        catalog=wiring.catalog,
        clock=wiring.clock,
        session_key=await session_key(settings, wiring.store),
        secure_cookies=settings.web_base().startswith("https://"),
        session_ttl=int(settings.web_session_ttl),
        editor=wiring.editor,
    )
    add_panel(app, config)
