"""The watchlist as numbered versions: the newest row is the watchlist in force.

Every change (seed, chat edit, file edit, import, undo) appends a row holding the whole TOML
document as it stood afterwards, so any version can be shown, exported or restored exactly,
comments included. Writers call `lock` first and then re-read `latest`: two admins editing at
once get two versions, each built on the other's, and neither change is lost.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import RowMapping, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.records import Author, NewVersion, VersionInfo, WatchlistVersion
from storage.schema import watchlist_versions as versions

# An arbitrary constant naming "the watchlist writers" among PostgreSQL advisory locks.
_LOCK_KEY = 0x6E6B727577  # "nkruw"
# Every column but the document: history and the cheap checks never read whole documents.
_META = [column for column in versions.c if column.name != "document"]


def _info(row: RowMapping) -> VersionInfo:
    author = Author(row["platform"], row["author_id"], row["author_name"])
    return VersionInfo(
        int(row["version"]), row["name"], row["created_at"], author, row["change"], row["source"]
    )


class SqlWatchlistVersions:
    """Watchlist versions in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def lock(self) -> None:
        """Hold the watchlist writers' lock until this transaction ends.

        PostgreSQL: a transaction-level advisory lock, shared by every process on the database.
        SQLite: a write that touches no row, so the driver opens the transaction and SQLite takes
        its write lock now; reads that follow then see every version committed before it (without
        it, the first statements would run outside any write transaction and another process could
        store a version between our read and our write).
        """
        if self.connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await self.connection.execute(lock, {"key": _LOCK_KEY})
        else:
            await self.connection.execute(
                update(versions).where(versions.c.version == -1).values(version=versions.c.version)
            )

    async def insert_version(self, new: NewVersion, now: datetime) -> VersionInfo:
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
        result = await self.connection.execute(
            insert(versions).values(values).returning(versions.c.version)
        )
        number = int(result.scalar_one())
        return VersionInfo(number, new.name, now, new.author, new.change, new.source)

    async def latest_number(self) -> int | None:
        """The newest version's number (the cheap check each process runs on schedule)."""
        found = (
            await self.connection.execute(select(func.max(versions.c.version)))
        ).scalar_one_or_none()
        return None if found is None else int(found)

    async def latest(self) -> WatchlistVersion | None:
        """The version in force, or None before the first one is stored."""
        stmt = select(versions).order_by(versions.c.version.desc()).limit(1)
        row = (await self.connection.execute(stmt)).mappings().first()
        return None if row is None else WatchlistVersion(_info(row), row["document"])

    async def get(self, version: int) -> WatchlistVersion | None:
        """One version by number."""
        stmt = select(versions).where(versions.c.version == version)
        row = (await self.connection.execute(stmt)).mappings().first()
        return None if row is None else WatchlistVersion(_info(row), row["document"])

    async def before(self, version: int) -> WatchlistVersion | None:
        """The version just before `version` (what undoing it restores), if any."""
        stmt = (
            select(versions)
            .where(versions.c.version < version)
            .order_by(versions.c.version.desc())
            .limit(1)
        )
        row = (await self.connection.execute(stmt)).mappings().first()
        return None if row is None else WatchlistVersion(_info(row), row["document"])

    async def find_document(self, document: str) -> int | None:
        """The newest version whose document is exactly this text (a file already seen), if any."""
        stmt = select(func.max(versions.c.version)).where(versions.c.document == document)
        found = (await self.connection.execute(stmt)).scalar_one_or_none()
        return None if found is None else int(found)

    async def history(self, limit: int = 20, theme: str | None = None) -> list[VersionInfo]:
        """The newest versions first; with `theme`, only those whose change names that theme."""
        stmt = select(*_META).order_by(versions.c.version.desc())
        if theme is None:
            rows = (await self.connection.execute(stmt.limit(limit))).mappings().all()
            return [_info(row) for row in rows]
        # LIKE narrows it down in the database; the pattern then drops slugs that merely contain
        # this one ("tumen" in "tumen-bridge"). Slugs are [a-z0-9-], so no LIKE escaping is needed.
        named = re.compile(rf"(?<![a-z0-9-]){re.escape(theme)}(?![a-z0-9-])")
        named_rows = (
            await self.connection.execute(stmt.where(versions.c.change.contains(theme)))
        ).mappings()
        return [info for info in map(_info, named_rows) if named.search(info.change)][:limit]
