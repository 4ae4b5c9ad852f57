"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignore(
    conn: AsyncConnection | str, table: Table, conflict_columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT (cols) DO NOTHING`: add `.returning()` to get only the new rows.

    `conn` is the connection it is for, or the name of its dialect (to build it once).
    """
    dialect = conn if isinstance(conn, str) else conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def upsert(
    conn: AsyncConnection, table: Table, conflict_columns: list[str], update_columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT (cols) DO UPDATE SET col = excluded.col` for `update_columns`."""
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=conflict_columns,
        set_={name: insert.excluded[name] for name in update_columns},
    )
