"""The replies for requests that go wrong: usage errors, unknown commands, internal failures.

All are ephemeral (only the caller sees them) and flagged as errors.
"""

from __future__ import annotations

from typing import Any

from bot.core.commands.model import Reply
from bot.core.commands.registry import Command, Registry, UsageError
from bot.core.commands.text import clip


def usage_error(command: Command[Any], error: UsageError) -> Reply:
    """What was wrong, the hint if any, and the command's usage line."""
    lines = (
        (error.hint, f"usage: {command.synopsis}")
        if error.hint
        else (f"usage: {command.synopsis}",)
    )
    return Reply(error.message, lines=lines, ephemeral=True, error=True)


def unknown_command(name: str, commands: Registry) -> Reply:
    """`unknown command 'x'; try: latest, search, …`."""
    return Reply(
        f"unknown command '{clip(name, 40)}'; try: {', '.join(commands.names())}",
        lines=("/nkru help explains each in one line",),
        ephemeral=True,
        error=True,
    )


def internal_error(name: str) -> Reply:
    """A bug or an outage: say so without details (they are in the log, not in the channel)."""
    return Reply(
        f"something went wrong running /nkru {name}",
        lines=("The error was logged for the operators; please try again later.",),
        ephemeral=True,
        error=True,
    )
