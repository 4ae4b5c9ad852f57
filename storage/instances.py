"""Running processes that deliver (bot.core.instances): one row each, kept fresh by heartbeats."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.records import Instance
from storage.dialect import upsert
from storage.schema import instances


class SqlInstances:
    """The instances table, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def beat(self, instance: Instance) -> None:
        """Add the instance, or record its heartbeat (`seen_at`) if it is stored already."""
        row = {
            "id": instance.id,
            "place": instance.place,
            "pid": instance.pid,
            "started": instance.started,
            "seen_at": instance.seen_at,
        }
        # Added again if another process took it for gone and removed it (e.g. a long pause).
        await self.connection.execute(upsert(self.connection, instances, ["id"], ["seen_at"]), row)

    async def all(self) -> list[Instance]:
        """Every stored instance."""
        rows = (await self.connection.execute(select(instances))).mappings().all()
        return [Instance(**row) for row in rows]

    async def remove(self, ids: Collection[str]) -> None:
        """Forget these instances."""
        if ids:
            await self.connection.execute(delete(instances).where(instances.c.id.in_(list(ids))))
