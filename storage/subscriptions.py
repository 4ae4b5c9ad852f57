"""Channel subscriptions as versions: each change appends a row, a channel's newest row rules.

Appending rather than updating keeps every earlier state for `subscriptions undo` and for the
record, and makes "did anything change?" one `max(id)` (the check every process runs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.records import Author
from bot.core.subscriptions.model import NewSubscription, StoredSubscription, SubscriptionSpec
from storage.schema import subscriptions as subs

_LOCK_KEY = 0x6E6B727573  # "nkrus": the subscriptions writers' lock among advisory locks


def _values(spec: SubscriptionSpec | None) -> dict[str, Any]:
    active = spec is not None
    spec = spec or SubscriptionSpec()  # an unsubscribed channel stores the defaults
    return {
        "active": active,
        "themes": " ".join(spec.themes),
        "mode": spec.mode,
        "cron": spec.cron,
        "min_score": spec.min_score,
        "quiet_hours": spec.quiet_hours,
        "timezone": spec.timezone,
    }


def _stored(row: RowMapping) -> StoredSubscription:
    spec = None
    if row["active"]:
        spec = SubscriptionSpec(
            themes=tuple(row["themes"].split()),
            mode="digest" if row["mode"] == "digest" else "instant",
            cron=row["cron"],
            min_score=float(row["min_score"]),
            quiet_hours=row["quiet_hours"],
            timezone=row["timezone"],
        )
    author = Author(row["platform"], row["author_id"], row["author_name"])
    return StoredSubscription(
        int(row["id"]),
        row["destination"],
        spec,
        row["created_at"],
        author,
        row["change"],
        row["source"],
    )


class SqlSubscriptions:
    """Subscription versions in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def lock(self) -> None:
        """Hold the subscriptions writers' lock until this transaction ends.

        PostgreSQL: a transaction-level advisory lock, shared by every process on the database.
        SQLite: a write that touches no row, so SQLite takes its write lock now and the reads
        that follow see every change committed before it (as `SqlWatchlistVersions.lock`).
        """
        if self.connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await self.connection.execute(lock, {"key": _LOCK_KEY})
        else:
            await self.connection.execute(update(subs).where(subs.c.id == -1).values(id=subs.c.id))

    async def add(self, new: NewSubscription, now: datetime) -> StoredSubscription:
        """Append a version; what was stored (with its id)."""
        values = {
            **_values(new.spec),
            "destination": new.destination,
            "created_at": now,
            "platform": new.author.platform,
            "author_id": new.author.user_id,
            "author_name": new.author.user_name,
            "change": new.change,
            "source": new.source,
        }
        result = await self.connection.execute(insert(subs).values(values).returning(subs.c.id))
        number = int(result.scalar_one())
        return StoredSubscription(
            number, new.destination, new.spec, now, new.author, new.change, new.source
        )

    async def latest_id(self) -> int | None:
        """The newest version's id of any channel (the cheap check each process runs)."""
        found = (await self.connection.execute(select(func.max(subs.c.id)))).scalar_one_or_none()
        return None if found is None else int(found)

    async def in_force(self) -> list[StoredSubscription]:
        """Each subscribed channel's newest version, by destination (unsubscribed ones left out)."""
        newest = select(func.max(subs.c.id)).group_by(subs.c.destination)
        stmt = (
            select(subs)
            .where(subs.c.id.in_(newest.scalar_subquery()), subs.c.active.is_(True))
            .order_by(subs.c.destination)
        )
        rows = (await self.connection.execute(stmt)).mappings().all()
        return [_stored(row) for row in rows]

    async def history(self, destination: str, limit: int = 10) -> list[StoredSubscription]:
        """One channel's versions, newest first."""
        stmt = (
            select(subs)
            .where(subs.c.destination == destination)
            .order_by(subs.c.id.desc())
            .limit(limit)
        )
        rows = (await self.connection.execute(stmt)).mappings().all()
        return [_stored(row) for row in rows]
