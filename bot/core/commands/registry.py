"""The command registry: each `/nkru` command's name, usage, parser and runner.

Parsing (words → typed arguments, pure) is kept apart from running (typed arguments → Reply,
with the database), so Slack's free text and Discord's typed options meet at the same parser
and every command is dispatched the same way. Later commands (`watch …`, `feeds …`, `audit`)
are added with `Registry.add`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.core.commands.model import Invocation, Reply, ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.repositories import Database
from bot.core.routing import Route

A = TypeVar("A")
S = TypeVar("S")


class UsageError(Exception):
    """The caller's arguments are wrong; `hint` adds a line (e.g. the known themes)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Context:
    """What a command runs with: one snapshot of the catalog and the clock per invocation."""

    store: Database
    catalog: ThemeCatalog
    routes: Sequence[Route]
    now: datetime
    invocation: Invocation
    commands: Registry
    admin: AdminPolicy = field(default_factory=AdminPolicy)
    # Services the admin commands need (watchlist editing, feed adding…), looked up by type.
    services: Mapping[type, object] = field(default_factory=dict)

    def service(self, kind: type[S]) -> S:
        """The configured service of this type; LookupError if the bot was built without it."""
        found = self.services.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"{kind.__name__} is not configured in this process")
        return found


@dataclass(frozen=True, slots=True)
class Command(Generic[A]):
    """One command: `parse` turns its words into `A` (or raises UsageError), `run` answers."""

    name: str
    usage: str  # the arguments, e.g. "[theme] [n]"
    summary: str  # one line for `help`
    parse: Callable[[Sequence[str], ThemeCatalog], A]
    run: Callable[[Context, A], Awaitable[Reply]]

    @property
    def synopsis(self) -> str:
        """`/nkru latest [theme] [n]`."""
        return f"/nkru {self.name} {self.usage}".rstrip()


class Registry:
    """Commands by name, in the order they were added (the order `help` lists them)."""

    def __init__(self, commands: Sequence[Command[Any]] = ()) -> None:
        self._commands: dict[str, Command[Any]] = {}
        for command in commands:
            self.add(command)

    def add(self, command: Command[Any]) -> None:
        """Register a command; a name can be taken once."""
        if command.name in self._commands:
            raise ValueError(f"command {command.name!r} is already registered")
        self._commands[command.name] = command

    def get(self, name: str) -> Command[Any] | None:
        """The command with this name, if any."""
        return self._commands.get(name)

    def names(self) -> list[str]:
        """Every command name, in order."""
        return list(self._commands)

    def __iter__(self) -> Iterator[Command[Any]]:
        return iter(self._commands.values())
