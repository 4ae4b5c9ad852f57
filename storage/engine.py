"""Engine set-up: one async SQLAlchemy engine per process, migrations applied on open."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.repositories import DatabaseError
from storage import sqlite_driver
from storage.locks import lock_migrations
from storage.transaction import SqlTransaction

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration in MIGRATIONS (a test holds the two together): a database already there
# is opened without Alembic, which takes longer to import than the rest of a short command.
SCHEMA_HEAD = "0017"
# PostgreSQL: transactions at once, each on a connection the pool keeps open. (It was 5 kept
# and 5 more opened for one transaction and closed after it: a busy worker then started a new
# server process, and prepared its statements again, most of the times it began a transaction.)
POOL_SIZE = 10
# Beyond the pool, for the few uses outside `transaction` (start-up's schema check).
POOL_OVERFLOW = 2
# SQLite: read-only connections at once (`reading`).
READERS = 5


class StorageError(Exception):
    """The database cannot be opened or migrated; the message says what to do."""


class Store:
    """A handle on the database: hand out transactions, nothing else (repositories do the SQL)."""

    def __init__(self, engine: AsyncEngine, reader: AsyncEngine | None = None) -> None:
        """`reader`: an engine of read-only connections to the same SQLite file, for
        `reading` (None: reads take their turn with the writes)."""
        self.engine = engine
        self._reader = reader
        # SQLite has one writer at a time and a small pool: many concurrent polls would wait on
        # its lock until "database is locked" or time out on the pool. Queue them here instead
        # (PostgreSQL: as many transactions at once as the pool holds).
        limit = 1 if engine.dialect.name == "sqlite" else POOL_SIZE
        self._gate = asyncio.Semaphore(limit)
        self._readers = asyncio.Semaphore(READERS)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect (creating the SQLite file's folder) and bring the schema up to date."""
        try:
            store = cls(_create_engine(url), _create_reader(url))
        except (SQLAlchemyError, OSError) as exc:  # e.g. the SQLite file's folder cannot be made
            raise StorageError(_explain(url, exc)) from exc
        if migrate:
            try:
                # Checked under the lock too: on a new SQLite file, the first connections race
                # to switch it to WAL, and the losers get "database is locked" at once.
                async with _migration_lock(store.engine):
                    if not await store.is_current():
                        await store._apply_migrations()
            except (SQLAlchemyError, OSError) as exc:
                await store.close()
                raise StorageError(_explain(url, exc)) from exc
        return store

    async def is_current(self) -> bool:
        """Whether the schema is at SCHEMA_HEAD (False for a new database); a database that
        cannot be reached raises, as in `upgrade`."""
        async with self.engine.connect() as conn:
            try:
                found = await conn.execute(text("SELECT version_num FROM alembic_version"))
            except DBAPIError:  # no alembic_version table yet
                return False
            return list(found.scalars()) == [SCHEMA_HEAD]

    async def upgrade(self) -> None:
        """Apply Alembic migrations up to head; safe when several processes start at once.

        The first to get the lock migrates; the others wait, then find the schema at head.
        """
        async with _migration_lock(self.engine):
            await self._apply_migrations()

    async def _apply_migrations(self) -> None:
        """`upgrade` for a caller that holds `_migration_lock` already."""
        async with self.engine.begin() as conn:
            await lock_migrations(conn)
            await conn.run_sync(_alembic_upgrade)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Never open a second transaction inside one (on SQLite that would wait forever). A
        failure of the database (SQLAlchemy's errors) comes out as the core's DatabaseError.
        """
        with _as_database_error():
            async with self._gate, self.engine.begin() as conn:
                yield SqlTransaction(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlTransaction]:
        """A transaction for reads alone, which on a SQLite file does not wait for its turn
        behind the queued writes (`transaction`): WAL lets readers run beside the one writer.

        Why: at 10,000 feeds the writes of polls and ingests queue one after another, and
        `/healthz` waited behind them up to 3 s (benchmarks/capacity.py), past a probe's usual
        timeout. Its connections are read-only (`PRAGMA query_only`): a write fails, loudly.
        Each statement reads what was committed when it started. Elsewhere it is `transaction`
        (on PostgreSQL a READ ONLY one, whose writes fail too; on an in-memory SQLite
        database, whose connections each see a database of their own, a plain one).
        """
        if self._reader is None:
            async with self.transaction() as tx:
                if self.dialect == "postgresql":
                    await tx.connection.execute(text("SET TRANSACTION READ ONLY"))
                yield tx
            return
        with _as_database_error():
            async with self._readers, self._reader.connect() as conn:
                yield SqlTransaction(conn)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()
        if self._reader is not None:
            await self._reader.dispose()


@contextmanager
def _as_database_error() -> Iterator[None]:
    """SQLAlchemy's errors as the core's DatabaseError, with the driver's first line."""
    try:
        yield
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(reason) from exc


@asynccontextmanager
async def _migration_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """On a SQLite file, an exclusive lock on `<database>.migrate.lock` while migrating
    (PostgreSQL: `locks.lock_migrations` inside the migration's transaction)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_file = await asyncio.to_thread(open, f"{database}.migrate.lock", "a+b")
    try:
        await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        lock_file.close()  # closing releases the lock


def _create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return _sqlite_engine(url)


def _create_reader(url: str) -> AsyncEngine | None:
    """Read-only connections to a SQLite file (`Store.reading`); None for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = _sqlite_engine(url)
    event.listen(engine.sync_engine, "connect", _read_only)
    return engine


def _sqlite_engine(url: str) -> AsyncEngine:
    async def connect() -> sqlite_driver.OneTripConnection:
        """Connect with the arguments SQLAlchemy takes from the URL, through `sqlite_driver`."""
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        return await sqlite_driver.connect(*args, **{**kwargs, "timeout": 30})

    engine = create_async_engine(url, async_creator=connect)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    """A reader's connection refuses every write (after `_sqlite_pragmas`)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers (`nkru latest`) run while the bot writes; SQLite needs FKs switched on."""
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _alembic_upgrade(connection: Connection) -> None:
    # Imported only when a migration may be due (see SCHEMA_HEAD).
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _explain(url: str, exc: BaseException) -> str:
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return (
        f"cannot open the database {shown}: {reason} — check NKRU_DATABASE_URL "
        "and that the server is running"
    )
