"""`/nkru watch …` and `/nkru audit` on Discord: INTERACTION_CREATE payloads into real discord.py.

`watch` is a subcommand group of `/nkru` (type 2 wrapping the type 1 subcommand), so the
payload nests as Discord sends it. It runs through discord.py's command tree into the real
CommandService, WatchlistEditor and store, on the default watchlist stored as version 1. Who is
an admin is decided by the core from the member's facts: the Manage Server permission Discord
computed for this channel, or a configured role. The `fake` fixture also checks that nothing
went out without `allowed_mentions: {"parse": []}` and that no message would render a mention.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import DiscordBot, api
from bot.adapters.discord.respond import DEFER_AFTER
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.routing import Route
from bot.core.watchlist_editing import LiveWatchlist
from storage.engine import Store
from tests.adapters.discord.factories import handled
from tests.adapters.discord.payloads import (
    CHANNEL,
    MANAGE_GUILD,
    MOD_ROLE,
    SEND_AND_VIEW,
    USER,
    guild_create,
    slash_command,
)
from tests.adapters.slack.test_watch_commands import (
    PONTOON,
    WATCHLIST,
    audit_outcomes,
    documents,
    live_catalog,
    open_live,
    themes_of,
    watchlist_folder,
)
from tests.fakes.discord_api import APP_ID, NO_MENTIONS, TOKEN, FakeDiscord, InteractionState

Json = dict[str, Any]
Options = dict[str, str | int]
MANAGER = SEND_AND_VIEW | MANAGE_GUILD
POLICY = AdminPolicy(discord_manage_guild=True, discord_role_ids=frozenset({str(MOD_ROLE)}))
ROLES_ONLY = AdminPolicy(discord_manage_guild=False, discord_role_ids=frozenset({str(MOD_ROLE)}))
WATCH_SUBCOMMANDS = {
    "list", "show", "test", "history", "add", "remove", "exclude", "new", "delete", "undo",
}  # fmt: skip


def watch_command(
    fake: FakeDiscord, subcommand: str, options: Options | None = None, **kw: Any
) -> tuple[Json, InteractionState]:
    """INTERACTION_CREATE for `/nkru watch <subcommand> <options>`."""
    payload, state = slash_command(fake, subcommand, options, **kw)
    inner = payload["data"]["options"]  # [{"name": subcommand, "type": 1, "options": […]}]
    payload["data"]["options"] = [{"name": "watch", "type": 2, "options": inner}]
    return payload, state


@dataclass
class Served:
    """A logged-in bot over the real core, and the stored watchlist behind it."""

    bot: DiscordBot
    fake: FakeDiscord
    store: Store
    live: LiveWatchlist

    async def deliver(self, payload: Json, state: InteractionState) -> tuple[bool, Json]:
        """Hand the payload to discord.py as the gateway would; the one message shown."""
        await handled(self.bot, payload)
        assert len(state.shown) == 1, state.shown
        ephemeral, message = state.shown[0]
        assert message["allowed_mentions"] == NO_MENTIONS
        flags = self.callback_flags(state)
        assert flags is None or bool(flags & 64) == ephemeral
        return ephemeral, message

    async def watch(
        self, subcommand: str, options: Options | None = None, **kw: Any
    ) -> tuple[bool, str, str]:
        """`/nkru watch …`: (ephemeral, first embed's title, all embeds' descriptions)."""
        ephemeral, message = await self.deliver(
            *watch_command(self.fake, subcommand, options, **kw)
        )
        return ephemeral, message["embeds"][0]["title"], described(message)

    def callback_flags(self, state: InteractionState) -> int | None:
        """The flags of the interaction's direct answer (type 4), if it was answered so."""
        path = f"/interactions/{state.id}/{state.token}/callback"
        for request in self.fake.calls("POST", path):
            if request.body.get("type") == 4:
                return int(request.body["data"].get("flags", 0))
        return None


def described(message: Json) -> str:
    return "\n".join(embed.get("description") or "" for embed in message["embeds"])


@pytest.fixture
def policy() -> AdminPolicy:
    return POLICY


@pytest.fixture
def defer_after() -> float:
    """Seconds the bot waits for the core before deferring (tests override it)."""
    return DEFER_AFTER


@pytest.fixture
async def served(
    fake: FakeDiscord, store: Store, tmp_path: Path, policy: AdminPolicy, defer_after: float
) -> AsyncIterator[Served]:
    routes = (Route(f"discord:{CHANNEL}", frozenset({"troops"})),)  # troops must stay
    live = await open_live(store, watchlist_folder(tmp_path), frozenset({"troops"}))
    service = CommandService(
        store,
        lambda: live_catalog(live),
        routes,
        lambda: datetime.now(UTC),
        admin=policy,
        services=[live.editor, live],
    )
    bot = DiscordBot(
        service, lambda: live_catalog(live), defer_after=defer_after, network=fake.network()
    )
    await api.login(bot, TOKEN)
    bot._connection.parse_guild_create(guild_create())  # internal: no gateway to send it
    try:
        yield Served(bot, fake, store, live)
    finally:
        await bot.shutdown()


async def test_watch_and_audit_are_registered(fake: FakeDiscord, served: Served) -> None:
    (group,) = fake.commands[None]
    assert fake.rejected == []
    options = {option["name"]: option for option in group["options"]}
    watch, audit = options["watch"], options["audit"]
    assert watch["type"] == 2 and audit["type"] == 1
    subcommands = {option["name"]: option for option in watch["options"]}
    assert set(subcommands) == WATCH_SUBCOMMANDS
    add = {option["name"]: option for option in subcommands["add"]["options"]}
    assert add["theme"]["required"] and add["theme"]["autocomplete"] is True
    assert add["terms"]["required"] and add["terms"]["type"] == 3
    [version] = subcommands["undo"]["options"]
    assert (version["type"], version["min_value"], version.get("required", False)) == (4, 1, False)
    [n] = audit["options"]
    assert (n["type"], n["min_value"], n["max_value"]) == (4, 1, 100)
    assert fake.calls("PUT", f"/applications/{APP_ID}/commands")


@pytest.mark.parametrize(
    ("who", "facts"),
    [("manage-server", {"permissions": MANAGER}), ("role", {"roles": [MOD_ROLE]})],
)
async def test_an_admin_adds_a_term_and_the_channel_sees_the_change(
    served: Served, who: str, facts: dict[str, Any]
) -> None:
    assert "tumen-bridge" not in themes_of(served.live, PONTOON)

    ephemeral, title, shown = await served.watch(
        "add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}, **facts
    )

    assert not ephemeral
    assert title == "Watchlist v2 by analyst"
    assert 'term "pontoon crossing" (word) in tumen-bridge' in shown
    [seed, edited] = await documents(served.store)
    assert "pontoon crossing" not in seed and '"pontoon crossing"' in edited
    assert served.live.version == 2
    assert "tumen-bridge" in themes_of(served.live, PONTOON)
    assert await audit_outcomes(served.store, "discord") == [
        (str(USER), "watch add", "tumen-bridge", "ok")
    ]


async def test_a_plain_member_is_refused_privately_and_the_watchlist_is_unchanged(
    served: Served,
) -> None:
    before = await documents(served.store)
    attempts: tuple[tuple[str, Options], ...] = (
        ("add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}),
        ("remove", {"theme": "tumen-bridge", "terms": "Tumen"}),
        ("exclude", {"theme": "tumen-bridge", "terms": "Tyumen"}),
        ("new", {"slug": "kaesong", "title": "Kaesong"}),
        ("delete", {"slug": "summits"}),
        ("undo", {}),
    )

    for subcommand, options in attempts:
        ephemeral, title, shown = await served.watch(subcommand, options, roles=[])
        assert ephemeral, subcommand
        assert title == "Not allowed"
        assert f"Only admins can watch {subcommand}." in shown

    assert await documents(served.store) == before and served.live.version == 1
    refused = await audit_outcomes(served.store, "discord")
    assert len(refused) == 6 and {entry[3] for entry in refused} == {"refused"}


@pytest.mark.parametrize("policy", [ROLES_ONLY])
async def test_manage_server_counts_only_when_configured(served: Served) -> None:
    options: Options = {"theme": "tumen-bridge", "terms": "pontoon"}

    ephemeral, title, _ = await served.watch("add", options, permissions=MANAGER)
    assert ephemeral and title == "Not allowed"
    assert len(await documents(served.store)) == 1

    ephemeral, title, _ = await served.watch("add", options, roles=[MOD_ROLE])
    assert not ephemeral and title == "Watchlist v2 by analyst"


async def test_undo_restores_the_previous_version_exactly(served: Served) -> None:
    await served.watch(
        "add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}, permissions=MANAGER
    )
    await served.watch("new", {"slug": "kaesong", "title": "Kaesong"}, roles=[MOD_ROLE])

    ephemeral, title, shown = await served.watch("undo", {}, permissions=MANAGER)

    assert not ephemeral and title == "Watchlist v4 by analyst"
    assert "theme kaesong" in shown
    docs = await documents(served.store)
    assert len(docs) == 4 and docs[3] == docs[1]
    assert "kaesong" not in served.live.slugs

    ephemeral, title, _ = await served.watch("undo", {"version": 1}, permissions=MANAGER)

    assert not ephemeral and title == "Watchlist v5 by analyst"
    docs = await documents(served.store)
    assert docs[4] == docs[0] == WATCHLIST.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("subcommand", "options", "message"),
    [
        ("add", {"theme": "troops", "terms": '"..."'}, "'...' has no letters or digits"),
        ("new", {"slug": "kaesong!", "title": "Kaesong"}, "'kaesong!' is not a slug"),
        ("delete", {"slug": "troops"}, "follows troops, which this change removes"),
        ("add", {"theme": "nope", "terms": "pontoon"}, "unknown theme 'nope'"),
        ("undo", {"version": 99}, "there is no version 99"),
        ("add", {"theme": "troops", "terms": '"Kursk'}, "a quote is not closed"),
    ],
)
async def test_an_invalid_edit_is_refused_privately_with_the_reason(
    served: Served, subcommand: str, options: Options, message: str
) -> None:
    ephemeral, title, shown = await served.watch(subcommand, options, permissions=MANAGER)

    assert ephemeral
    assert message in f"{title}\n{shown}"
    assert len(await documents(served.store)) == 1 and served.live.version == 1


async def test_removing_a_themes_last_term_is_refused_and_audited_as_invalid(
    served: Served,
) -> None:
    await served.watch("new", {"slug": "kaesong", "title": "Kaesong"}, permissions=MANAGER)

    ephemeral, title, shown = await served.watch(
        "remove", {"theme": "kaesong", "terms": "Kaesong"}, permissions=MANAGER
    )

    assert ephemeral and title == "Refused: the watchlist would not be valid"
    assert "the list of terms is empty" in shown
    assert len(await documents(served.store)) == 2
    assert (str(USER), "watch remove", "kaesong", "invalid") in await audit_outcomes(
        served.store, "discord"
    )


async def test_anyone_can_list_show_test_and_read_the_history(served: Served) -> None:
    await served.watch(
        "add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}, permissions=MANAGER
    )

    ephemeral, title, listed = await served.watch("list")
    assert ephemeral and title == "Watchlist v2: 8 themes"
    assert "tumen-bridge (Tumen River bridge): 42 terms" in listed

    ephemeral, title, shown = await served.watch("show", {"theme": "tumen-bridge"})
    assert ephemeral and title == "Tumen River bridge (watchlist v2)"
    assert 'term "pontoon crossing" (word)' in shown

    ephemeral, title, tested = await served.watch("test", {"text": PONTOON})
    assert ephemeral and title == "1 theme match (watchlist v2)"
    assert "tumen-bridge (Tumen River bridge): score 2 (needs 1.3)" in tested

    ephemeral, title, history = await served.watch("history", {"theme": "tumen-bridge"})
    assert ephemeral and title == "Watchlist history of tumen-bridge, newest first"
    assert history.startswith("v2 (in force)") and "analyst (discord, chat)" in history
    assert len(await documents(served.store)) == 2


async def test_a_theme_created_from_chat_is_offered_by_autocomplete(served: Served) -> None:
    await served.watch("new", {"slug": "kaesong", "title": "Kaesong zone"}, permissions=MANAGER)

    payload, state = watch_command(served.fake, "add", {"theme": "kaes"}, focused="theme")
    await handled(served.bot, payload)

    assert state.callback_type == 8
    assert state.choices == [{"name": "Kaesong zone (kaesong)", "value": "kaesong"}]


async def test_hostile_text_in_an_edit_pings_nobody(served: Served) -> None:
    title = f"@everyone <@&{MOD_ROLE}> <@{USER}> **Kaesong**"

    ephemeral, shown_title, shown = await served.watch(
        "new", {"slug": "kaesong", "title": title}, permissions=MANAGER
    )

    assert not ephemeral and shown_title == "Watchlist v2 by analyst"
    assert "kaesong" in served.live.slugs
    assert "@everyone" not in shown.replace("@\u200beveryone", "")
    assert f"<@&{MOD_ROLE}>" not in shown and "**Kaesong**" not in shown
    # (and the `fake` fixture checks allowed_mentions and rendered mentions of every message)


async def test_audit_is_for_admins_only(served: Served) -> None:
    await served.watch("add", {"theme": "tumen-bridge", "terms": "pontoon"})  # refused
    await served.watch("add", {"theme": "tumen-bridge", "terms": "pontoon"}, roles=[MOD_ROLE])

    ephemeral, message = await served.deliver(*slash_command(served.fake, "audit", {"n": 5}))
    assert ephemeral and message["embeds"][0]["title"] == "Not allowed"
    assert "Only admins can audit." in described(message)

    ephemeral, message = await served.deliver(
        *slash_command(served.fake, "audit", {"n": 10}, permissions=MANAGER)
    )

    assert ephemeral and message["embeds"][0]["title"] == "Audit log: the latest 4"
    lines = described(message).splitlines()
    assert any(
        f"analyst (discord, discord:{CHANNEL}) · watch add tumen-bridge · ok: " in line
        for line in lines
    )
    assert any("watch add tumen-bridge · refused: not an admin" in line for line in lines)
    assert any("audit last 5 · refused: not an admin" in line for line in lines)
    assert await audit_outcomes(served.store) == []  # nothing was filed under Slack


async def test_the_longest_term_list_is_shown_whole_within_discords_limits(
    served: Served,
) -> None:
    _, watchlist = await served.live.editor.latest()
    theme = max(watchlist.themes, key=lambda t: len(t.terms) + len(t.exclude))
    payload, state = watch_command(served.fake, "list", {"theme": theme.slug})

    await handled(served.bot, payload)  # the answer and every followup of a long one
    assert state.shown

    assert served.fake.rejected == []  # no embed over Discord's limits
    assert all(ephemeral for ephemeral, _ in state.shown)
    lines = "\n".join(described(message) for _, message in state.shown).splitlines()
    assert sum(line.startswith("term ") for line in lines) == len(theme.terms)
    assert sum(line.startswith("exclude ") for line in lines) == len(theme.exclude)


@pytest.mark.parametrize("defer_after", [0.0])
async def test_slow_answers_keep_their_visibility(served: Served) -> None:
    """When the core takes longer than Discord's window the answer is deferred: a refusal
    must still be private and a change still public."""
    options: Options = {"theme": "tumen-bridge", "terms": "pontoon"}

    ephemeral, title, _ = await served.watch("add", options)
    assert ephemeral and title == "Not allowed"

    ephemeral, title, _ = await served.watch("add", options, permissions=MANAGER)
    assert not ephemeral and title == "Watchlist v2 by analyst"

    ephemeral, title, _ = await served.watch("history", {})
    assert ephemeral and title == "Watchlist history, newest first"
    callbacks = served.fake.calls("POST", "/interactions/*/callback")
    assert [request.body["type"] for request in callbacks] == [5, 5, 5]  # all deferred
    deferred_private = [
        (request.body.get("data") or {}).get("flags", 0) & 64 for request in callbacks
    ]
    assert deferred_private == [0, 0, 64]  # the "thinking…" placeholder guessed right for history
    # Only the refusal, guessed public, had its placeholder deleted to answer privately.
    assert len(served.fake.calls("DELETE", "/webhooks/*")) == 1
