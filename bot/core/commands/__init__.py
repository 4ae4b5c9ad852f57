"""`/nkru` commands, implemented once for every platform (see `model` for the contract).

Adapters build an `Invocation` and await `bot.core.commands.service.CommandService.handle`;
`bot.core.commands.builtin.builtin_commands` is the registry later commands are added to.

This package re-exports only the contract: `model` is imported from low in the core (theme
catalogs, digests), and pulling the service (storage, digests) in here would make those
imports circular.
"""

from bot.core.commands.model import (
    Caller,
    CommandHandler,
    Invocation,
    Reply,
    StoryLine,
    ThemeCatalog,
    ThemeInfo,
)

__all__ = [
    "Caller",
    "CommandHandler",
    "Invocation",
    "Reply",
    "StoryLine",
    "ThemeCatalog",
    "ThemeInfo",
]
