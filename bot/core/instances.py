"""Who holds an outbox claim, and whether that process still runs.

A process that delivers announces itself while it runs (`announced`): a row with a random id,
where it runs, its pid and start time, renewed every HEARTBEAT. Its claims carry the id
(`Outbox.claim_due(by=…)`). When it starts, and at every heartbeat, it releases the claims of
instances that are gone, so those alerts are retried at once instead of when their lease (five
minutes) ends:

* an instance in the same place as this one (one kernel boot and pid namespace) is gone as soon
  as no process runs with its pid and start time: the kernel knows at once, so a restart on the
  same machine retries what its previous life had claimed straight away, `kill -9` included;
* any other instance is gone when its heartbeat is older than STALE_AFTER.

A live process's claims are not released: in the same place its pid runs, elsewhere it beats.
If one is taken for gone wrongly (a host paused longer than STALE_AFTER, clocks far apart),
its alert is claimed twice, and the adapters' redelivery checks (`claims` > 1) keep the post
single, as after any crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.records import Instance
from bot.core.repositories import Database, DatabaseError

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=15)
STALE_AFTER = timedelta(seconds=60)  # four heartbeats missed: a database hiccup is not death
_PROC = Path("/proc")


@functools.cache
def _identity(pid: int) -> tuple[str, str, int]:
    """(id, place, start time) of this process; keyed by pid, so a forked child gets its own."""
    started = start_time(pid)
    if started is None:  # no /proc: others cannot check our pid, only our heartbeat
        return uuid.uuid4().hex, "", 0
    return uuid.uuid4().hex, _place(), started


def this_process(now: datetime) -> Instance:
    """This process as an instance that beats at `now`."""
    pid = os.getpid()
    instance_id, place, started = _identity(pid)
    return Instance(instance_id, place, pid, started, seen_at=now)


def this_process_id() -> str:
    """The id this process's outbox claims carry."""
    return _identity(os.getpid())[0]


def _place() -> str:
    """This kernel boot and pid namespace: where a pid names one process ("" if unknown)."""
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(_PROC / "self/ns/pid")
    except OSError:  # not Linux, or /proc hidden: only heartbeats can tell
        return ""
    return f"{boot} {namespace}"


def start_time(pid: int) -> int | None:
    """When the process `pid` started (clock ticks after boot); None if none runs with it."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # exited, only its exit status is left to read
        return None
    return int(fields[19])


def is_gone(other: Instance, here: Instance, stale_after: timedelta = STALE_AFTER) -> bool:
    """Whether `other` has certainly stopped, as seen from `here` at `here.seen_at`."""
    if other.id == here.id:
        return False
    if here.place and other.place == here.place:
        return start_time(other.pid) != other.started
    return other.seen_at < here.seen_at - stale_after


async def release_gone(
    store: Database, here: Instance, stale_after: timedelta = STALE_AFTER
) -> int:
    """Make the alerts claimed by gone instances due now, and forget those; how many alerts."""
    async with store.transaction() as tx:
        gone = [i.id for i in await tx.instances.all() if is_gone(i, here, stale_after)]
        if not gone:
            return 0
        released = await tx.outbox.release_claims(gone, here.seen_at)
        await tx.instances.remove(gone)
    if released:
        log.warning("%d alert(s) claimed by a stopped process are due again now", released)
    return released


async def beat(
    store: Database, clock: Callable[[], datetime], stale_after: timedelta = STALE_AFTER
) -> None:
    """Record this process's heartbeat, then release the claims of gone instances."""
    here = this_process(clock())
    try:
        async with store.transaction() as tx:
            await tx.instances.beat(here)
        await release_gone(store, here, stale_after)
    except DatabaseError as exc:  # the next heartbeat tries again; delivery goes on meanwhile
        log.warning("instance heartbeat failed: %s", exc)


@contextlib.asynccontextmanager
async def announced(
    store: Database,
    clock: Callable[[], datetime],
    *,
    heartbeat: timedelta = HEARTBEAT,
    stale_after: timedelta = STALE_AFTER,
) -> AsyncIterator[None]:
    """This process announced for the block: it beats now (releasing the claims of gone
    instances before the first delivery) and every `heartbeat` until the block ends.

    The row stays when the block ends: a claim left over (a send that outlived the shutdown)
    is released by whichever process next sees this one gone.
    """
    await beat(store, clock, stale_after)

    async def keep_beating() -> None:
        while True:
            await asyncio.sleep(heartbeat.total_seconds())
            try:
                await beat(store, clock, stale_after)
            except Exception:  # a bug here must not stop the heartbeats for good
                log.exception("instance heartbeat failed")

    task = asyncio.create_task(keep_beating(), name="instance-heartbeat")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task])  # not `await task`: that would re-raise its cancellation
