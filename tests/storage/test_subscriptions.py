"""Subscription versions on SQLite and real PostgreSQL: appended, newest per channel in force."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.records import Author
from bot.core.subscriptions.model import NewSubscription, SubscriptionSpec
from storage.engine import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ANA = Author("slack", "U01", "Ana")
DIGEST = SubscriptionSpec(("tumen-bridge", "troops"), "digest", "0 8 * * *", 1.5)
QUIET = SubscriptionSpec((), "instant", None, 0.0, "22:00-07:00", "Europe/Berlin")


async def add(store: Store, destination: str, spec: SubscriptionSpec | None, minutes: int) -> int:
    new = NewSubscription(destination, spec, ANA, f"change {minutes}")
    async with store.transaction() as tx:
        stored = await tx.subscriptions.add(new, NOW + timedelta(minutes=minutes))
    return stored.id


async def test_a_new_database_has_no_subscriptions(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.subscriptions.latest_id() is None
        assert await tx.subscriptions.in_force() == []
        assert await tx.subscriptions.history("slack:C1") == []


async def test_the_newest_version_of_each_channel_is_in_force(store: Store) -> None:
    first = await add(store, "slack:C1", DIGEST, 1)
    await add(store, "discord:9", QUIET, 2)
    await add(store, "slack:C1", QUIET, 3)  # replaces C1's digest
    last = await add(store, "discord:9", None, 4)  # unsubscribes discord:9
    async with store.transaction() as tx:
        assert await tx.subscriptions.latest_id() == last
        [c1] = await tx.subscriptions.in_force()
        history = await tx.subscriptions.history("slack:C1")
    assert (c1.destination, c1.spec, c1.author) == ("slack:C1", QUIET, ANA)
    assert c1.at == NOW + timedelta(minutes=3)
    assert [version.spec for version in history] == [QUIET, DIGEST]  # newest first, exactly
    assert history[-1].id == first and history[0].change == "change 3"


async def test_history_is_limited_and_per_channel(store: Store) -> None:
    for minute in range(5):
        await add(store, "slack:C1", DIGEST, minute)
    await add(store, "slack:C2", QUIET, 9)
    async with store.transaction() as tx:
        two = await tx.subscriptions.history("slack:C1", 2)
    assert len(two) == 2 and {version.destination for version in two} == {"slack:C1"}
    assert two[0].id > two[1].id


async def test_the_writers_lock_makes_a_second_writer_wait_until_the_first_commits(
    store: Store,
) -> None:
    first_has_lock, first_may_commit = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with store.transaction() as tx:
            await tx.subscriptions.lock()
            first_has_lock.set()
            await first_may_commit.wait()
            await tx.subscriptions.add(NewSubscription("slack:C1", DIGEST, ANA, "first"), NOW)
            order.append("first wrote")

    async def second() -> None:
        await first_has_lock.wait()
        async with other.transaction() as tx:
            await tx.subscriptions.lock()
            [seen] = await tx.subscriptions.history("slack:C1")
            order.append(f"second saw {seen.change}")

    # Another handle on the database, as another process has (one Store queues its own
    # SQLite transactions before they reach the database).
    other = await Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        waiting = asyncio.gather(first(), second())
        await asyncio.sleep(0.3)  # the second is blocked on the lock, not done
        assert order == []
        first_may_commit.set()
        await asyncio.wait_for(waiting, 30)
    finally:
        await other.close()
    assert order == ["first wrote", "second saw first"]
