"""The gateway bot: `/nkru` slash commands over the gateway, plus start and stop for the runner.

`DiscordBot` is a `discord.Client` with a command tree holding the `/nkru` group. Logging in
(REST) syncs the commands — globally, or to one guild when `guild_id` is set (instant, handy
while testing); the gateway connection then runs in a background task. The same logged-in
client can serve deliveries: `DiscordDelivery(bot, catalog)`.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from bot.adapters.discord import api
from bot.adapters.discord.commands import NkruCommands, on_tree_error
from bot.adapters.discord.render import CatalogSource, catalog_getter
from bot.adapters.discord.respond import DEFER_AFTER, Responder
from bot.core.commands.model import CommandHandler

log = logging.getLogger(__name__)


def gateway_intents() -> discord.Intents:
    """No privileged intents: slash commands arrive anyway; `guilds` caches roles and channels."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class DiscordBot(discord.Client):
    """The `/nkru` bot; its REST client also posts alerts (see DiscordDelivery)."""

    def __init__(
        self,
        handler: CommandHandler,
        catalog: CatalogSource,
        *,
        guild_id: int | None = None,
        sync_commands: bool = True,
        defer_after: float = DEFER_AFTER,
        network: api.DiscordNetwork = api.DIRECT,
    ) -> None:
        super().__init__(
            intents=gateway_intents(),
            allowed_mentions=api.no_mentions(),
            max_ratelimit_timeout=api.MAX_RATE_LIMIT_WAIT,
            proxy=network.proxy,  # REST and the gateway websocket alike (one aiohttp session)
            connector=network.new_connector(),
        )
        self.catalog = catalog_getter(catalog)
        self.command_guild = discord.Object(guild_id) if guild_id else None
        self.sync_commands = sync_commands
        self.tree: app_commands.CommandTree[DiscordBot] = app_commands.CommandTree(self)
        self.tree.error(on_tree_error)
        responder = Responder(handler, catalog, defer_after=defer_after)
        self.tree.add_command(NkruCommands(responder, catalog), guild=self.command_guild)
        self.gateway_task: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """Called by `login`, before the gateway: register the slash commands with Discord."""
        if self.sync_commands:
            await self.sync_command_tree()

    async def sync_command_tree(self) -> list[app_commands.AppCommand]:
        """Upload `/nkru` (bulk overwrite); a failure is logged, alerts still work without it."""
        try:
            return await self.tree.sync(guild=self.command_guild)
        except discord.HTTPException as exc:
            where = f"guild {self.command_guild.id}" if self.command_guild else "all guilds"
            log.error(
                "could not register /nkru for %s (%s): invite the bot with the "
                "applications.commands scope, or check NKRU_DISCORD_GUILD_ID",
                where,
                exc,
            )
            return []

    async def launch(self, token: str) -> None:
        """Log in (REST, commands synced), then run the gateway in a background task."""
        await api.login(self, token)
        self.gateway_task = asyncio.create_task(
            self.connect(reconnect=True), name="discord-gateway"
        )
        self.gateway_task.add_done_callback(_report_gateway_end)

    async def shutdown(self) -> None:
        """Close the gateway and the HTTP session, and wait for the gateway task to end."""
        await self.close()
        if self.gateway_task is not None:
            await asyncio.wait({self.gateway_task})  # its failure, if any, was logged


def _report_gateway_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Discord gateway stopped: %r — slash commands are unavailable", task.exception())


async def start_discord_bot(
    token: str,
    handler: CommandHandler,
    catalog: CatalogSource,
    *,
    network: api.DiscordNetwork = api.DIRECT,
    guild_id: int | None = None,
    connect: bool = True,
) -> DiscordBot:
    """Build, log in and (unless `connect` is False) connect the bot; stop it with `shutdown`."""
    bot = DiscordBot(handler, catalog, guild_id=guild_id, network=network)
    if connect:
        await bot.launch(token)
    else:
        await api.login(bot, token)
    return bot
