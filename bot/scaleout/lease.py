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

import asyncpg  # type: ignore[import-untyped]  # (no stubs; the calls below are few and simple)

from bot.scaleout.queue import conninfo

log = logging.getLogger(__name__)

# An arbitrary constant naming "the Discord gateway" among the bot's advisory locks
# (storage/locks.py has the others).
GATEWAY_LEASE_KEY = 0x6E6B72756777  # "nkrugw"
# The server ends the holder's session about 11 s after its host stops answering (TCP
# keepalives: seconds idle before the first probe, between probes, probes lost), so a lost host
# frees the lease too.
SERVER_KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}
# A check the server does not answer this soon counts as a lost connection.
CHECK_TIMEOUT = 5.0
# What a lost or refused connection raises.
CONNECTION_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

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
        self.dsn = conninfo(database_url)
        self.key = key
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.retry = retry
        self.name = name
        self.held = False
        self.attempts = 0  # tries to take it (tests wait for them)
        self.connection: asyncpg.Connection | None = None

    async def run(self) -> None:
        """Take, hold and take again, until cancelled (which gives the lease up)."""
        while True:
            try:
                await self._take_and_hold()
            except CONNECTION_ERRORS as exc:
                log.warning("%s: database connection lost (%s); trying again", self.name, exc)
            except Exception:  # on_acquired failed: give the lease to someone else
                log.exception("%s: could not start as the holder; trying again", self.name)
            was_held = await self.release()
            # A process that just lost the lease lets the others try first.
            await asyncio.sleep(self.retry * (2 if was_held else 1))

    async def _take_and_hold(self) -> None:
        self.connection = connection = await asyncpg.connect(
            self.dsn, timeout=10, server_settings=SERVER_KEEPALIVES
        )
        while True:
            self.attempts += 1
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                break
            await asyncio.sleep(self.retry)
        await asyncio.sleep(self.retry / 2)  # the previous holder's next check fails meanwhile
        await self._check(connection)  # still ours
        self.held = True
        log.info("%s: this process holds it now", self.name)
        await self.on_acquired()
        while True:  # a failed check ends the session, and the lock with it
            await asyncio.sleep(self.retry / 3)  # within a new holder's wait (retry / 2)
            await self._check(connection)

    @staticmethod
    async def _check(connection: asyncpg.Connection) -> None:
        """Raise if the connection (and so the lock) is gone or the server does not answer."""
        await connection.fetchval("SELECT 1", timeout=CHECK_TIMEOUT)

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
                # Ends the session: the lock is free for the others (a dead one is just dropped).
                try:
                    await asyncio.wait_for(connection.close(), CHECK_TIMEOUT)
                except CONNECTION_ERRORS:
                    connection.terminate()
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
