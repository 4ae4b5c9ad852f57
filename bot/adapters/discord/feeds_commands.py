"""`/nkru feeds …`: the feeds subgroup of the `/nkru` group.

Like the other subcommands, each one only turns its options into the core's words
(`feeds add <url> [name] [every <interval>]`…) and hands over to the Responder. Who may add,
remove, enable or disable a feed is decided by the core on every call, not by Discord's command
permissions.
"""

from __future__ import annotations

from discord import app_commands

from bot.adapters.discord.respond import Interaction, Responder


class FeedsCommands(
    app_commands.Group,
    name="feeds",
    description="The feeds and their health; admins add, remove, enable and disable them",
):
    """`/nkru feeds list|status|add|remove|enable|disable`."""

    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self.responder = responder

    async def _run(self, interaction: Interaction, *words: str | None) -> None:
        args = tuple(word for word in words if word is not None)
        await self.responder.run(interaction, "feeds", args)

    @app_commands.command(name="list", description="Every feed: id, name, URL, interval")
    async def list_(self, interaction: Interaction) -> None:
        """`/nkru feeds list`."""
        await self._run(interaction, "list")

    @app_commands.command(description="Each feed: ok, failing or disabled, last poll, items")
    async def status(self, interaction: Interaction) -> None:
        """`/nkru feeds status`."""
        await self._run(interaction, "status")

    @app_commands.command(description="Add a feed (admins): it is fetched once and checked first")
    @app_commands.describe(
        url="The RSS, Atom or JSON Feed address (http or https)",
        name="How alerts name it (default: the feed's own title)",
        every="How often to poll it, from 1m to 7d, e.g. 15m or 2h (default: NKRU_POLL_INTERVAL)",
    )
    async def add(
        self,
        interaction: Interaction,
        url: str,
        name: str | None = None,
        every: str | None = None,
    ) -> None:
        """`/nkru feeds add <url> [name] [every <interval>]`."""
        interval = ("every", every) if every else ()
        await self._run(interaction, "add", url, name, *interval)

    @app_commands.command(description="Remove a feed (admins); its articles stay searchable")
    @app_commands.describe(feed="The feed's id (see /nkru feeds list) or URL")
    async def remove(self, interaction: Interaction, feed: str) -> None:
        """`/nkru feeds remove <id|url>`."""
        await self._run(interaction, "remove", feed)

    @app_commands.command(description="Poll a disabled feed again (admins)")
    @app_commands.describe(feed="The feed's id (see /nkru feeds list) or URL")
    async def enable(self, interaction: Interaction, feed: str) -> None:
        """`/nkru feeds enable <id|url>`."""
        await self._run(interaction, "enable", feed)

    @app_commands.command(description="Stop polling a feed without removing it (admins)")
    @app_commands.describe(feed="The feed's id (see /nkru feeds list) or URL")
    async def disable(self, interaction: Interaction, feed: str) -> None:
        """`/nkru feeds disable <id|url>`."""
        await self._run(interaction, "disable", feed)
