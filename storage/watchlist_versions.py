"""The watchlist as numbered versions: the newest row is the watchlist in force.

Every change (seed, chat edit, file edit, import, undo) appends a row holding the whole TOML
document as it stood afterwards, so any version can be shown, exported or restored exactly,
comments included. Writers call `lock` first and then re-read `latest`: two admins editing at
once get two versions, each built on the other's, and neither change is lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import watchlist_versions as versions

# An arbitrary constant naming "the watchlist writers" among PostgreSQL advisory locks.
_LOCK_KEY = 0x6E6B727577  # "nkruw"
# Every column but the document: history and the cheap checks never read whole documents.
_META = [column for column in versions.c if column.name != "document"]


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a change: the platform and the user as it names them ("file" for file edits)."""

    platform: str  # slack | discord | console | cli | file
    user_id: str
    user_name: str = ""

    @property
    def shown(self) -> str:
        """The name to show, falling back to the id."""
        return self.user_name or self.user_id


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to store: the whole document and what changed, in one line."""

    name: str  # the watchlist file's stem, e.g. "nkru"
    document: str
    author: Author
    change: str
    source: str  # seed | file | chat | import | undo


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A stored version without its document (history lines)."""

    version: int
    name: str
    created_at: datetime
    author: Author
    change: str
    source: str


@dataclass(frozen=True, slots=True)
class WatchlistVersion:
    """A stored version with its document."""

    info: VersionInfo
    document: str

    @property
    def version(self) -> int:
        """The version number."""
        return self.info.version

    @property
    def name(self) -> str:
        """The watchlist's name (its file's stem)."""
        return self.info.name


async def lock(conn: AsyncConnection) -> None:
    """Hold the watchlist writers' lock until this transaction ends.

    PostgreSQL: a transaction-level advisory lock, shared by every process on the database.
    SQLite: a write that touches no row, so the driver opens the transaction and SQLite takes
    its write lock now; reads that follow then see every version committed before it (without
    it, the first statements would run outside any write transaction and another process could
    store a version between our read and our write).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        await conn.execute(
            update(versions).where(versions.c.version == -1).values(version=versions.c.version)
        )


async def insert_version(conn: AsyncConnection, new: NewVersion, now: datetime) -> VersionInfo:
    """Append a version; what was stored (with its number)."""
    values = {
        "name": new.name,
        "document": new.document,
        "created_at": now,
        "platform": new.author.platform,
        "author_id": new.author.user_id,
        "author_name": new.author.user_name,
        "change": new.change,
        "source": new.source,
    }
    result = await conn.execute(insert(versions).values(values).returning(versions.c.version))
    number = int(result.scalar_one())
    return VersionInfo(number, new.name, now, new.author, new.change, new.source)


async def latest_number(conn: AsyncConnection) -> int | None:
    """The newest version's number (the cheap check each process runs on schedule)."""
    found = (await conn.execute(select(func.max(versions.c.version)))).scalar_one_or_none()
    return None if found is None else int(found)


async def latest(conn: AsyncConnection) -> WatchlistVersion | None:
    """The version in force, or None before the first one is stored."""
    stmt = select(versions).order_by(versions.c.version.desc()).limit(1)
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else WatchlistVersion(_info(row), row["document"])


async def get(conn: AsyncConnection, version: int) -> WatchlistVersion | None:
    """One version by number."""
    stmt = select(versions).where(versions.c.version == version)
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else WatchlistVersion(_info(row), row["document"])


async def before(conn: AsyncConnection, version: int) -> WatchlistVersion | None:
    """The version just before `version` (what undoing it restores), if any."""
    stmt = (
        select(versions)
        .where(versions.c.version < version)
        .order_by(versions.c.version.desc())
        .limit(1)
    )
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else WatchlistVersion(_info(row), row["document"])


async def find_document(conn: AsyncConnection, document: str) -> int | None:
    """The newest version whose document is exactly this text (a file already seen), if any."""
    stmt = select(func.max(versions.c.version)).where(versions.c.document == document)
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def history(
    conn: AsyncConnection, limit: int = 20, theme: str | None = None
) -> list[VersionInfo]:
    """The newest versions first; with `theme`, only those whose change names that theme."""
    stmt = select(*_META).order_by(versions.c.version.desc())
    if theme is None:
        rows = (await conn.execute(stmt.limit(limit))).mappings().all()
        return [_info(row) for row in rows]
    # LIKE narrows it down in the database; the pattern then drops slugs that merely contain
    # this one ("tumen" in "tumen-bridge"). Slugs are [a-z0-9-], so no LIKE escaping is needed.
    named = re.compile(rf"(?<![a-z0-9-]){re.escape(theme)}(?![a-z0-9-])")
    named_rows = (await conn.execute(stmt.where(versions.c.change.contains(theme)))).mappings()
    return [info for info in map(_info, named_rows) if named.search(info.change)][:limit]


def _info(row: RowMapping) -> VersionInfo:
    author = Author(row["platform"], row["author_id"], row["author_name"])
    return VersionInfo(
        int(row["version"]), row["name"], row["created_at"], author, row["change"], row["source"]
    )
