"""When a feed is polled next: on its cadence, counted from when each poll was due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.feed_health import PollPolicy, succeeded
from bot.core.models import Feed, FetchOutcome, FetchResult

DUE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOT_MODIFIED = FetchResult(FetchOutcome.NOT_MODIFIED, "https://wire.example/feed.xml")


def polled_feed(*, due: datetime | None = DUE, first_fetch_done: bool = True) -> Feed:
    return Feed(
        1, "https://wire.example/feed.xml", "Wire", interval_seconds=600,
        first_fetch_done=first_fetch_done, next_poll_at=due,
    )  # fmt: skip


@pytest.mark.parametrize("late", [0.0, 0.2, 3.0, 60.0])
def test_a_poll_on_time_keeps_the_cadence(late: float) -> None:
    # Regression: counted from the poll's end, each interval grew by the poll's wait and
    # duration (the capacity benchmark achieved 0.983 of the polls asked for at 10 s).
    now = DUE + timedelta(seconds=late)
    state = succeeded(polled_feed(), NOT_MODIFIED, now, PollPolicy())
    assert state.next_poll_at == DUE + timedelta(seconds=600)
    assert state.last_polled_at == now


def test_ten_polls_on_time_take_exactly_ten_intervals() -> None:
    feed = polled_feed()
    for _ in range(10):
        assert feed.next_poll_at is not None
        now = feed.next_poll_at + timedelta(seconds=0.4)  # each poll a little late
        feed = replace(
            feed, next_poll_at=succeeded(feed, NOT_MODIFIED, now, PollPolicy()).next_poll_at
        )
    assert feed.next_poll_at == DUE + timedelta(seconds=6000)


@pytest.mark.parametrize(
    ("feed", "now"),
    [
        # late by more than a minute (downtime, a backlog): no burst of catch-up polls
        (polled_feed(), DUE + timedelta(seconds=61)),
        # later than a quarter of a short interval
        (replace(polled_feed(), interval_seconds=120), DUE + timedelta(seconds=31)),
        # forced early (`nkru poll --once`)
        (polled_feed(), DUE - timedelta(seconds=30)),
        # a new feed's first poll starts its cadence, whenever it was added
        (polled_feed(first_fetch_done=False), DUE + timedelta(seconds=5)),
        (polled_feed(due=None), DUE + timedelta(seconds=5)),
    ],
)
def test_a_poll_off_time_counts_from_now(feed: Feed, now: datetime) -> None:
    state = succeeded(feed, NOT_MODIFIED, now, PollPolicy())
    assert state.next_poll_at == now + timedelta(seconds=feed.interval_seconds)
