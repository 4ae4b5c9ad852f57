"""`nkru latest`, `nkru search` and `nkru status`: the chat's commands of those names at the
terminal.

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
            metavar="[THEME]",
            help="Only the stories that matched this watchlist theme (`nkru watchlist show`)",
        ),
    ] = None,
    theme_option: Annotated[
        str | None, typer.Option("--theme", "-t", metavar="THEME", help="The same, as an option")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every stored story, matched or not")
    ] = False,
    n: Annotated[int, typer.Option("-n", min=1, max=100, help="How many stories")] = 10,
) -> None:
    """The latest stories that matched the watchlist (one theme's, or with --all every stored
    story), with every outlet that reported them and the themes they matched."""
    if theme and theme_option and theme != theme_option:
        raise UserError(f"two themes given ({theme}, {theme_option}): give one")
    chosen = theme or theme_option
    if chosen and every:
        raise UserError("give a theme or --all, not both")
    from bot.core.commands.args import EVERY_STORY

    # The words as a chat user would type them (`latest 10`, `latest troops 30`, `latest all`);
    # -n is also the limit, so the chat's maximum of 20 does not apply here.
    words = (chosen,) if chosen else (EVERY_STORY,) if every else ()
    await answer("latest", (*words, str(n)), n)


@run_async
async def status() -> None:
    """Feed health, the last poll, alerts waiting and deliveries that gave up: the facts of
    `/nkru status`, from the same command service."""
    await answer("status", (), None)


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


async def answer(command: str, words: tuple[str, ...], limit: int | None) -> None:
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
