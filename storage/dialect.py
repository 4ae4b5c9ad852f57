"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


def insert_ignore(
    conn: AsyncConnection | str, table: Table, conflict_columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT (cols) DO NOTHING`: add `.returning()` to get only the new rows.

    `conn` is the connection it is for, or the name of its dialect (to build it once).
    """
    dialect = conn if isinstance(conn, str) else conn.dialect.name
    if dialect == "postgresql":
        return _postgresql_insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)


def dialect_insert(conn: AsyncConnection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The connection's own INSERT (which knows `ON CONFLICT` and `excluded`)."""
    return _postgresql_insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def upsert(
    conn: AsyncConnection, table: Table, conflict_columns: list[str], update_columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """`INSERT … ON CONFLICT (cols) DO UPDATE SET col = excluded.col` for `update_columns`."""
    insert = dialect_insert(conn, table)
    return insert.on_conflict_do_update(
        index_elements=conflict_columns,
        set_={name: insert.excluded[name] for name in update_columns},
    )


def _postgresql_insert(table: Table) -> postgresql.Insert:
    """PostgreSQL's INSERT, its dialect imported on first use: its engine has loaded it already,
    while a SQLite user (every `nkru` command on the default database) is spared ~20 ms."""
    from sqlalchemy.dialects.postgresql import insert

    return insert(table)
