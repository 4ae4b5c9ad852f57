"""`CommandService`: the platform-neutral `/nkru` dispatcher every adapter awaits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.commands.admin import AdminPolicy, Refused, refusal
from bot.core.commands.args import words_of
from bot.core.commands.builtin import builtin_commands
from bot.core.commands.model import CommandHandler, Invocation, Reply, ThemeCatalog
from bot.core.commands.registry import Context, Registry, UsageError
from bot.core.commands.usage import internal_error, unknown_command, usage_error
from bot.core.repositories import Database
from bot.core.routing import Route

log = logging.getLogger(__name__)
DEFAULT_COMMAND = "help"  # what a bare `/nkru` runs


class CommandService:
    """Parses and runs one invocation; user mistakes and failures become ephemeral replies.

    `catalog` and `now` are called once per invocation: the watchlist may be reloaded while
    the bot runs, and one invocation should see one catalog and one moment.
    """

    def __init__(
        self,
        store: Database,
        catalog: Callable[[], ThemeCatalog],
        routes: Sequence[Route],
        now: Callable[[], datetime],
        *,
        commands: Registry | None = None,
        admin: AdminPolicy | None = None,
        services: Sequence[object] = (),
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.routes = routes
        self.now = now
        self.commands = commands if commands is not None else builtin_commands()
        self.admin = admin or AdminPolicy()
        # Looked up by type from commands (Context.service), so each is optional.
        self.services: dict[type, object] = {type(service): service for service in services}

    async def handle(self, invocation: Invocation) -> Reply:
        """Answer the invocation; never raises for user input."""
        name = invocation.command.strip().casefold() or DEFAULT_COMMAND
        command = self.commands.get(name)
        if command is None:
            return unknown_command(name, self.commands)
        try:
            context = self._context(invocation)
            args = command.parse(words_of(invocation.args), context.catalog)
            return await command.run(context, args)
        except UsageError as error:
            return usage_error(command, error)
        except Refused as error:
            return refusal(error)
        except Exception:
            # Not the caller's fault: keep the traceback in the log, out of the channel.
            log.exception(
                "/nkru %s failed (%s in %s)",
                name,
                invocation.caller.user_id,
                invocation.destination,
            )
            return internal_error(name)

    def _context(self, invocation: Invocation) -> Context:
        return Context(
            store=self.store,
            catalog=self.catalog(),
            routes=self.routes,
            now=self.now(),
            invocation=invocation,
            commands=self.commands,
            admin=self.admin,
            services=self.services,
        )


if TYPE_CHECKING:
    _implements: type[CommandHandler] = CommandService  # mypy checks the adapters' contract
