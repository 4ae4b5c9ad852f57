"""`help` and `themes`: what the bot can be asked, and what it watches for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.commands.args import NoArgs
from bot.core.commands.model import Reply, ThemeCatalog
from bot.core.commands.registry import Context, Registry, UsageError


@dataclass(frozen=True, slots=True)
class HelpArgs:
    """`help [command]`."""

    topic: str | None = None


def parse_help(words: Sequence[str], _catalog: ThemeCatalog) -> HelpArgs:
    """Nothing, or the one command to explain."""
    if len(words) > 1:
        raise UsageError("help takes at most one command name")
    return HelpArgs(words[0].casefold() if words else None)


def command_list(commands: Registry) -> tuple[str, ...]:
    """One line per command: its synopsis and what it does."""
    return tuple(f"{command.synopsis} — {command.summary}" for command in commands)


async def run_help(ctx: Context, args: HelpArgs) -> Reply:
    """Every command with one line each, or one command's synopsis."""
    if args.topic is None:
        return Reply("nkru commands", lines=command_list(ctx.commands), ephemeral=True)
    command = ctx.commands.get(args.topic)
    if command is None:
        raise UsageError(
            f"unknown command '{args.topic}'", hint=f"commands: {', '.join(ctx.commands.names())}"
        )
    return Reply(command.synopsis, lines=(command.summary,), ephemeral=True)


async def run_themes(ctx: Context, _args: NoArgs) -> Reply:
    """The watchlist's themes with their one-line descriptions, in watchlist order."""
    themes = ctx.catalog.all()
    if not themes:
        return Reply("Themes", lines=("No watchlist themes are loaded.",), ephemeral=True)
    lines = tuple(
        f"{info.slug} ({info.title}): {info.description}"
        if info.description
        else f"{info.slug} ({info.title})"
        for info in themes
    )
    return Reply("Themes", lines=lines, ephemeral=True)
