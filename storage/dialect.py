"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignore(
    conn: AsyncConnection, table: Table, conflict_columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT (cols) DO NOTHING`: add `.returning()` to get only the new rows."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
