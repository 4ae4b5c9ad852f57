"""Digests with three queue engines on one PostgreSQL database: each cron tick of a configured
digest route, and of a digest subscription made from chat, is posted once, by one of them.

Every engine starts by deferring the cron tick it has just missed (procrastinate's periodic
deferrer looks back up to 10 minutes), so all three race for the same tick at once: the
sharpest test of "once". The digests fire at one minute of the hour, the current one, so the
next minute boundary cannot bring a second, legitimate tick while the test runs (it did, with
an every-minute cron, on a loaded CI machine). The posts go to a fake Slack Web API on
loopback through each engine's own real SlackDelivery.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.adapters.slack import SlackDelivery
from bot.app import subscribed_digests
from bot.core.records import Author
from bot.core.routing import Route
from bot.core.scheduling import DigestJob, ScheduleConfig
from bot.core.subscriptions.live import LiveRoutes
from bot.core.subscriptions.model import NewSubscription, SubscriptionSpec
from bot.scaleout.jobs import SubscribedDigests
from storage.engine import Store
from tests.fakes.recording_adapter import RecordingAdapter
from tests.fakes.slack_api import FakeSlackApi
from tests.scaleout.conftest import Clock, Start
from tests.scaleout.test_shared_queue import sweeps_pass

pytestmark = pytest.mark.postgres
ROUTED, SUBSCRIBED, HOURLY = "slack:CROUTED", "slack:CSUBSCRIBED", "slack:CHOURLY"


def digests_per_channel(slack: FakeSlackApi) -> Counter[str]:
    """Posts per destination (an empty digest is one message)."""
    return Counter(f"slack:{call.args['channel']}" for call in slack.calls_to("chat.postMessage"))


def from_store(store: Store) -> SubscribedDigests:
    return subscribed_digests(LiveRoutes(store, []))  # as `nkru run` reads them


async def subscribe(url: str, destination: str, cron: str) -> None:
    spec = SubscriptionSpec(mode="digest", cron=cron)
    new = NewSubscription(destination, spec, Author("slack", "U1", "Ana"), "subscribe")
    store = await Store.open(url)
    try:
        async with store.transaction() as tx:
            await tx.subscriptions.add(new, Clock()())
    finally:
        await store.close()


async def a_minute_with_time_to_start_in(clock: Clock, margin: float = 20.0) -> int:
    """The current minute, once `margin` seconds of it remain: the engines start within it,
    so the tick they defer first is this minute's (the subscriptions' job runs each minute)."""
    now = clock()
    left = 60 - now.second - now.microsecond / 1e6
    if left < margin:
        await asyncio.sleep(left + 0.1)
    return clock().minute


async def test_three_workers_post_each_digest_once_per_cron_tick(
    pg_url: str, engines: Start
) -> None:
    minute = await a_minute_with_time_to_start_in(Clock())
    this_minute_hourly = f"{minute} * * * *"
    await subscribe(pg_url, SUBSCRIBED, this_minute_hourly)
    # Fired a minute before the tick the engines pick up, and not again for an hour.
    await subscribe(pg_url, HOURLY, f"{(minute - 1) % 60} * * * *")
    route = DigestJob(Route(ROUTED, mode="digest"), this_minute_hourly, 86400.0)
    async with FakeSlackApi() as slack:
        workers = await engines(
            3,
            RecordingAdapter(),
            Clock(),
            adapters=lambda: {
                "slack": SlackDelivery.from_token(slack.bot_token, api_url=slack.api_url)
            },
            config=ScheduleConfig(digests=[route]),
            subscribed=from_store,
        )
        await slack.wait_for(lambda: {ROUTED, SUBSCRIBED} <= set(digests_per_channel(slack)))
        await sweeps_pass(workers, rounds=30)  # time enough for a second copy to show
    posted = digests_per_channel(slack)
    assert posted[ROUTED] == posted[SUBSCRIBED] == 1
    assert posted[HOURLY] == 0
