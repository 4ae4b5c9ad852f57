"""SQLite through storage.sqlite_driver: one thread trip per statement, results as aiosqlite."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.core.repositories import DatabaseError
from storage import sqlite_driver
from storage.engine import Store
from tests.conftest import REPO_ROOT


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", migrate=False)
    async with store.transaction() as conn:
        await conn.connection.execute(
            text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        )
    yield store
    await store.close()


async def test_the_engine_connects_with_one_trip_cursors(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        raw = await conn.connection.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite_driver.OneTripConnection)
        # The pragmas of the "connect" event still apply.
        assert (await conn.connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_statements_return_rows_counts_and_ids(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        one = await conn.connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert one.rowcount == 1
        assert one.lastrowid == 1
        assert not one.returns_rows  # no description for plain DML
        many = await conn.connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2
        back = await conn.connection.execute(
            text("INSERT INTO t (name) VALUES ('d') RETURNING id, name")
        )
        assert back.all() == [(4, "d")]
        rows = await conn.connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        first = await conn.connection.execute(text("SELECT name FROM t ORDER BY id"))
        assert first.scalar() == "a"
        empty = await conn.connection.execute(text("SELECT name FROM t WHERE id > 100"))
        assert empty.all() == []
        # An empty result still describes its columns.
        nothing = await conn.connection.execute(
            text("SELECT id AS ident, name FROM t WHERE id > 100")
        )
        assert list(nothing.keys()) == ["ident", "name"]
        changed = await conn.connection.execute(
            text("UPDATE t SET name = name || '!' WHERE id > 2")
        )
        assert changed.rowcount == 2
        renamed = await conn.connection.execute(
            text("UPDATE t SET name = :new WHERE name = :old"),
            [{"old": "a", "new": "A"}, {"old": "b", "new": "B"}, {"old": "zz", "new": "Z"}],
        )
        assert renamed.rowcount == 2  # summed over the parameter sets
        names = (
            (await conn.connection.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        )
        assert names == ["A", "B", "c!", "d!"]


async def test_executemany_with_no_parameter_sets_does_nothing(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        raw = (await conn.connection.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite_driver.OneTripConnection)
        async with raw.cursor() as cursor:
            await cursor.executemany("INSERT INTO t (name) VALUES (?)", [])
            assert cursor.rowcount == 0
            assert cursor.description is None
            assert await cursor.fetchall() == []


async def test_driver_cursor_fetches_kept_rows(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        await conn.connection.execute(
            text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c'), ('d')")
        )
        raw = (await conn.connection.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite_driver.OneTripConnection)
        async with raw.cursor() as cursor:
            await cursor.execute("SELECT id, name FROM t WHERE id > ? ORDER BY id", (0,))
            assert [column[0] for column in cursor.description] == ["id", "name"]
            assert await cursor.fetchone() == (1, "a")
            assert await cursor.fetchmany() == [(2, "b")]  # arraysize 1
            assert await cursor.fetchmany(5) == [(3, "c"), (4, "d")]
            assert await cursor.fetchone() is None
            assert await cursor.fetchall() == []


async def test_it_is_still_an_aiosqlite_connection(sqlite_store: Store) -> None:
    """aiosqlite's own cursors and helpers work on the driver's connections as on any other."""
    async with sqlite_store.transaction() as conn:
        await conn.connection.execute(text("INSERT INTO t (name) VALUES ('a'), ('b')"))
        raw = (await conn.connection.get_raw_connection()).driver_connection
        async with raw.execute("SELECT name FROM t ORDER BY id") as cursor:
            assert await cursor.fetchall() == [("a",), ("b",)]
        assert list(await raw.execute_fetchall("SELECT count(*) FROM t")) == [(2,)]
        assert await raw.execute_insert("INSERT INTO t (name) VALUES ('c')") == (3,)


async def test_errors_reach_sqlalchemy_and_roll_back(sqlite_store: Store) -> None:
    with pytest.raises(IntegrityError):
        async with sqlite_store.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
    with pytest.raises(IntegrityError):
        async with sqlite_store.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('z')"))
            await conn.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "w"}, {"name": "w"}]
            )
    with pytest.raises(OperationalError):
        async with sqlite_store.engine.begin() as conn:
            await conn.execute(text("SELECT nothing FROM nowhere"))
    async with sqlite_store.engine.begin() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        # The connection is still usable after the failed statement.
        await conn.execute(text("INSERT INTO t (name) VALUES ('y')"))


async def test_the_store_reports_database_failures_as_the_cores_error(sqlite_store: Store) -> None:
    """What the core catches (bot.core.repositories.DatabaseError), the driver's error its cause,
    and the transaction rolled back."""
    with pytest.raises(DatabaseError, match=r"UNIQUE constraint failed: t\.name") as failed:
        async with sqlite_store.transaction() as tx:
            await tx.connection.execute(text("INSERT INTO t (name) VALUES ('x')"))
            await tx.connection.execute(text("INSERT INTO t (name) VALUES ('x')"))
    assert isinstance(failed.value.__cause__, IntegrityError)
    async with sqlite_store.transaction() as tx:
        assert (await tx.connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_commit_and_rollback_apply_to_writes_and_skip_reads(sqlite_store: Store) -> None:
    async with sqlite_store.transaction() as conn:
        raw = (await conn.connection.get_raw_connection()).driver_connection
        assert isinstance(raw, sqlite_driver.OneTripConnection)
        await conn.connection.execute(text("SELECT count(*) FROM t"))
        assert not raw.in_transaction  # sqlite3 begins before DML only: nothing to commit
        await conn.connection.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        assert raw.in_transaction
    async with sqlite_store.engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dropped')"))
        await conn.rollback()
    async with sqlite_store.transaction() as conn:
        names = (await conn.connection.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["kept"]


_EXIT_SCRIPT = """
import asyncio, sys
from sqlalchemy import text
from storage.engine import Store

STORES = []

async def main(url):
    held = asyncio.Event()

    async def hold(store):
        async with store.transaction() as conn:
            await conn.connection.execute(text("SELECT 1"))
            held.set()
            await asyncio.sleep(3600)

    closed = await Store.open(url, migrate=False)
    asyncio.get_running_loop().create_task(hold(closed))
    await held.wait()
    await closed.close()  # while a task holds a connection: asyncio.run cancels it at the end
    kept = await Store.open(url, migrate=False)
    async with kept.transaction() as conn:
        await conn.connection.execute(text("SELECT 1"))
    STORES.append(kept)  # never closed
    print("done", flush=True)

asyncio.run(main(sys.argv[1]))
"""


def test_open_connections_do_not_keep_the_process_alive(tmp_path: Path) -> None:
    """A connection still checked out when the store closes, or a store never closed, does
    not stop the process from exiting (as SQLAlchemy's own aiosqlite connections)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'exit.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _EXIT_SCRIPT, url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "done"), done.stderr
