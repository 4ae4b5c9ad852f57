"""SQLite through storage.sqlite_driver: one thread trip per statement, results as aiosqlite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import sqlite_driver
from storage.engine import Store


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", migrate=False)
    async with store.transaction() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield store
    await store.close()


async def test_the_engine_connects_with_one_trip_cursors(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite_driver.OneTripConnection)
        # The pragmas of the "connect" event still apply.
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"


async def test_statements_return_rows_counts_and_ids(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert one.rowcount == 1
        assert one.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2
        back = await conn.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id, name"))
        assert back.all() == [(4, "d")]
        rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        first = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        assert first.scalar() == "a"
        empty = await conn.execute(text("SELECT name FROM t WHERE id > 100"))
        assert empty.all() == []
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert changed.rowcount == 2


async def test_errors_reach_sqlalchemy_and_roll_back(sqlite_store: Store) -> None:
    with pytest.raises(IntegrityError):
        async with sqlite_store.transaction() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
    async with sqlite_store.transaction() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        # The connection is still usable after the failed statement.
        await conn.execute(text("INSERT INTO t (name) VALUES ('y')"))


async def test_commit_and_rollback_apply_to_writes_and_skip_reads(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite_driver.OneTripConnection)
        await conn.execute(text("SELECT count(*) FROM t"))
        assert not raw.in_transaction  # sqlite3 begins before DML only: nothing to commit
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        assert raw.in_transaction
    async with sqlite_store.engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dropped')"))
        await conn.rollback()
    async with sqlite_store.transaction() as conn:
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["kept"]
