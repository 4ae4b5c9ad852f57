"""aiosqlite connections whose cursors run a statement in one trip to the connection's thread.

SQLAlchemy's aiosqlite adapter makes up to four trips per statement to aiosqlite's worker
thread: create a cursor, execute, fetch all rows, close. Each trip is a queue hand-off to the
thread and a wake-up of the event loop (~40-70 µs of CPU on a 2-core machine, more when the
machine is busy parsing), and an ingest is about a dozen statements: the trips cost more than
the SQL (benchmarks/pipeline.py, "rest: BEGIN/COMMIT, hand-offs"). The cursor here does all
four in one trip; SQLAlchemy reads every row at once anyway (no server-side cursors are used).

Public APIs only (no attribute of aiosqlite or sqlite3 with a leading underscore):

- the trip is aiosqlite's `Connection.execute_fetchall(sql, parameters)`, which runs
  `execute(sql, parameters).fetchall()` on the sqlite3 connection in the thread;
- that sqlite3 connection is a subclass made with `sqlite3.connect(..., factory=_SQLite)`: its
  `execute` runs `executemany` when handed `Many` parameter sets, and its cursors' `fetchall`
  brings back an `Outcome`, the rows with the statement's description, rowcount and lastrowid;
- `OneTripConnection` subclasses aiosqlite's `Connection`, so SQLAlchemy gets a real aiosqlite
  connection, and overrides only public methods (`cursor`, `commit`, `rollback`).

If a release of aiosqlite stopped calling the sqlite3 connection's `execute` in
`execute_fetchall`, statements would fail loudly (TypeError), never return wrong results.

Works with aiosqlite 0.16 (the first whose `Connection` takes `iter_chunk_size`) to 0.22 at
least, and with SQLAlchemy 2.0.25 and 2.1 (tests/storage run with each).
"""

from __future__ import annotations

import concurrent.futures
import functools
import sqlite3
import threading
from collections.abc import Generator, Iterable, Sequence
from types import TracebackType
from typing import Any

import aiosqlite


async def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """`aiosqlite.connect` with one-trip cursors (for SQLAlchemy's `async_creator`).

    Its thread never keeps the process alive, as SQLAlchemy makes sure for the aiosqlite
    connections it opens itself: a connection still checked out when the engine is disposed (a
    task cancelled at exit) or an engine never disposed would otherwise hang the process at
    exit. A thread is a daemon when the thread that creates it is one, and aiosqlite creates
    the connection's thread with the connection: so the connection is made in a daemon thread.
    """
    connector = functools.partial(sqlite3.connect, database, factory=_SQLite, **kwargs)
    made: concurrent.futures.Future[OneTripConnection] = concurrent.futures.Future()

    def make() -> None:
        try:
            made.set_result(OneTripConnection(connector, iter_chunk_size=64))
        except BaseException as exc:
            made.set_exception(exc)

    threading.Thread(target=make, name="sqlite_driver.connect", daemon=True).start()
    connection = made.result()  # no I/O: the thread is done at once
    await connection
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


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy uses, one thread trip per execute."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self.connection = connection  # ours: the OneTripConnection it runs on
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        """`await connection.cursor()` works, as with aiosqlite's cursors: SQLAlchemy 2.0.25
        awaits it, 2.1 enters it (`__aenter__`)."""
        yield from ()
        return self

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
        self._keep(await self._one_trip(sql, () if parameters is None else parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        """Run one statement for each parameter set."""
        self._keep(await self._one_trip(sql, Many(parameters)))
        return self

    async def _one_trip(self, sql: str, parameters: Any) -> Outcome:
        outcome = await self.connection.execute_fetchall(sql, parameters)
        if not isinstance(outcome, Outcome):  # the sqlite3 connection was not made by connect
            raise TypeError("a OneTripCursor needs a connection made by sqlite_driver.connect")
        return outcome

    def _keep(self, outcome: Outcome) -> None:
        self.description = outcome.description
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid
        self._rows = outcome

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
        """Forget the rows (the sqlite3 cursor was done with in the thread already)."""
        self._rows = []


class Many:
    """Parameter sets for `executemany`, passed through `execute_fetchall`."""

    __slots__ = ("sets",)

    def __init__(self, sets: Iterable[Any]) -> None:
        self.sets = sets


class Outcome(list[Any]):
    """A statement's rows, with what its cursor said about it."""

    __slots__ = ("description", "lastrowid", "rowcount")

    def __init__(
        self, rows: Iterable[Any], description: Any, rowcount: int, lastrowid: int | None
    ) -> None:
        super().__init__(rows)
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid


# Both classes below run in aiosqlite's thread.


class _SQLite(sqlite3.Connection):
    """A sqlite3 connection whose `execute` cursors are `_Cursor`s."""

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        """`Cursor.execute`, or `Cursor.executemany` for `Many` parameter sets."""
        cursor = self.cursor(_Cursor)
        if isinstance(parameters, Many):
            cursor.executemany(sql, parameters.sets)
        else:
            cursor.execute(sql, parameters)
        return cursor


class _Cursor(sqlite3.Cursor):
    """A sqlite3 cursor whose `fetchall` is an `Outcome`."""

    def fetchall(self) -> Outcome:
        """The rows left, with description, rowcount and lastrowid."""
        rows = super().fetchall() if self.description else ()
        return Outcome(rows, self.description, self.rowcount, self.lastrowid)
