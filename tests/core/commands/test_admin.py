"""Admins: decided by the bot from the caller's facts; refused attempts are audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from bot.core.commands.admin import audit, require_admin
from bot.core.commands.model import Caller, Invocation, Reply, ThemeCatalog
from bot.core.commands.permissions import MANAGE_GUILD, WORKSPACE_ADMIN, AdminPolicy
from bot.core.commands.registry import Command, Context, Registry
from bot.core.commands.service import CommandService
from storage.engine import Store
from tests.core.commands.conftest import NOW

POLICY = AdminPolicy(
    discord_role_ids=frozenset({"77"}),
    slack_user_ids=frozenset({"U0BOSS"}),
    slack_usergroup_ids=frozenset({"S0EDITORS"}),
)


@pytest.mark.parametrize(
    ("caller", "admin"),
    [
        (Caller("discord", "1", permissions=frozenset({MANAGE_GUILD})), True),
        (Caller("discord", "2", roles=frozenset({"77"})), True),
        (Caller("discord", "3", roles=frozenset({"78"})), False),
        (Caller("discord", "U0BOSS"), False),  # a Slack id means nothing on Discord
        (Caller("slack", "U0BOSS"), True),
        (Caller("slack", "U0X", roles=frozenset({"S0EDITORS"})), True),
        (Caller("slack", "U0Y", permissions=frozenset({WORKSPACE_ADMIN})), False),  # not enabled
        (Caller("slack", "U0Z", permissions=frozenset({MANAGE_GUILD})), False),
        (Caller("console", "operator"), True),
    ],
)
def test_who_is_an_admin(caller: Caller, admin: bool) -> None:
    assert POLICY.is_admin(caller) is admin


def test_options_turn_platform_admins_on_and_off() -> None:
    slack_admin = Caller("slack", "U0Y", permissions=frozenset({WORKSPACE_ADMIN}))
    assert AdminPolicy(slack_workspace_admins=True).is_admin(slack_admin)
    manager = Caller("discord", "1", permissions=frozenset({MANAGE_GUILD}))
    assert not AdminPolicy(discord_manage_guild=False).is_admin(manager)


def _parse(words: Sequence[str], catalog: ThemeCatalog) -> str:
    return " ".join(words)


async def _secret(ctx: Context, target: str) -> Reply:
    await require_admin(ctx, "do secrets", target)
    await audit(ctx, "do secrets", target, "did it")
    return Reply("Done", lines=(f"did {target}",))


def service(store: Store) -> CommandService:
    registry = Registry([Command("secret", "<x>", "an admin-only test command", _parse, _secret)])
    return CommandService(store, ThemeCatalog, (), lambda: NOW, commands=registry, admin=POLICY)


async def run(store: Store, caller: Caller, **kw: Any) -> Reply:
    invocation = Invocation(caller, "slack:C1", "secret", ("x1",))
    return await service(store).handle(invocation)


async def test_a_non_admin_is_refused_ephemerally_and_audited(store: Store) -> None:
    reply = await run(store, Caller("slack", "U0NOBODY", "nobody"))

    assert reply.ephemeral and reply.error
    assert "Only admins can do secrets" in " ".join(reply.lines)
    async with store.transaction() as conn:
        [entry] = await conn.audit.recent()
    assert (entry.user_id, entry.action, entry.target, entry.outcome) == (
        "U0NOBODY",
        "do secrets",
        "x1",
        "refused",
    )


async def test_an_admin_runs_and_the_action_is_audited(store: Store) -> None:
    reply = await run(store, Caller("slack", "U0BOSS", "boss"))

    assert not reply.error and reply.lines == ("did x1",)
    async with store.transaction() as conn:
        [entry] = await conn.audit.recent()
    assert (entry.user_name, entry.destination, entry.outcome, entry.at) == (
        "boss",
        "slack:C1",
        "ok",
        NOW,
    )
