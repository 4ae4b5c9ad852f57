"""Store.reading: reads beside the queued writes, and refuses a write (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.records import NewFeed
from bot.core.repositories import DatabaseError
from storage.engine import Store
from tests.storage.holding import write_held_open
from tests.storage.test_contract import NOW


async def test_reading_sees_committed_rows_while_a_write_is_open(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.feeds.add(NewFeed("https://one.example/rss", "One", 900), NOW)

    async def urls() -> list[str]:
        async with store.reading() as tx:
            return [feed.url for feed in await tx.feeds.list_all()]

    async with write_held_open(store, "https://two.example/rss"):
        # The deadline only keeps a read stuck behind the write from hanging the suite.
        assert await asyncio.wait_for(urls(), timeout=20) == ["https://one.example/rss"]


async def test_a_write_while_reading_fails_and_changes_nothing(store: Store) -> None:
    with pytest.raises(DatabaseError):
        async with store.reading() as tx:
            await tx.feeds.add(NewFeed("https://one.example/rss", "One", 900), NOW)
    async with store.reading() as tx:
        assert await tx.feeds.list_all() == []
