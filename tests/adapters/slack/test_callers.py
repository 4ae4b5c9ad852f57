"""The caller's Slack facts (user groups, workspace admin) come from the Web API, cached."""

from __future__ import annotations

from bot.adapters.slack.callers import CallerFacts, Lookups
from bot.adapters.slack.delivery import make_web_client
from bot.core.commands.permissions import WORKSPACE_ADMIN, AdminPolicy
from tests.fakes.slack_api import FakeSlackApi


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def facts(slack: FakeSlackApi, clock: Clock, **lookups: bool) -> CallerFacts:
    client = make_web_client(slack.bot_token, slack.api_url)
    return CallerFacts(client, Lookups(**lookups), clock=clock)


async def test_user_groups_become_roles_and_are_cached(slack: FakeSlackApi) -> None:
    slack.usergroups = {"S0EDITORS": ["U0ANA", "U0BEN"], "S0OTHER": ["U0BEN"]}
    clock = Clock()
    lookup = facts(slack, clock, usergroups=True)

    ana = await lookup.caller("U0ANA", "ana")
    ben = await lookup.caller("U0BEN", "ben")
    nobody = await lookup.caller("U0ZED", "zed")

    assert ana.roles == frozenset({"S0EDITORS"})
    assert ben.roles == frozenset({"S0EDITORS", "S0OTHER"})
    assert nobody.roles == frozenset()
    assert len(slack.calls_to("usergroups.list")) == 1  # one lookup for the burst
    policy = AdminPolicy(slack_usergroup_ids=frozenset({"S0EDITORS"}))
    assert policy.is_admin(ana) and not policy.is_admin(nobody)

    slack.usergroups["S0EDITORS"].append("U0ZED")
    clock.now += 301  # the cache expires: membership changes are seen
    assert (await lookup.caller("U0ZED", "zed")).roles == frozenset({"S0EDITORS"})
    assert len(slack.calls_to("usergroups.list")) == 2


async def test_workspace_admins_and_owners(slack: FakeSlackApi) -> None:
    slack.users = {"U0ADM": {"is_admin": True}, "U0OWN": {"is_owner": True}, "U0ANA": {}}
    lookup = facts(slack, Clock(), workspace_admins=True)

    assert WORKSPACE_ADMIN in (await lookup.caller("U0ADM", "adm")).permissions
    assert WORKSPACE_ADMIN in (await lookup.caller("U0OWN", "own")).permissions
    assert (await lookup.caller("U0ANA", "ana")).permissions == frozenset()
    await lookup.caller("U0ADM", "adm")
    assert len(slack.calls_to("users.info")) == 3  # U0ADM's answer was cached


async def test_failed_lookups_fail_closed(slack: FakeSlackApi) -> None:
    slack.fail("usergroups.list", error="missing_scope")
    slack.fail("users.info", error="missing_scope")
    lookup = facts(slack, Clock(), usergroups=True, workspace_admins=True)

    caller = await lookup.caller("U0ANA", "ana")

    assert caller.roles == frozenset() and caller.permissions == frozenset()


async def test_nothing_is_looked_up_unless_the_settings_need_it(slack: FakeSlackApi) -> None:
    caller = await facts(slack, Clock()).caller("U0ANA", "ana")
    assert (caller.user_id, caller.user_name, caller.platform) == ("U0ANA", "ana", "slack")
    assert slack.calls == []
