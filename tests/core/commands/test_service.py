"""The dispatcher: help, unknown commands, usage errors, internal failures, new commands."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from sqlalchemy import text as sql

from bot.core.commands.args import NoArgs, no_args
from bot.core.commands.builtin import builtin_commands
from bot.core.commands.model import Invocation, Reply, ThemeCatalog
from bot.core.commands.registry import Command, Context, UsageError
from bot.core.commands.service import CommandService
from tests.core.commands.conftest import ANA, CHANNEL, TROOPS, World, titles

NAMES = [
    "latest", "search", "themes", "digest", "status", "mute", "unmute",
    "watch", "feeds", "subscribe", "subscriptions", "unsubscribe", "audit", "web", "help",
]  # fmt: skip


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
async def test_help_and_a_bare_nkru_list_every_command_with_one_line(
    world: World, text: str
) -> None:
    reply = await world.run(text)

    assert (reply.title, reply.ephemeral, reply.error) == ("nkru commands", True, False)
    assert [line.split()[1] for line in reply.lines] == NAMES
    assert "/nkru latest [theme] [n] — the newest stories" in reply.lines[0]
    assert all(" — " in line for line in reply.lines)


async def test_help_for_one_command(world: World) -> None:
    reply = await world.run("help mute")
    assert reply.title == "/nkru mute <theme> <duration>"
    assert reply.lines[0].startswith("silence a theme in this channel")


async def test_an_unknown_command_names_the_real_ones(world: World) -> None:
    reply = await world.run("lastest 5")

    assert (reply.ephemeral, reply.error) == (True, True)
    assert reply.title == f"unknown command 'lastest'; try: {', '.join(NAMES)}"


async def test_themes_lists_the_catalog_with_descriptions(world: World) -> None:
    reply = await world.run("themes")

    assert (reply.title, reply.ephemeral) == ("Themes", True)
    assert len(reply.lines) == 8
    assert reply.lines[1] == (
        "arms-transfers (Arms transfers): Munitions, missiles and weapons moving between "
        "North Korea and Russia"
    )
    world.catalog = ThemeCatalog()  # a watchlist reload is seen by the next command
    assert (await world.run("themes")).lines == ("No watchlist themes are loaded.",)


async def test_slack_text_and_discord_options_reach_the_same_parser(news: World) -> None:
    slack = await news.run("LATEST 1 troops")
    # Discord passes typed options; an unset optional one may arrive as an empty string.
    discord = await news.service.handle(Invocation(ANA, CHANNEL, "latest", ("troops", "", "1")))
    phrase = await news.call("search", "Kursk region")

    assert titles(slack) == titles(discord) == titles(phrase) == [TROOPS[0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latest nukes", "unknown theme 'nukes'"),
        ("latest 0", "n must be between 1 and 20"),
        ("latest -3", "n must be between 1 and 20"),
        ("latest 2 3", "give at most one number"),
        ("latest troops summits", "give at most one theme"),
        ("search", "give at least one word to search for"),
        ('search ""', "give at least one word to search for"),
        ("themes all", "unexpected 'all'"),
        ("status now", "unexpected 'now'"),
        ("digest yesterday", "'yesterday' is not a duration: write e.g. 90m, 24h or 3d"),
        ("digest 10s", "'10s' is too short: at least 1m"),
        ("digest 60d", "'60d' is too long: at most 30d"),
        ("digest 1h 2h", "give one period, e.g. 24h"),
        ("help me please", "help takes at most one command name"),
        ("help nope", "unknown command 'nope'"),
    ],
)
async def test_bad_arguments_get_an_ephemeral_usage_error(
    world: World, text: str, message: str
) -> None:
    reply = await world.run(text)

    assert (reply.title, reply.ephemeral, reply.error) == (message, True, True)
    command = text.split()[0]
    synopsis = builtin_commands().get(command)
    assert synopsis is not None
    assert reply.lines[-1] == f"usage: {synopsis.synopsis}"
    assert reply.stories == () and reply.digest is None


async def test_an_internal_failure_is_logged_and_answered_without_details(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    broken = CommandService(
        world.store,
        lambda: (_ for _ in ()).throw(RuntimeError("catalog exploded")),
        [],
        world.clock,
    )

    with caplog.at_level(logging.ERROR, logger="bot.core.commands.service"):
        reply = await broken.handle(Invocation(ANA, CHANNEL, "latest"))

    assert (reply.ephemeral, reply.error) == (True, True)
    assert reply.title == "something went wrong running /nkru latest"
    assert "exploded" not in " ".join((reply.title, *reply.lines))
    [record] = caplog.records
    assert record.exc_info is not None and "catalog exploded" in str(record.exc_info[1])
    assert "/nkru latest failed (U01 in slack:C0123)" in record.getMessage()


async def test_a_database_failure_is_answered_not_raised(world: World) -> None:
    async with world.store.transaction() as conn:
        await conn.connection.execute(
            sql("DROP TABLE mutes")
        )  # an outage, as far as `mute` can tell

    reply = await world.run("mute troops 1h")

    assert (reply.title, reply.error) == ("something went wrong running /nkru mute", True)


async def echo_words(ctx: Context, args: tuple[str, ...]) -> Reply:
    return Reply(f"{ctx.invocation.command}: {' '.join(args)}")


def parse_words(words: Sequence[str], _catalog: ThemeCatalog) -> tuple[str, ...]:
    if not words:
        raise UsageError("say something")
    return tuple(words)


async def admin_only(ctx: Context, _args: NoArgs) -> Reply:
    raise UsageError("only admins may audit")


async def test_new_commands_join_the_same_registry(world: World) -> None:
    commands = builtin_commands()
    commands.add(Command("follow", "<words>", "follow words (admin)", parse_words, echo_words))
    commands.add(Command("whodid", "", "who changed what (admin)", no_args, admin_only))
    service = CommandService(world.store, world.matcher.catalog, [], world.clock, commands=commands)

    said = await service.handle(Invocation(ANA, CHANNEL, "follow", ("Rason", "port")))
    refused = await service.handle(Invocation(ANA, CHANNEL, "whodid"))
    empty = await service.handle(Invocation(ANA, CHANNEL, "follow"))
    listed = await service.handle(Invocation(ANA, CHANNEL, "help"))

    assert said.title == "follow: Rason port"
    assert (refused.title, refused.error, refused.ephemeral) == (
        "only admins may audit",
        True,
        True,
    )
    assert empty.lines == ("usage: /nkru follow <words>",)
    assert [line.split()[1] for line in listed.lines] == [*NAMES, "follow", "whodid"]
    with pytest.raises(ValueError, match="already registered"):
        commands.add(Command("latest", "", "again", no_args, admin_only))
