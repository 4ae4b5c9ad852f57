"""The Discord gateway when several `nkru run` share one PostgreSQL database: one process at a
time holds it, under a lease (bot.scaleout.lease), and another takes over when that one dies.

Discord sends every interaction to every gateway session of the bot, so each process with its
own session would answer each `/nkru` twice. Every process posts alerts and digests over REST
(its own send-only client); only the lease holder logs the gateway bot in and connects it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.adapters.discord import DiscordBot, DiscordNetwork, start_discord_bot
from bot.adapters.discord.render import CatalogSource
from bot.core.commands.model import CommandHandler
from bot.scaleout.lease import GATEWAY_LEASE_KEY, Lease, leased

log = logging.getLogger(__name__)
LEASE_RETRY = 3.0  # seconds between tries to take the gateway (and checks by its holder)


class LeasedGateway:
    """Starts the gateway bot when this process takes the lease, stops it when it loses it."""

    def __init__(
        self,
        token: str,
        handler: CommandHandler,
        catalog: CatalogSource,
        *,
        network: DiscordNetwork,
        guild_id: int | None,
    ) -> None:
        self.token = token
        self.handler = handler
        self.catalog = catalog
        self.network = network
        self.guild_id = guild_id
        self.bot: DiscordBot | None = None

    async def start(self) -> None:
        """Log in (syncing /nkru) and connect the gateway."""
        self.bot = await start_discord_bot(
            self.token, self.handler, self.catalog, network=self.network, guild_id=self.guild_id
        )

    async def stop(self) -> None:
        """Close the gateway: another process may hold it from now on."""
        bot, self.bot = self.bot, None
        if bot is not None:
            await bot.shutdown()


@asynccontextmanager
async def leased_gateway(
    database_url: str, gateway: LeasedGateway, *, retry: float = LEASE_RETRY
) -> AsyncIterator[Lease]:
    """Hold the gateway whenever this process has the lease, for the block's duration."""
    lease = Lease(
        database_url,
        GATEWAY_LEASE_KEY,
        gateway.start,
        gateway.stop,
        retry=retry,
        name="Discord gateway",
    )
    async with leased(lease):
        yield lease
