"""The `/nkru` slash command group: one subcommand per core command, options in core order.

Each subcommand only turns its options into the core's positional arguments (absent options
are left out, as a Slack user would leave them out) and hands over to the Responder; checking
the arguments is the core's job, so every platform answers a mistake the same way.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.adapters.discord import text
from bot.adapters.discord.api import no_mentions
from bot.adapters.discord.feeds_commands import FeedsCommands
from bot.adapters.discord.render import (
    ERROR_COLOUR,
    CatalogSource,
    catalog_getter,
    theme_choices,
)
from bot.adapters.discord.respond import Interaction, Responder
from bot.adapters.discord.subscribe_commands import add_subscribe_commands
from bot.adapters.discord.watch_commands import add_watch_commands
from bot.core.commands.args import LATEST_MAX

log = logging.getLogger(__name__)


def _args(*values: object) -> tuple[str, ...]:
    """The given options as strings, absent ones dropped."""
    return tuple(str(value) for value in values if value is not None)


class NkruCommands(
    app_commands.Group,
    name="nkru",
    description="North Korea–Russia news monitor",
    guild_only=True,  # alerts, mutes and digests belong to server channels, not DMs
):
    """`/nkru latest|search|themes|digest|status|mute|unmute|web|help`."""

    def __init__(self, responder: Responder, catalog: CatalogSource) -> None:
        super().__init__()
        self.responder = responder
        self.catalog = catalog_getter(catalog)
        self.add_command(FeedsCommands(responder))  # /nkru feeds …
        add_watch_commands(self, responder, catalog)  # /nkru watch …, /nkru audit
        add_subscribe_commands(self, responder)  # /nkru subscribe, subscriptions, unsubscribe

    @app_commands.command(description="The latest stories, of every theme or of one")
    @app_commands.describe(
        theme="Only this watchlist theme", n=f"How many stories (1–{LATEST_MAX})"
    )
    async def latest(
        self,
        interaction: Interaction,
        theme: str | None = None,
        n: app_commands.Range[int, 1, LATEST_MAX] | None = None,
    ) -> None:
        """`/nkru latest [theme] [n]`."""
        await self.responder.run(interaction, "latest", _args(theme, n))

    @app_commands.command(
        description='Stored articles with every word (any form) and "phrase", best match first'
    )
    @app_commands.describe(words="Words to look for, in any language")
    async def search(self, interaction: Interaction, words: str) -> None:
        """`/nkru search <words>`."""
        await self.responder.run(interaction, "search", tuple(words.split()))

    @app_commands.command(description="The watchlist's themes")
    async def themes(self, interaction: Interaction) -> None:
        """`/nkru themes`."""
        await self.responder.run(interaction, "themes", ())

    @app_commands.command(description="A digest of this channel's themes")
    @app_commands.describe(since="The period it covers, e.g. 24h or 3d")
    async def digest(self, interaction: Interaction, since: str | None = None) -> None:
        """`/nkru digest [since]`."""
        await self.responder.run(interaction, "digest", _args(since))

    @app_commands.command(description="Feeds, deliveries and mutes at a glance")
    async def status(self, interaction: Interaction) -> None:
        """`/nkru status`."""
        await self.responder.run(interaction, "status", ())

    @app_commands.command(description="Silence a theme here for a while; alone, list the mutes")
    @app_commands.describe(theme="The theme to silence", duration="For how long, e.g. 2h or 1d")
    async def mute(
        self, interaction: Interaction, theme: str | None = None, duration: str | None = None
    ) -> None:
        """`/nkru mute <theme> <duration>`, or `/nkru mute` for the list."""
        await self.responder.run(interaction, "mute", _args(theme, duration))

    @app_commands.command(description="Hear about a muted theme again")
    @app_commands.describe(theme="The theme to unmute")
    async def unmute(self, interaction: Interaction, theme: str) -> None:
        """`/nkru unmute <theme>`."""
        await self.responder.run(interaction, "unmute", (theme,))

    @app_commands.command(description="A one-time sign-in link to the web panel, for you alone")
    async def web(self, interaction: Interaction) -> None:
        """`/nkru web` (the answer is ephemeral, as every private answer)."""
        await self.responder.run(interaction, "web", ())

    @app_commands.command(name="help", description="What each command does")
    async def help_(self, interaction: Interaction) -> None:
        """`/nkru help`."""
        await self.responder.run(interaction, "help", ())

    @latest.autocomplete("theme")
    @mute.autocomplete("theme")
    @unmute.autocomplete("theme")
    async def theme_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Themes whose slug or title contains what the user has typed so far."""
        return theme_choices(self.catalog(), current)


async def on_tree_error(interaction: Interaction, error: app_commands.AppCommandError) -> None:
    """Options Discord let through but discord.py could not convert: tell the caller privately."""
    log.warning("/nkru failed before reaching the core: %s", error)
    if interaction.response.is_done():
        return
    await interaction.response.send_message(
        embed=discord.Embed(
            title="That did not work",
            description=text.safe_markdown(str(error), 1000),
            colour=ERROR_COLOUR,
        ),
        ephemeral=True,
        allowed_mentions=no_mentions(),
    )
