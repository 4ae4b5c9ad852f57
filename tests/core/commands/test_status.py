"""`/nkru status`: feed health, last poll, outbox backlog, dead deliveries and their errors."""

from __future__ import annotations

from datetime import timedelta

from bot.core.delivery import DeliveryError, deliver_due
from bot.core.models import Alert, DeliveryReceipt, FeedStatus, PollState
from bot.core.routing import Route
from tests.core.commands.conftest import ARMS, NOW, TANKER, VETO, World

LOST = "slack:C0999"
MISSING_ACCESS = "channel_not_found: the bot is not a member of this channel"


class NoSuchChannel:
    """A Slack adapter whose channel is gone: every send fails for good."""

    def __init__(self) -> None:
        self.calls: list[Alert] = []

    async def send(self, alert: Alert) -> DeliveryReceipt:
        self.calls.append(alert)
        raise DeliveryError(MISSING_ACCESS, permanent=True)


async def poll(world: World, name: str, state: PollState) -> None:
    feed_id = await world.feed(name)  # before the transaction: they must not nest
    async with world.store.transaction() as conn:
        await conn.feeds.record_poll(feed_id, state)


async def test_status_on_an_empty_database(world: World) -> None:
    reply = await world.run("status")

    assert (reply.title, reply.ephemeral, reply.error) == ("Status", True, False)
    assert reply.lines == (
        "Feeds: 0 ok, 0 failing, 0 disabled",
        "Last poll: none yet",
        "Outbox: 0 alerts waiting to be sent",
        "Deliveries given up in the last 7 days: none",
    )


async def test_status_names_failing_feeds_backlog_and_dead_deliveries(world: World) -> None:
    routes = [Route(LOST, frozenset()), Route("slack:C0123", frozenset({"un-veto"}))]
    await world.publish("arms", ARMS, "Yonhap", NOW - timedelta(hours=3), routes=routes)
    await world.publish("veto", VETO, "Reuters", NOW - timedelta(hours=2), routes=routes)
    await world.publish("tanker", TANKER, "NK News", NOW - timedelta(hours=1), routes=routes)
    failing_since = NOW - timedelta(hours=6)
    await poll(world, "KCNA Watch", PollState(
        NOW - timedelta(minutes=2), NOW, FeedStatus.FAILING, 4, "HTTP 503 Service Unavailable",
        failing_since,
    ))  # fmt: skip
    await poll(world, "Old Wire", PollState(
        NOW - timedelta(days=1), NOW, FeedStatus.DISABLED, 90, "connection refused",
        NOW - timedelta(days=8), disabled_reason="failing for 7 days: connection refused",
    ))  # fmt: skip
    adapter = NoSuchChannel()
    report = await deliver_due(world.store, {"slack": adapter}, world.clock, routes=world.routes)
    # Both channels' alerts go through the broken adapter: 3 (every theme) + 1 (un-veto: the
    # veto story; the tanker's UN cap is a sanctions story's scene) die.
    assert report.dead == 4 and len(adapter.calls) == 4

    reply = await world.run("status")

    assert reply.lines[0] == "Feeds: 3 ok, 1 failing, 1 disabled"
    assert reply.lines[1] == (
        "• KCNA Watch is failing since 2026-11-20 06:00 UTC: HTTP 503 Service Unavailable"
    )
    assert reply.lines[2] == "• Old Wire is disabled: failing for 7 days: connection refused"
    assert reply.lines[3] == "Last poll: 2026-11-20 11:58 UTC (2m ago)"
    assert reply.lines[4] == "Outbox: 0 alerts waiting to be sent"
    assert reply.lines[5] == "Deliveries given up in the last 7 days:"
    assert reply.lines[6] == f"• {LOST}: 3 alerts, last error: {MISSING_ACCESS}"
    assert reply.lines[7] == f"• slack:C0123: 1 alert, last error: {MISSING_ACCESS}"


async def test_status_counts_pending_alerts_and_forgets_old_give_ups(world: World) -> None:
    routes = [Route(LOST, frozenset())]
    await world.publish("arms", ARMS, "Yonhap", NOW - timedelta(hours=3), routes=routes)
    await deliver_due(world.store, {"slack": NoSuchChannel()}, world.clock)
    await world.publish("veto", VETO, "Reuters", NOW - timedelta(hours=2), routes=routes)
    await world.publish("tanker", TANKER, "NK News", NOW, routes=routes)

    now = await world.run("status")
    world.clock.advance(days=8)
    later = await world.run("status")

    assert "Outbox: 2 alerts waiting to be sent" in now.lines
    assert f"• {LOST}: 1 alert, last error: {MISSING_ACCESS}" in now.lines
    assert "Deliveries given up in the last 7 days: none" in later.lines


async def test_status_names_a_few_troubled_feeds_and_counts_the_rest(world: World) -> None:
    for number in range(7):
        await poll(world, f"Feed {number}", PollState(
            NOW, NOW, FeedStatus.FAILING, 1, f"HTTP 500 number {number}",
            NOW - timedelta(hours=10 - number),
        ))  # fmt: skip

    reply = await world.run("status")

    named = [line for line in reply.lines if line.startswith("• Feed")]
    assert [line.split(" is ")[0] for line in named] == [f"• Feed {n}" for n in range(5)]
    assert "• …and 2 more (nkru feeds status lists them all)" in reply.lines
