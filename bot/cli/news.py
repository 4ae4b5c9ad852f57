"""`nkru latest` and `nkru search`: the chat's `/nkru latest` and `/nkru search` at the terminal.

The same command service answers them (bot.core.commands, as on Slack and Discord): this module
only builds the `Invocation` and prints the `Reply` with rich (bot.adapters.console.reply). A
terminal is not bound by a chat message's size, so `-n` asks for as many stories as wanted
(`Invocation.limit`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli.support import UserError, console, load, login_name, run_async
from bot.core.commands.model import Caller, Invocation

DESTINATION = "console"  # where the terminal's commands are typed, as routes name it


@run_async
async def latest(
    theme: Annotated[
        str | None,
        typer.Argument(
            metavar="THEME",
            help="Only the stories that matched this watchlist theme (`nkru watchlist show`)",
        ),
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many stories")] = 10,
) -> None:
    """The latest stories, with every outlet that reported them and the themes they matched."""
    from bot.core.commands.args import EVERY_STORY

    # The words as a chat user would type them (`latest all 10`, `latest troops 30`); -n is also
    # the limit, so the chat's maximum of 20 does not apply here.
    await answer("latest", (theme or EVERY_STORY, str(n)), n)


@run_async
async def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words that must all appear, in any of their forms ("bridges" finds "bridge"), '
            'and "quoted words" in a row (quote them for the shell too)'
        ),
    ],
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many stories")] = 20,
) -> None:
    """Search stored articles (title and summary), best match first, one line per story."""
    if not query.strip():
        raise UserError("give at least one word to search for")
    await answer("search", (query,), n)


async def answer(command: str, words: tuple[str, ...], limit: int) -> None:
    """Ask the command service, as the operator at this terminal; print its reply, or its
    error as one line (exit code 2)."""
    from bot.adapters.console.reply import render_reply
    from bot.service import open_command_service

    caller = Caller("console", login_name(), login_name())
    invocation = Invocation(caller, DESTINATION, command, words, limit=limit)
    async with open_command_service(load()) as commands:
        reply = await commands.handle(invocation)
        catalog = commands.catalog()
    if reply.error:
        raise UserError(" — ".join([reply.title, *reply.lines]))
    console.print(render_reply(reply, catalog, datetime.now(UTC)))
