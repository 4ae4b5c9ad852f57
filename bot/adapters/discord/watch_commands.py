"""`/nkru watch …` (a subcommand group) and `/nkru audit`, added to the `/nkru` group.

As for the other subcommands, options only become the core's positional arguments; checking
them, and whether the caller may change the watchlist, is the core's job (bot.core.commands.
watch), so Slack and Discord answer alike. Terms with spaces go in double quotes inside the
`terms` option (`"Tumannaya River" Rason`), exactly as typed after `/nkru watch add` on Slack.
"""

from __future__ import annotations

from discord import app_commands

from bot.adapters.discord.render import CatalogSource, catalog_getter, theme_choices
from bot.adapters.discord.respond import Interaction, Responder
from bot.core.commands.audit_command import AUDIT_MAX

TERMS_HELP = 'Terms separated by spaces; quote a term with spaces: "Tumannaya River" Rason'


def _args(*values: object) -> tuple[str, ...]:
    """The given options as strings, absent ones dropped."""
    return tuple(str(value) for value in values if value is not None)


def add_watch_commands(
    group: app_commands.Group, responder: Responder, catalog: CatalogSource
) -> None:
    """Add `watch …` and `audit` to the `/nkru` group."""
    group.add_command(WatchCommands(responder, catalog))
    group.add_command(audit_command(responder))


def audit_command(responder: Responder) -> app_commands.Command[app_commands.Group, ..., None]:
    """`/nkru audit [n]`."""

    @app_commands.command(name="audit", description="The latest admin actions (admins)")
    @app_commands.describe(n=f"How many entries (1–{AUDIT_MAX})")
    async def audit(
        interaction: Interaction, n: app_commands.Range[int, 1, AUDIT_MAX] | None = None
    ) -> None:
        await responder.run(interaction, "audit", _args(n))

    return audit


class WatchCommands(
    app_commands.Group, name="watch", description="See, test and edit the watchlist"
):
    """`/nkru watch list|show|test|history|add|remove|exclude|new|delete|undo`."""

    def __init__(self, responder: Responder, catalog: CatalogSource) -> None:
        super().__init__()
        self.responder = responder
        self.catalog = catalog_getter(catalog)

    async def _run(self, interaction: Interaction, *args: object) -> None:
        await self.responder.run(interaction, "watch", _args(*args))

    @app_commands.command(name="list", description="The themes, or one theme's terms")
    @app_commands.describe(theme="Only this theme's terms")
    async def list_(self, interaction: Interaction, theme: str | None = None) -> None:
        """`/nkru watch list [theme]`."""
        await self._run(interaction, "list", theme)

    @app_commands.command(description="Everything that decides whether a theme matches")
    @app_commands.describe(theme="The theme")
    async def show(self, interaction: Interaction, theme: str) -> None:
        """`/nkru watch show <theme>`."""
        await self._run(interaction, "show", theme)

    @app_commands.command(description="Which themes a text would match, and why")
    @app_commands.describe(text="A headline; add | and a summary to test both")
    async def test(self, interaction: Interaction, text: str) -> None:
        """`/nkru watch test <text>`."""
        await self._run(interaction, "test", text)

    @app_commands.command(description="The watchlist's versions, newest first")
    @app_commands.describe(theme="Only changes to this theme")
    async def history(self, interaction: Interaction, theme: str | None = None) -> None:
        """`/nkru watch history [theme]`."""
        await self._run(interaction, "history", theme)

    @app_commands.command(description="Add terms to a theme (admins)")
    @app_commands.describe(theme="The theme", terms=TERMS_HELP)
    async def add(self, interaction: Interaction, theme: str, terms: str) -> None:
        """`/nkru watch add <theme> <terms>`."""
        await self._run(interaction, "add", theme, terms)

    @app_commands.command(description="Remove terms or exclusions from a theme (admins)")
    @app_commands.describe(theme="The theme", terms=TERMS_HELP)
    async def remove(self, interaction: Interaction, theme: str, terms: str) -> None:
        """`/nkru watch remove <theme> <terms>`."""
        await self._run(interaction, "remove", theme, terms)

    @app_commands.command(description="Terms that stop a theme from matching (admins)")
    @app_commands.describe(theme="The theme", terms=TERMS_HELP)
    async def exclude(self, interaction: Interaction, theme: str, terms: str) -> None:
        """`/nkru watch exclude <theme> <terms>`."""
        await self._run(interaction, "exclude", theme, terms)

    @app_commands.command(description="Create a theme (admins)")
    @app_commands.describe(slug="Lower-case words and hyphens, e.g. kaesong", title="Its title")
    async def new(self, interaction: Interaction, slug: str, title: str) -> None:
        """`/nkru watch new <slug> <title>`."""
        await self._run(interaction, "new", slug, title)

    @app_commands.command(description="Delete a theme (admins)")
    @app_commands.describe(slug="The theme to delete")
    async def delete(self, interaction: Interaction, slug: str) -> None:
        """`/nkru watch delete <slug>`."""
        await self._run(interaction, "delete", slug)

    @app_commands.command(description="Go back to the previous version, or to one (admins)")
    @app_commands.describe(version="The version to restore (default: the one before)")
    async def undo(
        self, interaction: Interaction, version: app_commands.Range[int, 1] | None = None
    ) -> None:
        """`/nkru watch undo [version]`."""
        await self._run(interaction, "undo", version)

    @list_.autocomplete("theme")
    @show.autocomplete("theme")
    @history.autocomplete("theme")
    @add.autocomplete("theme")
    @remove.autocomplete("theme")
    @exclude.autocomplete("theme")
    @delete.autocomplete("slug")
    async def theme_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Themes whose slug or title contains what the user has typed so far."""
        return theme_choices(self.catalog(), current)
