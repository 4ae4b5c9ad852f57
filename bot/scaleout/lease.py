"""A lease held by one process at a time among all those on one PostgreSQL database.

The lease is a session-level advisory lock on a connection of its own: PostgreSQL releases it
when that connection ends, so a holder that dies (kill -9, a lost host, a dropped connection)
frees it without anyone having to notice. The others try to take it every `retry` seconds; the
holder checks its connection three times as often and gives the lease up (`on_lost`) when the
connection is gone. A new holder waits half a `retry` after taking the lock before it starts
(`on_acquired`): by then a previous holder whose session the server ended has noticed and
stopped, so the two never run at once (short of a process frozen for longer than that).

Used for the Discord gateway (bot.chat): Discord sends every interaction to every connected
gateway session, so only one process may have one open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
from psycopg.conninfo import make_conninfo

from bot.scaleout.queue import conninfo

log = logging.getLogger(__name__)

# An arbitrary constant naming "the Discord gateway" among the bot's advisory locks
# (storage/locks.py has the others).
GATEWAY_LEASE_KEY = 0x6E6B72756777  # "nkrugw"
# TCP keepalives on both ends (seconds idle before the first probe, between probes, probes
# lost): the server ends the holder's session about 11 s after its host stops answering, so a
# lost host frees the lease too, and a holder cut off from the server notices as soon.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
)

Callback = Callable[[], Awaitable[None]]


class Lease:
    """Take the lease when it is free, keep it while the connection lives; see the module."""

    def __init__(
        self,
        database_url: str,
        key: int,
        on_acquired: Callback,
        on_lost: Callback,
        *,
        retry: float = 3.0,
        name: str = "lease",
    ) -> None:
        self.conninfo = make_conninfo(
            conninfo(database_url), options=SERVER_KEEPALIVES, connect_timeout=10, **KEEPALIVES
        )
        self.key = key
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.retry = retry
        self.name = name
        self.held = False
        self.attempts = 0  # tries to take it (tests wait for them)
        self.connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def run(self) -> None:
        """Take, hold and take again, until cancelled (which gives the lease up)."""
        while True:
            try:
                await self._take_and_hold()
            except (psycopg.Error, OSError) as exc:
                log.warning("%s: database connection lost (%s); trying again", self.name, exc)
            except Exception:  # on_acquired failed: give the lease to someone else
                log.exception("%s: could not start as the holder; trying again", self.name)
            was_held = await self.release()
            # A process that just lost the lease lets the others try first.
            await asyncio.sleep(self.retry * (2 if was_held else 1))

    async def _take_and_hold(self) -> None:
        self.connection = connection = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True
        )
        while True:
            self.attempts += 1
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = await cursor.fetchone()
            if row is not None and row[0] is True:
                break
            await asyncio.sleep(self.retry)
        await asyncio.sleep(self.retry / 2)  # the previous holder's next check fails meanwhile
        await connection.execute("SELECT 1")  # still ours
        self.held = True
        log.info("%s: this process holds it now", self.name)
        await self.on_acquired()
        while True:  # a failed check ends the session, and the lock with it
            await asyncio.sleep(self.retry / 3)  # within a new holder's wait (retry / 2)
            await connection.execute("SELECT 1")

    async def release(self) -> bool:
        """Stop being the holder (on_lost) and close the connection; True if it was held."""
        was_held, self.held = self.held, False
        connection, self.connection = self.connection, None
        try:
            if was_held:
                log.warning("%s: this process no longer holds it", self.name)
                await self.on_lost()
        finally:
            if connection is not None:
                await connection.close()  # ends the session: the lock is free for the others
        return was_held


@asynccontextmanager
async def leased(lease: Lease) -> AsyncIterator[Lease]:
    """Run `lease` in the background for the block; on exit give it up (on_lost if held)."""
    task = asyncio.create_task(lease.run(), name=f"nkru-{lease.name}")
    try:
        yield lease
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await lease.release()
