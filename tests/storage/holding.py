"""A write held open: what the reads of tests/storage/test_reading.py and test_web.py run beside."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core.records import NewFeed
from storage.engine import Store
from tests.storage.test_contract import NOW


@asynccontextmanager
async def write_held_open(store: Store, url: str) -> AsyncIterator[None]:
    """Inside: a transaction has added the feed `url` and waits, uncommitted (on SQLite it
    holds the write lock and the store's turn); it commits when the block ends."""
    writing, release = asyncio.Event(), asyncio.Event()

    async def write_and_hold() -> None:
        async with store.transaction() as tx:
            await tx.feeds.add(NewFeed(url, "Held", 900), NOW)
            writing.set()
            await release.wait()

    writer = asyncio.create_task(write_and_hold())
    await writing.wait()
    try:
        yield
    finally:
        release.set()
        await writer
