"""kill -9 between storing and delivering: every alert is delivered exactly once afterwards."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import select

from bot.core.delivery import deliver_due
from bot.core.feed_health import PollPolicy
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext, poll_feed
from storage.engine import Store
from storage.schema import articles, outbox
from tests.conftest import REPO_ROOT
from tests.fakes.crash_after_ingest import DESTINATION
from tests.fakes.feed_server import FeedServer
from tests.fakes.recording_adapter import RecordingAdapter
from tests.processes import run_process

TITLES = [
    "Lavrov and Choe Son Hui meet in Moscow",
    "Khasan rail freight terminal opens",
    "North Korean workers arrive in Primorsky Krai",
]


def rss(build: str = "") -> bytes:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    items = "".join(
        f"<item><guid>crash-{n}</guid><title>{title}</title>"
        f"<link>https://wire.example/{n}</link><pubDate>{now}</pubDate></item>"
        for n, title in enumerate(TITLES)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<lastBuildDate>{build or now}</lastBuildDate>{items}</channel></rss>"
    ).encode()


async def run_child_until_killed(store_url: str, feed_url: str) -> dict[str, object]:
    """Run the child in a subprocess while this event loop keeps serving the feed."""
    done = await run_process(
        sys.executable,
        "-m",
        "tests.fakes.crash_after_ingest",
        store_url,
        feed_url,
        cwd=REPO_ROOT,
        env=os.environ,
    )
    assert done.code == -signal.SIGKILL, done.err
    report: dict[str, object] = json.loads(done.out.strip().splitlines()[-1])
    return report


async def test_kill_9_after_ingest_delivers_each_alert_exactly_once(
    store_url: str, server: FeedServer
) -> None:
    server.add_feed("/feed.xml", rss())
    report = await run_child_until_killed(store_url, server.url("/feed.xml"))
    assert report["outcome"] == "fetched"
    assert report["new"] == report["queued"] == len(TITLES)

    store = await Store.open(store_url)  # recovers the WAL the killed process left behind
    try:
        async with store.transaction() as conn:
            pending = (await conn.connection.execute(select(outbox.c.status))).scalars().all()
            stored = (await conn.connection.execute(select(articles.c.title))).scalars().all()
        assert pending == ["pending"] * len(TITLES)
        assert sorted(stored) == sorted(TITLES)

        adapter = RecordingAdapter()
        delivered = await deliver_due(store, {DESTINATION: adapter}, lambda: datetime.now(UTC))
        assert delivered.sent == len(TITLES)
        assert sorted(alert.title for alert in adapter.sent) == sorted(TITLES)
        assert len({alert.outbox_id for alert in adapter.sent}) == len(TITLES)

        later = lambda: datetime.now(UTC) + timedelta(days=1)  # noqa: E731
        again = await deliver_due(store, {DESTINATION: adapter}, later)
        assert (again.sent, again.retrying, again.dead) == (0, 0, 0)
        assert len(adapter.sent) == len(TITLES)

        await restart_polls_queue_nothing(store, server, int(str(report["feed_id"])))
        assert (await deliver_due(store, {DESTINATION: adapter}, later)).sent == 0
        assert len(adapter.sent) == len(TITLES)
    finally:
        await store.close()


async def restart_polls_queue_nothing(store: Store, server: FeedServer, feed_id: int) -> None:
    """After the restart the feed's state is the child's: 304 first, then known items only."""
    async with FeedFetcher() as fetcher:
        ctx = PollContext(
            store, fetcher, PollPolicy(flood_guard=False), AlertPolicy(destinations=[DESTINATION])
        )
        first = await poll_feed(ctx, feed_id)
        assert first.outcome == "not_modified"  # the child's ETag was committed
        assert "If-None-Match" in server.requests[-1].headers

        server.set_body("/feed.xml", rss(build="Mon, 01 Jan 2035 00:00:00 GMT"))
        second = await poll_feed(ctx, feed_id)
    assert (second.outcome, second.new_articles, second.queued_alerts) == ("fetched", 0, 0)
    async with store.transaction() as conn:
        entries = (await conn.connection.execute(select(outbox.c.status))).scalars().all()
    assert entries == ["sent"] * len(TITLES)
