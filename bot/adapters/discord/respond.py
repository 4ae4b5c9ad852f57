"""Answering one slash command in time, with the right visibility.

Discord wants an interaction answered within 3 seconds, and the visibility of a deferred answer
is fixed when deferring: the first followup after a defer keeps the defer's flag. Yet only the
core knows whether a reply is ephemeral (errors and refusals are, most answers are not). So the
handler gets `defer_after` seconds: if it answers in time (the usual case, and always for usage
errors) the reply goes out directly with its own visibility. If not, we defer, guessing the
visibility from the command; when the guess was wrong the "thinking…" message is deleted before
the followups, so they keep their own flag.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.adapters.discord import api, render
from bot.adapters.discord.errors import NETWORK_ERRORS
from bot.core.commands.model import Caller, CommandHandler, Invocation, Reply

log = logging.getLogger(__name__)
DEFER_AFTER = 1.5  # seconds; Discord's 3 s include the gateway and callback round trips
# Commands the core answers privately (when this file was written): only a guess for slow
# answers, corrected by deleting the "thinking…" message when the reply says otherwise.
EPHEMERAL_COMMANDS = frozenset({"search", "themes", "status", "help", "audit"})
# Subcommands answered privately: the read-only ones (changes are announced in the channel).
EPHEMERAL_SUBCOMMANDS = {
    "watch": frozenset({"list", "show", "test", "history"}),
    "feeds": frozenset({"list", "status"}),
}


def answered_privately(command: str, args: tuple[str, ...]) -> bool:
    """The guess for a deferred answer: will the core's reply be ephemeral?"""
    if command in EPHEMERAL_SUBCOMMANDS:
        return bool(args) and args[0] in EPHEMERAL_SUBCOMMANDS[command]
    return command in EPHEMERAL_COMMANDS


Interaction = discord.Interaction[discord.Client]


def caller_of(interaction: Interaction) -> Caller:
    """The platform facts about who typed the command: id, name, role ids, manage_guild."""
    user = interaction.user
    roles = (
        frozenset(str(role.id) for role in user.roles if not role.is_default())
        if isinstance(user, discord.Member)
        else frozenset()
    )
    perms = interaction.permissions
    admin = perms.manage_guild or perms.administrator
    return Caller(
        "discord",
        str(user.id),
        user.name,
        roles=roles,
        permissions=frozenset({"manage_guild"}) if admin else frozenset(),
    )


def invocation_of(interaction: Interaction, command: str, args: tuple[str, ...]) -> Invocation:
    """The core's view of one slash command."""
    return Invocation(caller_of(interaction), f"discord:{interaction.channel_id}", command, args)


class Responder:
    """Runs invocations through the core handler and answers the interaction."""

    def __init__(
        self,
        handler: CommandHandler,
        catalog: render.CatalogSource,
        *,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self.handler = handler
        self.catalog = render.catalog_getter(catalog)
        self.defer_after = defer_after

    async def run(self, interaction: Interaction, command: str, args: tuple[str, ...]) -> None:
        """Answer `/nkru <command> <args>`; Discord failures are logged, never raised."""
        work = asyncio.ensure_future(self._reply(invocation_of(interaction, command, args)))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.defer_after)
            if work in done:
                await self._respond(interaction, work.result())
            else:
                await self._defer_then_follow(interaction, answered_privately(command, args), work)
        except (discord.HTTPException, *NETWORK_ERRORS) as exc:  # e.g. 10062: too late
            log.warning("could not answer /nkru %s: %s", command, exc)
            await work  # the command's effects (a mute…) still complete

    async def _reply(self, invocation: Invocation) -> Reply:
        try:
            return await self.handler.handle(invocation)
        except Exception:  # a bug in a command must still get the caller an answer
            log.exception("/nkru %s failed", invocation.command)
            return Reply(
                "Something went wrong",
                lines=("The error was logged. Try again in a moment.",),
                ephemeral=True,
                error=True,
            )

    async def _respond(self, interaction: Interaction, reply: Reply) -> None:
        """In time: the first message as the interaction's response, the rest as followups."""
        first, *rest = render.reply_messages(reply, self.catalog())
        await interaction.response.send_message(
            embeds=first, ephemeral=reply.ephemeral, allowed_mentions=api.no_mentions()
        )
        await self._follow(interaction, reply, rest)

    async def _defer_then_follow(
        self, interaction: Interaction, deferred_ephemeral: bool, work: asyncio.Future[Reply]
    ) -> None:
        await interaction.response.defer(ephemeral=deferred_ephemeral, thinking=True)
        reply = await work
        if reply.ephemeral != deferred_ephemeral:
            # Resolve the loading message ourselves, else the first followup inherits its flag.
            await interaction.delete_original_response()
        await self._follow(interaction, reply, render.reply_messages(reply, self.catalog()))

    async def _follow(
        self, interaction: Interaction, reply: Reply, messages: list[render.Message]
    ) -> None:
        for embeds in messages:
            await interaction.followup.send(
                embeds=embeds, ephemeral=reply.ephemeral, allowed_mentions=api.no_mentions()
            )
