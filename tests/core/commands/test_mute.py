"""`/nkru mute` and `unmute`: per-channel, time-limited, announced in the channel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.commands.model import Caller, ThemeCatalog, ThemeInfo
from bot.core.delivery import deliver_due
from bot.core.models import Alert, DeliveryReceipt
from bot.core.routing import Route
from storage.engine import Store
from tests.core.commands.conftest import ARMS, CHANNEL, NOW, TROOPS, World

OTHER = "discord:4242"


async def muted(world: World, *destinations: str) -> dict[str, set[str]]:
    async with world.store.transaction() as conn:
        return await conn.mutes.muted_themes(destinations, world.clock())


async def test_mute_is_announced_in_the_channel_and_silences_only_that_channel(
    world: World,
) -> None:
    reply = await world.run("mute arms-transfers 3d")

    assert reply.title == "Muted arms-transfers here until 2026-11-23 12:00 UTC (by Ana)"
    assert (reply.ephemeral, reply.error) == (False, False)
    assert reply.lines == ("Lift it early with: /nkru unmute arms-transfers",)
    assert await muted(world, CHANNEL, OTHER) == {CHANNEL: {"arms-transfers"}}
    listed = await world.run("mute")
    assert (listed.title, listed.ephemeral) == ("Muted here", True)
    assert listed.lines == ("arms-transfers until 2026-11-23 12:00 UTC",)
    assert (await world.run("mute", destination=OTHER)).title == "Nothing is muted here"
    assert (
        "Muted here: arms-transfers until 2026-11-23 12:00 UTC" in (await world.run("status")).lines
    )


async def test_unmute_round_trip(world: World) -> None:
    await world.call("mute", "troops", "2h")
    bob = Caller("discord", "99", "Bob")

    reply = await world.run("unmute troops", caller=bob)

    assert (reply.title, reply.ephemeral, reply.error) == (
        "Unmuted troops here (by Bob)",
        False,
        False,
    )
    assert await muted(world, CHANNEL) == {}
    again = await world.run("unmute troops")
    assert (again.title, again.ephemeral, again.error) == ("troops is not muted here", True, False)


async def test_a_mute_expires_and_can_be_renewed(world: World) -> None:
    await world.run("mute un-veto 90m")

    world.clock.advance(minutes=89)
    assert await muted(world, CHANNEL) == {CHANNEL: {"un-veto"}}
    world.clock.advance(minutes=1)
    assert await muted(world, CHANNEL) == {}
    assert (await world.run("mute")).title == "Nothing is muted here"
    assert (await world.run("unmute un-veto")).title == "un-veto is not muted here"

    renewed = await world.run("mute 1d UN-VETO")  # either order, any case
    assert renewed.title == "Muted un-veto here until 2026-11-21 13:30 UTC (by Ana)"
    assert await muted(world, CHANNEL) == {CHANNEL: {"un-veto"}}


async def test_muting_again_replaces_the_end_and_the_author(world: World) -> None:
    await world.run("mute troops 30d")
    await world.run("mute troops 1h", caller=Caller("slack", "U02", "Chen"))

    async with world.store.transaction() as conn:
        assert await conn.mutes.active(CHANNEL, NOW) == {"troops": NOW + timedelta(hours=1)}
    assert (await world.run("mute")).lines == ("troops until 2026-11-20 13:00 UTC",)


async def test_a_caller_without_a_display_name_is_named_by_id(world: World) -> None:
    reply = await world.run("mute troops 1h", caller=Caller("discord", "1234567"))
    assert reply.title.endswith("(by 1234567)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mute nukes 3d", "unknown theme 'nukes'"),
        ("mute arms-transfers", "mute needs a theme and a duration, e.g. arms-transfers 3d"),
        ("mute arms-transfers soon", "'soon' is not a duration: write e.g. 90m, 24h or 3d"),
        ("mute arms-transfers 30s", "'30s' is too short: at least 1m"),
        ("mute arms-transfers 31d", "'31d' is too long: at most 30d"),
        ("unmute", "unmute needs one theme"),
        ("unmute nukes", "unknown theme 'nukes'"),
    ],
)
async def test_mute_mistakes_are_ephemeral_usage_errors(
    world: World, text: str, message: str
) -> None:
    reply = await world.run(text)

    assert (reply.title, reply.ephemeral, reply.error) == (message, True, True)
    assert reply.lines[-1].startswith(f"usage: /nkru {text.split()[0]} ")
    assert await muted(world, CHANNEL) == {}


async def test_an_unknown_theme_error_lists_the_themes(world: World) -> None:
    reply = await world.run("mute nukes 3d")
    assert reply.lines == (
        "themes: tumen-bridge, arms-transfers, troops, un-veto, sanctions-evasion, summits, "
        "energy-trade, military-tech",
        "usage: /nkru mute <theme> <duration>",
    )


async def test_a_theme_that_left_the_watchlist_can_still_be_unmuted(world: World) -> None:
    await world.run("mute summits 1d")
    world.catalog = ThemeCatalog.of([ThemeInfo("troops", "Troops")])  # watchlist reloaded

    assert (await world.run("mute summits 1d")).error  # no new mutes of it
    reply = await world.run("unmute summits")

    assert (reply.title, reply.error) == ("Unmuted summits here (by Ana)", False)
    assert await muted(world, CHANNEL) == {}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> DeliveryReceipt:
        self.sent.append(alert)
        return DeliveryReceipt(f"m{alert.outbox_id}")


async def test_the_delivery_worker_skips_a_theme_muted_by_command(world: World) -> None:
    routes = [Route(CHANNEL, frozenset()), Route(OTHER, frozenset())]
    await world.run("mute arms-transfers 1d")
    await world.publish("arms", ARMS, "Yonhap", NOW, routes=routes)
    await world.publish("troops", TROOPS, "BBC", NOW, routes=routes)
    adapters = {"slack": Recorder(), "discord": Recorder()}

    report = await deliver_due(world.store, adapters, world.clock, routes=routes)

    assert (report.sent, report.muted) == (3, 1)
    assert [a.title for a in adapters["slack"].sent] == [TROOPS[0]]
    assert sorted(a.title for a in adapters["discord"].sent) == sorted([ARMS[0], TROOPS[0]])


async def test_mute_repository_round_trip(store: Store) -> None:
    async with store.transaction() as conn:
        await conn.mutes.mute("a", "troops", NOW + timedelta(hours=1), "Ana", NOW)
        await conn.mutes.mute("b", "troops", NOW + timedelta(hours=2), "Ana", NOW)
        await conn.mutes.mute("b", "summits", NOW - timedelta(hours=1), "Ana", NOW)
    async with store.transaction() as conn:
        everywhere = await conn.mutes.muted_themes(["a", "b", "c"], NOW)
        assert everywhere == {"a": {"troops"}, "b": {"troops"}}
        assert await conn.mutes.muted_themes([], NOW) == {}
        assert await conn.mutes.active("b", NOW) == {"troops": NOW + timedelta(hours=2)}
        assert await conn.mutes.unmute("a", "troops") is True
        assert await conn.mutes.unmute("a", "troops") is False
        assert await conn.mutes.muted_themes(["a"], NOW) == {}
