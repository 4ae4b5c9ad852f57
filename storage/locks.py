"""Locks that keep concurrent writers (tasks, or processes sharing PostgreSQL) consistent."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# An arbitrary constant naming "the ingest critical section" among PostgreSQL advisory locks.
_INGEST_LOCK_KEY = 0x6E6B7275  # "nkru"


async def lock_ingest(conn: AsyncConnection) -> None:
    """Serialise ingest transactions until this one ends.

    Clustering reads the stories in the window and then creates or joins one; two writers doing
    that at once would both start the same story, and their updates to shared story rows can
    deadlock. SQLite already allows one writer at a time; on PostgreSQL a transaction-level
    advisory lock gives the same guarantee across processes. Fetching and parsing stay parallel.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INGEST_LOCK_KEY})


_MIGRATION_LOCK_KEY = 0x6E6B72756D6967  # "nkrumig"


async def lock_migrations(conn: AsyncConnection) -> None:
    """PostgreSQL: one process migrates at a time (the others then find the schema at head)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
