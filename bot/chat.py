"""Chat platforms in one process: which start is decided by which secrets are set.

* Slack: `NKRU_SLACK_BOT_TOKEN` posts alerts and digests; `/nkru` arrives over Socket Mode when
  `NKRU_SLACK_APP_TOKEN` is set, else over HTTP (`/slack/events`, verified with
  `NKRU_SLACK_SIGNING_SECRET`).
* Discord: `NKRU_DISCORD_TOKEN` runs the gateway bot (alerts, digests, `/nkru`);
  `NKRU_DISCORD_WEBHOOK_URL` alone posts alerts and digests to that webhook's channel.
* The console adapter is always there: routes to `console` print on this terminal.

`send` mode opens only what delivery needs (e.g. `nkru poll --once`); `serve` mode also
listens for commands and serves the HTTP listener (`nkru run`). `chat_platforms(mode)` is what
`bot.app.open_runtime` is given to open them (bot.chat_wiring); importing this module imports
discord.py and slack-bolt, so only the commands that talk to a platform do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Literal

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.adapters.discord import (
    DiscordDelivery,
    DiscordNetwork,
    DiscordSetupError,
    DiscordWebhookDelivery,
    start_discord_bot,
)
from bot.adapters.slack import (
    Lookups,
    SlackDelivery,
    SlackSetupError,
    add_slack_routes,
    build_slack_app,
    socket_mode_handler,
    start_socket_mode,
    stop_socket_mode,
)
from bot.chat_wiring import ChatOpener, ChatPlatforms, ChatSetupError, ChatWiring
from bot.core.commands.model import CommandHandler, ThemeCatalog
from bot.core.routing import Route
from bot.settings import Settings
from bot.web import add_web_panel, bound_port, build_web_app, start_http

log = logging.getLogger(__name__)
ChatMode = Literal["send", "serve"]
PLATFORM_SECRETS = {
    "slack": "NKRU_SLACK_BOT_TOKEN",
    "discord": "NKRU_DISCORD_TOKEN or NKRU_DISCORD_WEBHOOK_URL",
}


def check_routes(settings: Settings, routes: Sequence[Route]) -> None:
    """Every route's platform must have its secret set, or its alerts could never go out."""
    configured = {
        "console": True,
        "slack": bool(settings.slack_bot_token),
        "discord": bool(settings.discord_token or settings.discord_webhook_url),
    }
    for route in routes:
        platform = route.destination.partition(":")[0]
        if not configured.get(platform, False):
            raise ChatSetupError(
                f"NKRU_ROUTES sends to {route.destination} but {PLATFORM_SECRETS[platform]} is "
                "not set — set it, or remove that route"
            )


def chat_platforms(mode: ChatMode, discord_network: DiscordNetwork | None = None) -> ChatOpener:
    """What `open_runtime` opens Slack and Discord with, in this mode (`discord_network`: see
    `open_chat`)."""

    def opener(wiring: ChatWiring) -> AbstractAsyncContextManager[ChatPlatforms]:
        return open_chat(wiring, mode, discord_network=discord_network)

    return opener


@asynccontextmanager
async def open_chat(
    wiring: ChatWiring, mode: ChatMode, *, discord_network: DiscordNetwork | None = None
) -> AsyncIterator[ChatPlatforms]:
    """Open the configured platforms; close them all on exit (also when start-up fails).

    Discord is reached as `NKRU_DISCORD_PROXY` says, unless `discord_network` is given (tests
    pass one that leads to their fakes).
    """
    settings, handler, catalog = wiring.settings, wiring.handler, wiring.catalog
    platforms = ChatPlatforms()
    check_routes(settings, wiring.routes)
    web_app = None
    if mode == "serve":
        web_app = build_web_app(wiring.store, wiring.adapters, wiring.clock)
        await add_web_panel(web_app, wiring)
    async with AsyncExitStack() as stack:
        try:
            await _open_slack(settings, mode, handler, catalog, platforms, stack, web_app)
            network = discord_network or DiscordNetwork(proxy=settings.discord_proxy)
            await _open_discord(settings, network, mode, handler, catalog, platforms, stack)
        except (SlackSetupError, DiscordSetupError) as exc:
            raise ChatSetupError(str(exc)) from exc
        if web_app is not None:  # serving: /healthz, the panel, Slack's /slack/events (HTTP mode)
            where = f"{settings.http_host}:{settings.http_port}"
            try:
                runner = await start_http(web_app, settings.http_host, settings.http_port)
            except OSError as exc:
                problem = f"NKRU_HTTP_PORT: cannot listen on {where} ({exc.strerror})"
                if any("HTTP" in what for what in platforms.listening):
                    raise ChatSetupError(f"{problem} — pick a free port") from exc
                # Only /healthz would be served: the bot is still useful without it.
                log.warning("%s — /healthz is off; pick a free port to serve it", problem)
            else:
                stack.push_async_callback(runner.cleanup)
                platforms.http_port = bound_port(runner)
        yield platforms


async def _open_slack(
    settings: Settings,
    mode: ChatMode,
    handler: CommandHandler,
    catalog: Callable[[], ThemeCatalog],
    platforms: ChatPlatforms,
    stack: AsyncExitStack,
    web_app: web.Application | None,
) -> None:
    token = settings.slack_bot_token
    if not token:
        if settings.slack_app_token or settings.slack_signing_secret:
            raise ChatSetupError(
                "NKRU_SLACK_BOT_TOKEN is not set, but other Slack settings are: set the bot "
                "token (xoxb-…, api.slack.com/apps → OAuth & Permissions) or unset them"
            )
        return
    api_url = settings.slack_api_url
    platforms.adapters["slack"] = SlackDelivery.from_token(token, api_url=api_url, catalog=catalog)
    if mode != "serve":
        return
    lookups = Lookups(
        usergroups=bool(settings.slack_admin_usergroup_ids),
        workspace_admins=settings.slack_workspace_admins,
    )
    bolt = build_slack_app(token, settings.slack_signing_secret, api_url, handler, catalog, lookups)
    if settings.slack_app_token:
        socket = socket_mode_handler(bolt, settings.slack_app_token, api_url)
        await start_socket_mode(socket)
        stack.push_async_callback(stop_socket_mode, socket)
        platforms.listening.append("Slack /nkru (Socket Mode)")
    elif settings.slack_signing_secret and web_app is not None:
        add_slack_routes(web_app, bolt, settings.slack_signing_secret, path="/slack/events")
        platforms.listening.append("Slack /nkru (HTTP, /slack/events)")
    else:
        log.warning(
            "Slack: alerts only — /nkru needs NKRU_SLACK_APP_TOKEN (Socket Mode) or "
            "NKRU_SLACK_SIGNING_SECRET (HTTP mode)"
        )


async def _open_discord(
    settings: Settings,
    network: DiscordNetwork,
    mode: ChatMode,
    handler: CommandHandler,
    catalog: Callable[[], ThemeCatalog],
    platforms: ChatPlatforms,
    stack: AsyncExitStack,
) -> None:
    if settings.discord_token:
        if mode == "serve" and _shared_database(settings):
            await _open_leased_discord(
                settings.discord_token, settings, network, handler, catalog, platforms, stack
            )
        elif mode == "serve":
            bot = await start_discord_bot(
                settings.discord_token,
                handler,
                catalog,
                network=network,
                guild_id=settings.discord_guild_id,
            )
            stack.push_async_callback(bot.shutdown)
            platforms.gateway = lambda: bot
            platforms.adapters["discord"] = DiscordDelivery(bot, catalog)
            platforms.listening.append("Discord /nkru (gateway)")
        else:
            delivery = await DiscordDelivery.connect(
                settings.discord_token, catalog, network=network
            )
            stack.push_async_callback(delivery.close)
            platforms.adapters["discord"] = delivery
    elif settings.discord_webhook_url:
        webhook = DiscordWebhookDelivery(settings.discord_webhook_url, catalog, network=network)
        stack.push_async_callback(webhook.close)
        platforms.adapters["discord"] = webhook


def _shared_database(settings: Settings) -> bool:
    """Whether other `nkru run` may share this database (PostgreSQL: bot.scaleout)."""
    return make_url(settings.database_url).get_backend_name() == "postgresql"


async def _open_leased_discord(
    token: str,
    settings: Settings,
    network: DiscordNetwork,
    handler: CommandHandler,
    catalog: Callable[[], ThemeCatalog],
    platforms: ChatPlatforms,
    stack: AsyncExitStack,
) -> None:
    """Every process posts over REST; the gateway runs in the lease holder only (bot.chat_gateway).

    Imported here: psycopg needs libpq, which SQLite users may not have.
    """
    from bot.chat_gateway import LeasedGateway, leased_gateway

    delivery = await DiscordDelivery.connect(token, catalog, network=network)
    stack.push_async_callback(delivery.close)
    platforms.adapters["discord"] = delivery
    gateway = LeasedGateway(
        token,
        handler,
        catalog,
        network=network,
        guild_id=settings.discord_guild_id,
    )
    await stack.enter_async_context(leased_gateway(settings.database_url, gateway))
    platforms.gateway = lambda: gateway.bot
    platforms.listening.append("Discord /nkru (gateway, in one process at a time)")
