"""aiosqlite connections whose cursors run a statement in one trip to the connection's thread.

SQLAlchemy's aiosqlite adapter makes four trips per statement to aiosqlite's worker thread:
create a cursor, execute, fetch all rows, close. Each trip is a queue hand-off to the thread and
a wake-up of the event loop (~0.1 ms of CPU on a 2-core machine, more when the machine is busy
parsing), and an ingest is about a dozen statements: the trips cost more than the SQL
(benchmarks/pipeline.py, "rest: BEGIN/COMMIT, hand-offs"). The cursor here does all four in
one trip; SQLAlchemy reads every row at once anyway (no server-side cursors are used).

It subclasses aiosqlite's Connection and uses two of its internals (`_execute`, the thread), so
pyproject.toml pins aiosqlite to the minor version tested here; tests/storage/test_sqlite_driver.py
fails first if a new release changes them.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import aiosqlite

# What a trip brings back: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


def connect(database: str, **kwargs: Any) -> aiosqlite.Connection:
    """`aiosqlite.connect` with one-trip cursors (SQLAlchemy's `async_creator_fn`)."""
    connection = OneTripConnection(
        functools.partial(sqlite3.connect, database, **kwargs), iter_chunk_size=64
    )
    # As SQLAlchemy does for aiosqlite's own connections: never keep the process alive.
    connection._thread.daemon = True
    return connection


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose `cursor()` is a `OneTripCursor`."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor; nothing is sent to the thread until it executes."""
        return OneTripCursor(self)

    async def commit(self) -> None:
        """Commit, without a trip to the thread when no transaction is open (sqlite3 would do
        nothing: a read-only transaction never began one, as sqlite3 begins before DML)."""
        if self.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        """Roll back, without a trip when no transaction is open (SQLAlchemy's pool rolls back
        every connection it is handed back, after its commit too)."""
        if self.in_transaction:
            await super().rollback()

    async def run(self, function: Callable[..., _Outcome], *args: Any) -> _Outcome:
        """`function(sqlite3 connection, *args)` in the connection's thread (one trip)."""
        outcome: _Outcome = await self._execute(function, self._conn, *args)  # type: ignore[no-untyped-call]
        return outcome


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy uses, one thread trip per execute."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        """Run one statement and keep all its rows."""
        outcome = await self._connection.run(
            _run, "execute", sql, () if parameters is None else parameters
        )
        self._keep(outcome)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        """Run one statement for each parameter set."""
        outcome = await self._connection.run(_run, "executemany", sql, parameters)
        self._keep(outcome)
        return self

    def _keep(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchone(self) -> Any:
        """The next kept row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        """The next `size` kept rows (`arraysize` by default)."""
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> Sequence[Any]:
        """Every kept row not fetched yet."""
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        """Forget the rows (the sqlite3 cursor was closed in the thread already)."""
        self._rows = []


def _run(connection: sqlite3.Connection, method: str, sql: str, parameters: Any) -> _Outcome:
    # Runs in aiosqlite's thread: `method` is "execute" or "executemany".
    cursor = connection.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        return _outcome(cursor)
    finally:
        cursor.close()


def _outcome(cursor: sqlite3.Cursor) -> _Outcome:
    rows = cursor.fetchall() if cursor.description else []
    return cursor.description, cursor.rowcount, cursor.lastrowid, rows
