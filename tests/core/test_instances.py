"""Claims of a process that is gone are released at once; a live process keeps its claims.

Real storage (both backends), real processes: a holder "in this place" is a child process of
the test, alive or killed; a holder elsewhere is a row whose heartbeat the clock outruns.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.delivery import RetryPolicy, deliver_due
from bot.core.instances import (
    STALE_AFTER,
    announced,
    beat,
    is_gone,
    start_time,
    this_process,
    this_process_id,
)
from bot.core.records import Instance
from storage.engine import Store
from storage.schema import outbox
from tests.core.test_delivery import NOW, Clock, ScriptedAdapter, Stories, stories

__all__ = ["stories"]  # the fixture, re-used from test_delivery

LEASE = RetryPolicy().claim_lease
HERE = this_process(NOW)
pytestmark = pytest.mark.skipif(not HERE.place, reason="needs Linux /proc to tell pids apart")


@pytest.fixture
async def child() -> AsyncIterator[asyncio.subprocess.Process]:
    """A process that runs until it is killed (another nkru process, as far as claims go)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(600)"
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def holder_of(proc: asyncio.subprocess.Process, seen_at: datetime) -> Instance:
    """The child as an instance in this place that last beat at `seen_at`."""
    started = start_time(proc.pid)
    assert started is not None
    return Instance(f"child-{proc.pid}", HERE.place, proc.pid, started, seen_at)


async def claimed_by(store: Store, holder: Instance, stories: Stories, clock: Clock) -> int:
    """An alert queued and claimed by `holder` (which announced itself at NOW); its id."""
    entry = await stories.queue(await stories.story("Bridge opens", ["Wire"]))
    async with store.transaction() as tx:
        await tx.instances.beat(holder)
        [alert] = await tx.outbox.claim_due(clock(), LEASE, by=holder.id)
    assert alert.outbox_id == entry
    return entry


async def test_a_live_holder_keeps_its_claim_and_a_killed_one_loses_it_at_once(
    store: Store, stories: Stories, child: asyncio.subprocess.Process
) -> None:
    clock, adapter = Clock(), ScriptedAdapter()
    # However old its heartbeat: here the kernel says whether it runs.
    holder = holder_of(child, seen_at=NOW - timedelta(days=1))
    await claimed_by(store, holder, stories, clock)

    await beat(store, clock)
    assert (await deliver_due(store, {"fake": adapter}, clock)).sent == 0

    child.kill()
    await child.wait()
    await beat(store, clock)  # this process starting (or beating) after the holder died

    report = await deliver_due(store, {"fake": adapter}, clock)
    assert report.sent == 1
    assert adapter.calls[0].redelivery  # the dead holder may have posted it: adapters check
    async with store.transaction() as tx:
        assert {i.id for i in await tx.instances.all()} == {this_process_id()}


async def test_a_holder_elsewhere_keeps_its_claim_until_its_heartbeat_is_stale(
    store: Store, stories: Stories
) -> None:
    clock, adapter = Clock(), ScriptedAdapter()
    elsewhere = Instance("other-host", "another boot id pid:[1]", os.getpid(), 1, NOW)
    await claimed_by(store, elsewhere, stories, clock)

    clock.advance(STALE_AFTER.total_seconds() - 1)
    await beat(store, clock)
    assert (await deliver_due(store, {"fake": adapter}, clock)).sent == 0

    clock.advance(2)
    await beat(store, clock)
    assert (await deliver_due(store, {"fake": adapter}, clock)).sent == 1


async def test_a_recorded_outcome_ends_the_claim(store: Store, stories: Stories) -> None:
    """A failed send's retry time is kept when its holder dies: only running claims go."""
    clock = Clock()
    gone = Instance("gone", "another boot id pid:[1]", 1, 1, NOW - 2 * STALE_AFTER)
    entry = await claimed_by(store, gone, stories, clock)
    async with store.transaction() as tx:
        await tx.outbox.mark_failed(entry, "503", NOW + timedelta(minutes=30))

    await beat(store, clock)

    async with store.transaction() as tx:
        [(due, holder)] = await tx.connection.execute(
            select(outbox.c.next_attempt_at, outbox.c.claimed_by).where(outbox.c.id == entry)
        )
        assert [i.id for i in await tx.instances.all()] == [this_process_id()]
    assert (due, holder) == (NOW + timedelta(minutes=30), None)


def test_a_pid_taken_by_another_process_is_not_the_holder() -> None:
    me = this_process(NOW)
    assert not is_gone(replace(me, id="another process, same pid and start"), me)
    assert is_gone(replace(me, id="an earlier process with this pid", started=me.started - 1), me)
    assert not is_gone(me, me)


async def test_announced_beats_at_once_and_on_every_heartbeat(store: Store) -> None:
    clock = Clock()
    async with announced(store, clock, heartbeat=timedelta(milliseconds=10)):
        assert await seen_at(store) == NOW
        clock.advance(60)
        async with asyncio.timeout(10):
            while await seen_at(store) != clock.now:  # noqa: ASYNC110 - seen only in the database
                await asyncio.sleep(0.01)
    # The heartbeat task ended with the block (cancelled and awaited): no beat comes later.
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "instance-heartbeat"]


async def seen_at(store: Store) -> datetime:
    async with store.transaction() as tx:
        [mine] = [i for i in await tx.instances.all() if i.id == this_process_id()]
    return mine.seen_at
