"""`/nkru` slash commands: real INTERACTION_CREATE payloads into a logged-in DiscordBot.

Payloads go through `ConnectionState.parse_interaction_create`, what the gateway calls, so the
command tree, option parsing, interaction responses and followups are discord.py's own code;
the fake records what Discord would show the user (and to whom).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.adapters.discord import DiscordBot, api, start_discord_bot
from bot.adapters.discord.render import reply_messages
from bot.core.commands.model import Invocation, Reply, StoryLine
from tests.adapters.discord.factories import ARMS, CATALOG, NOW, handled
from tests.adapters.discord.payloads import (
    CHANNEL,
    GUILD,
    MANAGE_GUILD,
    MOD_ROLE,
    SEND_AND_VIEW,
    USER,
    guild_create,
    slash_command,
)
from tests.fakes.discord_api import APP_ID, TOKEN, FakeDiscord, InteractionState, error


class Handler:
    """A CommandHandler that records invocations and answers as the test says."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.reply = Reply("Done")
        self.delay = 0.0
        self.crash = False

    async def handle(self, invocation: Invocation) -> Reply:
        self.invocations.append(invocation)
        await asyncio.sleep(self.delay)
        if self.crash:
            raise RuntimeError("boom")
        return self.reply


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
async def bot(fake: FakeDiscord, handler: Handler) -> AsyncIterator[DiscordBot]:
    client = DiscordBot(handler, CATALOG, defer_after=0.2, network=fake.network())
    await api.login(client, TOKEN)  # syncs the command tree in setup_hook
    # internal: no public way to feed a gateway event (the `guilds` intent's first) without one
    client._connection.parse_guild_create(guild_create())
    yield client
    await client.shutdown()


async def invoke(
    bot: DiscordBot,
    fake: FakeDiscord,
    subcommand: str,
    options: dict[str, str | int] | None = None,
    *,
    messages: int = 1,
    **kwargs: object,
) -> InteractionState:
    """Deliver `/nkru <subcommand>` as the gateway would; its handling ends with `messages`
    answers shown (at least)."""
    payload, state = slash_command(fake, subcommand, options, **kwargs)  # type: ignore[arg-type]
    await handled(bot, payload)
    assert len(state.shown) >= messages, state.shown
    return state


def callback_bodies(fake: FakeDiscord, state: InteractionState) -> list[dict[str, object]]:
    return [r.body for r in fake.calls("POST", f"/interactions/{state.id}/{state.token}/callback")]


async def test_commands_are_registered_as_one_group(fake: FakeDiscord, bot: DiscordBot) -> None:
    (put,) = fake.calls("PUT", f"/applications/{APP_ID}/commands")
    assert put.status == 200 and fake.rejected == []
    (group,) = fake.commands[None]
    subcommands = {option["name"]: option for option in group["options"]}
    assert group["name"] == "nkru" and group["dm_permission"] is False  # server channels only
    assert set(subcommands) == {
        "latest", "search", "themes", "digest", "status", "mute", "unmute", "web", "help",
        "watch", "feeds", "audit", "subscribe", "subscriptions", "unsubscribe",
    }  # fmt: skip
    subscribe = {option["name"]: option for option in subcommands["subscribe"]["options"]}
    assert list(subscribe) == ["themes", "mode", "cron", "min_score", "quiet_hours", "timezone"]
    assert [c["value"] for c in subscribe["mode"]["choices"]] == ["instant", "digest"]
    assert (subscribe["min_score"]["type"], subscribe["min_score"]["min_value"]) == (10, 0)
    # watch and feeds are subcommand groups of their own (Discord nests at most two levels)
    assert {o["name"] for o in subcommands["watch"]["options"]} >= {"add", "remove", "undo"}
    latest = {option["name"]: option for option in subcommands["latest"]["options"]}
    assert latest["theme"]["autocomplete"] is True
    assert (latest["n"]["type"], latest["n"]["min_value"], latest["n"]["max_value"]) == (4, 1, 20)
    assert subcommands["search"]["options"][0]["required"] is True


async def test_public_answer_with_the_caller_as_the_core_needs_it(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.reply = Reply(
        "Latest stories",
        stories=(StoryLine(7, "KN-23 <@&456> shipment", "https://news.example/a", "Yonhap", NOW,
                           ("TASS",), (ARMS,)),),
    )  # fmt: skip

    state = await invoke(
        bot,
        fake,
        "latest",
        {"theme": "arms-transfers", "n": 5},
        roles=[MOD_ROLE],
        permissions=SEND_AND_VIEW | MANAGE_GUILD,
    )

    (invocation,) = handler.invocations
    assert invocation.command == "latest" and invocation.args == ("arms-transfers", "5")
    assert invocation.destination == f"discord:{CHANNEL}"
    caller = invocation.caller
    assert (caller.platform, caller.user_id, caller.user_name) == ("discord", str(USER), "analyst")
    assert caller.roles == {str(MOD_ROLE)} and caller.permissions == {"manage_guild"}
    (callback,) = callback_bodies(fake, state)
    assert callback["type"] == 4 and not callback["data"].get("flags", 0) & 64
    assert callback["data"]["allowed_mentions"] == {"parse": []}
    ((ephemeral, message),) = state.shown
    assert not ephemeral
    description = message["embeds"][0]["description"]
    assert "[KN-23 <\u200b@&456> shipment](https://news.example/a)" in description
    assert "Arms transfers" in description and "TASS" in description


async def test_usage_error_is_answered_privately(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.reply = Reply("'abc' is not a duration", ephemeral=True, error=True)

    state = await invoke(bot, fake, "mute", {"theme": "arms-transfers", "duration": "abc"})

    (callback,) = callback_bodies(fake, state)
    assert callback["type"] == 4 and callback["data"]["flags"] == 64
    ((ephemeral, message),) = state.shown
    assert ephemeral and message["embeds"][0]["color"] == 0xED4245
    assert handler.invocations[0].args == ("arms-transfers", "abc")


async def test_member_without_roles_or_manage_guild(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    await invoke(bot, fake, "status")

    caller = handler.invocations[0].caller
    assert caller.roles == frozenset() and caller.permissions == frozenset()


async def test_options_become_the_core_arguments(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    await invoke(bot, fake, "search", {"words": " Tumen   bridge "})
    await invoke(bot, fake, "mute")
    await invoke(bot, fake, "latest", {"n": 3})
    await invoke(bot, fake, "digest", {"since": "3d"})
    await invoke(bot, fake, "help")

    assert [(i.command, i.args) for i in handler.invocations] == [
        ("search", ("Tumen", "bridge")),
        ("mute", ()),
        ("latest", ("3",)),
        ("digest", ("3d",)),
        ("help", ()),
    ]


async def test_slow_public_answer_is_deferred_then_followed_up(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.delay = 0.5

    state = await invoke(bot, fake, "latest")

    (callback,) = callback_bodies(fake, state)
    assert callback == {"type": 5}  # public "thinking…", sent before the 3 s deadline
    assert [ephemeral for ephemeral, _ in state.shown] == [False]
    assert fake.calls("DELETE", "/webhooks/*") == []


async def test_slow_error_after_a_public_defer_stays_private(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.delay = 0.5
    handler.reply = Reply("unknown theme 'nope'", ephemeral=True, error=True)

    state = await invoke(bot, fake, "latest", {"theme": "nope"})

    assert callback_bodies(fake, state) == [{"type": 5}]
    (delete,) = fake.calls("DELETE", f"/webhooks/{APP_ID}/{state.token}/messages/@original")
    assert delete.status == 204
    assert [ephemeral for ephemeral, _ in state.shown] == [True]


async def test_slow_private_command_is_deferred_privately(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.delay = 0.5
    handler.reply = Reply("Status", lines=("12 feeds ok",), ephemeral=True)

    state = await invoke(bot, fake, "status")

    assert callback_bodies(fake, state) == [{"type": 5, "data": {"flags": 64}}]
    assert [ephemeral for ephemeral, _ in state.shown] == [True]
    assert fake.calls("DELETE", "/webhooks/*") == []


async def test_long_reply_is_split_into_valid_messages(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.reply = Reply("Search", lines=tuple(f"{n}: " + "word " * 30 for n in range(400)))
    expected = len(reply_messages(handler.reply, CATALOG))

    state = await invoke(bot, fake, "search", {"words": "word"}, messages=expected)

    assert expected > 1 and fake.rejected == []
    assert len(state.shown) == expected and not any(ephemeral for ephemeral, _ in state.shown)
    text = "\n".join(e["description"] for _, m in state.shown for e in m["embeds"])
    assert all(f"\n{n}: " in "\n" + text for n in range(400))


async def test_theme_autocomplete_offers_catalog_themes(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    payload, state = slash_command(fake, "latest", {"theme": "ARM"}, focused="theme")

    await handled(bot, payload)

    assert state.callback_type == 8
    assert state.choices == [{"name": "Arms transfers (arms-transfers)", "value": "arms-transfers"}]
    assert handler.invocations == []


async def test_a_crashing_command_gets_a_private_apology(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.crash = True

    state = await invoke(bot, fake, "status")

    ((ephemeral, message),) = state.shown
    assert ephemeral and message["embeds"][0]["title"] == "Something went wrong"


async def test_hostile_reply_text_pings_nobody(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler
) -> None:
    handler.reply = Reply("@everyone", lines=("<@123> and <@&456> @here **x**",), footer="<#789>")

    state = await invoke(bot, fake, "themes")

    ((_, message),) = state.shown
    (embed,) = message["embeds"]
    assert embed["title"] == "@\u200beveryone"
    assert embed["description"] == "<\u200b@123> and <\u200b@&456> @\u200bhere \\*\\*x\\*\\*"
    assert embed["footer"]["text"] == "<\u200b#789>"


async def test_guild_commands_when_a_guild_id_is_set(fake: FakeDiscord, handler: Handler) -> None:
    bot = await start_discord_bot(
        TOKEN, handler, CATALOG, network=fake.network(), guild_id=GUILD, connect=False
    )
    try:
        assert fake.calls("PUT", f"/applications/{APP_ID}/guilds/{GUILD}/commands")
        assert None not in fake.commands
        state = await invoke(bot, fake, "themes", guild_command=True)
    finally:
        await bot.shutdown()

    assert len(state.shown) == 1 and bot.is_closed()


async def test_an_expired_interaction_still_runs_the_command(
    fake: FakeDiscord, bot: DiscordBot, handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script("POST", "/interactions/*/*/callback", error(404, 10062, "Unknown interaction"))
    payload, state = slash_command(fake, "mute", {"theme": "troops", "duration": "1d"})

    await handled(bot, payload)
    assert fake.calls("POST", "/interactions/*/*/callback")

    assert [i.args for i in handler.invocations] == [("troops", "1d")]  # the mute happened
    assert state.shown == []
    assert "could not answer /nkru mute" in caplog.text
