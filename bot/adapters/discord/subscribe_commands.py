"""`/nkru subscribe`, `/nkru subscriptions` and `/nkru unsubscribe`, added to the `/nkru` group.

Options only become the core's words, in the core's order (bot.core.commands.subscribe_args):
themes, the mode (with the crontab for a digest), the minimum score, the quiet hours and their
time zone. Checking them, and whether the caller is an admin, is the core's job.
"""

from __future__ import annotations

from typing import Literal

from discord import app_commands

from bot.adapters.discord.respond import Interaction, Responder


def _args(*values: object) -> tuple[str, ...]:
    """The given options as strings, absent ones dropped."""
    return tuple(str(value) for value in values if value is not None)


def add_subscribe_commands(group: app_commands.Group, responder: Responder) -> None:
    """Add `subscribe`, `subscriptions` and `unsubscribe` to the `/nkru` group."""

    @app_commands.command(name="subscribe", description="Route alerts or a digest here (admins)")
    @app_commands.describe(
        themes="Theme slugs separated by spaces (default: every theme)",
        mode="instant alerts (default) or a digest",
        cron="Digest only: when, as five crontab fields in UTC, e.g. 0 8 * * *",
        min_score="Only matches scoring at least this",
        quiet_hours="Instant only: hold alerts during e.g. 22:00-07:00",
        timezone="Of the quiet hours, e.g. Europe/Berlin (default UTC)",
    )
    async def subscribe(
        interaction: Interaction,
        themes: str | None = None,
        mode: Literal["instant", "digest"] | None = None,
        cron: str | None = None,
        min_score: app_commands.Range[float, 0] | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> None:
        # A crontab without `digest` is passed as it is: the core says what is wrong with it.
        words = _args(themes, mode, cron, min_score, quiet_hours, timezone)
        await responder.run(interaction, "subscribe", words)

    @app_commands.command(name="subscriptions", description="Every route (admins)")
    @app_commands.describe(undo="Undo this channel's last subscription change")
    async def subscriptions(interaction: Interaction, undo: bool = False) -> None:
        await responder.run(interaction, "subscriptions", ("undo",) if undo else ())

    @app_commands.command(
        name="unsubscribe", description="End this channel's subscription (admins)"
    )
    async def unsubscribe(interaction: Interaction) -> None:
        await responder.run(interaction, "unsubscribe", ())

    group.add_command(subscribe)
    group.add_command(subscriptions)
    group.add_command(unsubscribe)
