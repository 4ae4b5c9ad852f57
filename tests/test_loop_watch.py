"""The loop watch: how late its timer fires is the stall every answer of the bot waits through."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.loop_watch import KEPT, NOTED_FROM, WARN_AFTER, LoopWatch

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ticking_clock() -> tuple[list[datetime], LoopWatch]:
    now = [T0]
    return now, LoopWatch(clock=lambda: now[0], monotonic=lambda: (now[0] - T0).total_seconds())


def hold_the_loop(seconds: float) -> None:
    """What the watch is for: a step that keeps the event loop from running anything else."""
    time.sleep(seconds)


async def test_a_held_loop_is_seen_with_how_long_it_was_held() -> None:
    watch = LoopWatch()
    async with watch.running():
        await asyncio.sleep(0.1)
        assert watch.largest is not None and watch.largest.seconds < 0.25  # nothing held yet
        hold_the_loop(0.3)
        await asyncio.sleep(0.05)
    assert watch.largest is not None and watch.largest.seconds >= 0.25
    assert [stall.seconds for stall in watch.recent][-1] == watch.largest.seconds


async def test_the_watch_stops_with_its_block() -> None:
    watch = LoopWatch()
    async with watch.running():
        await asyncio.sleep(0.05)
    ticks = watch.largest
    await asyncio.sleep(0.1)
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "nkru-loop-watch"]
    assert watch.largest is ticks


def test_only_stalls_worth_noting_are_kept_the_latest_first_out() -> None:
    now, watch = ticking_clock()
    watch.note(0.001)
    watch.note(NOTED_FROM / 2)
    assert not watch.recent and watch.largest is not None
    assert watch.largest.seconds == NOTED_FROM / 2
    for number in range(KEPT + 5):
        now[0] = T0 + timedelta(seconds=number)
        watch.note(NOTED_FROM + number / 1000)
    assert len(watch.recent) == KEPT
    assert watch.recent[0].at == T0 + timedelta(seconds=5)  # the oldest five made room
    report = watch.report()
    assert report["largest_stall_ms"] == round((NOTED_FROM + (KEPT + 4) / 1000) * 1000, 1)
    assert report["largest_stall_at"] == (T0 + timedelta(seconds=KEPT + 4)).isoformat()


def test_a_long_stall_is_logged_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    now, watch = ticking_clock()
    with caplog.at_level(logging.WARNING, logger="bot.loop_watch"):
        watch.note(WARN_AFTER + 0.2)
        watch.note(WARN_AFTER + 0.1)  # the same minute: counted, not logged
        watch.note(WARN_AFTER / 2)  # below the warning
    [record] = caplog.records
    assert "stalled 700 ms" in record.getMessage()
    assert "chat commands and /healthz waited" in record.getMessage()
    now[0] += timedelta(seconds=61)
    with caplog.at_level(logging.WARNING, logger="bot.loop_watch"):
        watch.note(WARN_AFTER)
    assert "(1 more since the last warning)" in caplog.records[-1].getMessage()


def test_an_early_tick_counts_as_on_time() -> None:
    _, watch = ticking_clock()
    watch.note(-0.0005)  # the loop may fire a timer a clock resolution early
    assert watch.largest is not None and watch.largest.seconds == 0.0
