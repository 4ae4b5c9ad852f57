"""storage.watchlist_versions on SQLite and PostgreSQL: numbering, look-ups, history, the lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.records import Author, NewVersion
from storage.engine import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ANA = Author("slack", "U01", "Ana")


def new(document: str, change: str, source: str = "chat") -> NewVersion:
    return NewVersion("nkru", document, ANA, change, source)


async def test_versions_are_numbered_and_read_back(store: Store) -> None:
    async with store.transaction() as conn:
        assert await conn.versions.latest() is None and await conn.versions.latest_number() is None
        first = await conn.versions.insert_version(new("a = 1\n", "seed nkru.toml", "seed"), NOW)
        second = await conn.versions.insert_version(
            new("a = 2\n", '+ term "Rason" (word) in tumen-bridge'), NOW + timedelta(1)
        )
    async with store.transaction() as conn:
        latest = await conn.versions.latest()
        assert latest is not None and latest.document == "a = 2\n"
        assert latest.info == second and second.version > first.version
        assert await conn.versions.latest_number() == second.version
        got = await conn.versions.get(first.version)
        assert got is not None and got.document == "a = 1\n" and got.info.source == "seed"
        previous = await conn.versions.before(second.version)
        assert previous is not None and previous.version == first.version
        assert await conn.versions.before(first.version) is None
        assert await conn.versions.find_document("a = 1\n") == first.version
        assert await conn.versions.find_document("a = 3\n") is None
    assert (second.author, second.created_at) == (ANA, NOW + timedelta(1))


async def test_history_by_theme_matches_whole_slugs(store: Store) -> None:
    changes = [
        '+ term "x" (word) in tumen',
        '+ term "y" (word) in tumen-bridge',
        "− theme troops",
        "~ tumen-bridge min_score 1.3 → 1.5",
    ]
    async with store.transaction() as conn:
        for number, change in enumerate(changes):
            await conn.versions.insert_version(new(f"v = {number}\n", change), NOW)
        everything = await conn.versions.history(10)
        bridge = await conn.versions.history(10, "tumen-bridge")
        tumen = await conn.versions.history(10, "tumen")
        one = await conn.versions.history(1, "tumen-bridge")

    assert [info.change for info in everything] == changes[::-1]
    assert [info.change for info in bridge] == [changes[3], changes[1]]
    assert [info.change for info in tumen] == [changes[0]]
    assert [info.change for info in one] == [changes[3]]


async def test_the_lock_serialises_writers_across_processes(store_url: str) -> None:
    """Two engines (two processes) read-modify-write under the lock: the second waits for the
    first to commit and builds on its version."""
    first, second = await Store.open(store_url), await Store.open(store_url, migrate=False)
    try:
        async with first.transaction() as conn:
            await conn.versions.insert_version(new("n = 0\n", "seed", "seed"), NOW)
        inside = asyncio.Event()

        async def bump(store: Store, hold: float) -> int:
            async with store.transaction() as conn:
                await conn.versions.lock()
                inside.set()
                latest = await conn.versions.latest()
                assert latest is not None
                await asyncio.sleep(hold)  # the other writer tries to get in meanwhile
                number = int(latest.document.split("=")[1]) + 1
                await conn.versions.insert_version(new(f"n = {number}\n", f"bump {number}"), NOW)
                return number

        slow = asyncio.create_task(bump(first, 0.3))
        await inside.wait()
        fast = await bump(second, 0)
        assert sorted([await slow, fast]) == [1, 2]
        async with first.transaction() as conn:
            latest = await conn.versions.latest()
        assert latest is not None and latest.document == "n = 2\n"
    finally:
        await first.close()
        await second.close()
