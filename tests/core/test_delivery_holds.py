"""Quiet hours hold alerts until they end; per-channel mutes stop alerts on muted themes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.core.delivery import deliver_due
from bot.core.models import Alert, DeliveryReceipt, ThemeHit
from bot.core.quiet_hours import QuietHours
from bot.core.routing import Route
from storage.engine import Store
from storage.schema import articles, outbox
from tests.core.test_delivery import NOW, Clock, ScriptedAdapter, Stories, row, stories

__all__ = ["stories"]  # the fixture, re-used from test_delivery

DEST = "fake:C1"


async def with_themes(store: Store, stories: Stories, title: str, *themes: str) -> int:
    """A one-outlet story whose article matched `themes` (score 3 each)."""
    story_id = await stories.story(title, ["Wire"])
    async with store.transaction() as conn:
        article_id = (
            await conn.connection.execute(
                select(articles.c.id).where(articles.c.story_id == story_id)
            )
        ).scalar_one()
        await conn.themes.add_many([(article_id, ThemeHit(t, 3.0, t)) for t in themes])
    return story_id


async def test_quiet_hours_hold_the_alert_until_they_end(store: Store, stories: Stories) -> None:
    # NOW is 12:00 UTC; quiet 11:00–13:00 UTC.
    route = Route(DEST, frozenset(), quiet=QuietHours.parse("11:00-13:00"))
    entry = await stories.queue(
        await with_themes(store, stories, "Bridge opens", "tumen-bridge"), destination=DEST
    )
    adapter = ScriptedAdapter()
    clock = Clock()

    report = await deliver_due(store, {"fake": adapter}, clock, routes=[route])
    assert (report.held, report.sent, adapter.calls) == (1, 0, [])
    held = await row(store, entry)
    assert (held.status, held.attempts) == ("pending", 0)
    assert held.next_attempt_at == NOW.replace(hour=13)

    clock.advance(30 * 60)  # 12:30, still quiet, and the entry is not due yet anyway
    assert (await deliver_due(store, {"fake": adapter}, clock, routes=[route])).sent == 0
    clock.advance(30 * 60)  # 13:00: quiet hours over
    report = await deliver_due(store, {"fake": adapter}, clock, routes=[route])
    assert report.sent == 1
    [alert] = adapter.calls
    assert alert.redelivery is False  # being held is not a failed attempt that might have posted


async def test_a_muted_theme_is_not_sent_in_that_channel_only(
    store: Store, stories: Stories
) -> None:
    routes = [Route(DEST, frozenset()), Route("fake:C2", frozenset())]
    story_id = await with_themes(store, stories, "Shells by rail", "arms-transfers")
    muted_entry = await stories.queue(story_id, destination=DEST)
    other_entry = await stories.queue(story_id, destination="fake:C2")
    async with store.transaction() as conn:
        await conn.mutes.mute(DEST, "arms-transfers", NOW + timedelta(hours=1), "U1", NOW)
    adapter = ScriptedAdapter()

    report = await deliver_due(store, {"fake": adapter}, Clock(), routes=routes)

    assert (report.muted, report.sent) == (1, 1)
    assert [a.destination for a in adapter.calls] == ["fake:C2"]
    assert (await row(store, muted_entry)).status == "muted"
    assert (await row(store, other_entry)).status == "sent"


async def test_a_story_on_a_muted_and_an_unmuted_theme_still_alerts(
    store: Store, stories: Stories
) -> None:
    story_id = await with_themes(store, stories, "Troops and shells", "arms-transfers", "troops")
    entry = await stories.queue(story_id, destination=DEST)
    async with store.transaction() as conn:
        await conn.mutes.mute(DEST, "arms-transfers", NOW + timedelta(hours=1), "U1", NOW)
    adapter = ScriptedAdapter()

    report = await deliver_due(store, {"fake": adapter}, Clock(), routes=[Route(DEST, frozenset())])

    assert report.sent == 1 and (await row(store, entry)).status == "sent"


async def test_a_mute_only_counts_for_the_themes_the_route_follows(
    store: Store, stories: Stories
) -> None:
    # The channel follows arms-transfers only: a story also on troops is silenced by muting
    # arms-transfers, since troops would not have alerted there anyway.
    story_id = await with_themes(store, stories, "Troops and shells", "arms-transfers", "troops")
    entry = await stories.queue(story_id, destination=DEST)
    async with store.transaction() as conn:
        await conn.mutes.mute(DEST, "arms-transfers", NOW + timedelta(hours=1), "U1", NOW)
    route = Route(DEST, frozenset({"arms-transfers"}))

    report = await deliver_due(store, {"fake": ScriptedAdapter()}, Clock(), routes=[route])

    assert report.muted == 1 and (await row(store, entry)).status == "muted"


async def test_an_expired_mute_no_longer_holds(store: Store, stories: Stories) -> None:
    story_id = await with_themes(store, stories, "Oil by ship", "energy-trade")
    await stories.queue(story_id, destination=DEST)
    async with store.transaction() as conn:
        await conn.mutes.mute(DEST, "energy-trade", NOW - timedelta(minutes=1), "U1", NOW)
    report = await deliver_due(
        store, {"fake": ScriptedAdapter()}, Clock(), routes=[Route(DEST, frozenset())]
    )
    assert (report.sent, report.muted) == (1, 0)


async def test_redelivery_flag_after_a_lost_claim(store: Store, stories: Stories) -> None:
    """A claim whose lease ran out (the worker died mid-send) marks the next try a redelivery."""
    entry = await stories.queue(await stories.story("Lost claim", ["Wire"]), destination=DEST)
    clock = Clock()
    async with store.transaction() as conn:
        [first] = await conn.outbox.claim_due(clock(), timedelta(minutes=5))
    assert first.outbox_id == entry and first.redelivery is False
    clock.advance(6 * 60)
    adapter = ScriptedAdapter()
    await deliver_due(store, {"fake": adapter}, clock)
    [again] = adapter.calls
    assert again.redelivery is True
    async with store.transaction() as conn:
        claims = (
            await conn.connection.execute(select(outbox.c.claims).where(outbox.c.id == entry))
        ).scalar_one()
    assert claims == 2


class WaitsForOtherChannel:
    """Sending to C1 waits until C2 has been sent: only concurrent destinations finish."""

    def __init__(self) -> None:
        self.c2_sent = asyncio.Event()
        self.order: list[str] = []

    async def send(self, alert: Alert) -> DeliveryReceipt:
        if alert.destination == DEST:
            await self.c2_sent.wait()
        else:
            self.c2_sent.set()
        self.order.append(alert.destination)
        return DeliveryReceipt(f"m-{alert.outbox_id}")


async def test_a_slow_destination_does_not_hold_up_the_others(
    store: Store, stories: Stories
) -> None:
    story_id = await stories.story("Two channels", ["Wire"])
    await stories.queue(story_id, destination=DEST)  # queued first, and blocked
    await stories.queue(story_id, destination="fake:C2")
    adapter = WaitsForOtherChannel()

    report = await asyncio.wait_for(deliver_due(store, {"fake": adapter}, Clock()), timeout=10)

    assert report.sent == 2
    assert adapter.order == ["fake:C2", DEST]
