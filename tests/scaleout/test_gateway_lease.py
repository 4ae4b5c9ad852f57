"""The gateway lease (bot.scaleout.lease) on the real PostgreSQL: one holder among several, and
another takes over when the holder's connection ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import asyncpg
import pytest

from bot.scaleout.lease import Lease, leased
from bot.scaleout.queue import conninfo
from tests.fakes.waiting import wait_until

pytestmark = pytest.mark.postgres
KEY = 0x7465_7374  # not the gateway's key: nothing else in the database takes it
RETRY = 0.2


class Holders:
    """Who holds the lease, as the callbacks report it; `overlaps` counts two at once."""

    def __init__(self) -> None:
        self.now: set[str] = set()
        self.events: list[tuple[str, str]] = []
        self.overlaps = 0

    def lease(self, url: str, name: str) -> Lease:
        async def acquired() -> None:
            self.now.add(name)
            self.overlaps += len(self.now) > 1
            self.events.append(("acquired", name))

        async def lost() -> None:
            self.now.discard(name)
            self.events.append(("lost", name))

        return Lease(url, KEY, acquired, lost, retry=RETRY, name=name)


@pytest.fixture
async def three(pg_url: str) -> AsyncIterator[tuple[Holders, list[Lease]]]:
    holders = Holders()
    async with AsyncExitStack() as stack:
        leases = [
            await stack.enter_async_context(leased(holders.lease(pg_url, f"p{n}")))
            for n in range(3)
        ]
        yield holders, leases


async def tries_pass(leases: list[Lease], rounds: int = 5) -> None:
    """Wait until every lease not held has tried to take it `rounds` more times."""
    marks = [lease.attempts + rounds for lease in leases]
    await wait_until(
        lambda: all(
            lease.held or lease.attempts >= mark for lease, mark in zip(leases, marks, strict=True)
        )
    )


async def test_one_of_three_holds_the_lease_and_another_takes_over_when_its_session_ends(
    pg_url: str, three: tuple[Holders, list[Lease]]
) -> None:
    holders, leases = three
    await wait_until(lambda: len(holders.now) == 1)
    await tries_pass(leases)
    assert len(holders.now) == 1
    first = next(lease for lease in leases if lease.held)

    # The holder's connection is cut (a network failure, an administrator, a restart).
    assert first.connection is not None
    admin = await asyncpg.connect(conninfo(pg_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", first.connection.get_server_pid())
    finally:
        await admin.close()
    await wait_until(lambda: ("lost", first.name) in holders.events, seconds=10)
    await wait_until(lambda: len(holders.now) == 1, seconds=10)
    await tries_pass(leases)
    assert len(holders.now) == 1
    assert holders.overlaps == 0
    assert holders.events[:2] == [("acquired", first.name), ("lost", first.name)]
    assert holders.events[2][0] == "acquired"


async def test_leaving_gives_the_lease_to_another_at_once(
    three: tuple[Holders, list[Lease]],
) -> None:
    holders, leases = three
    await wait_until(lambda: len(holders.now) == 1)
    first = next(lease for lease in leases if lease.held)
    await first.release()  # as on shutdown: the session ends, the lock with it
    await wait_until(lambda: any(lease.held for lease in leases if lease is not first))
    assert holders.overlaps == 0
