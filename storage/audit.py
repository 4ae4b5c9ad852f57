"""The audit log: who did what, where and when — every admin action, refused ones included."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.records import AuditEntry
from storage.schema import audit_log


class SqlAuditLog:
    """the audit log in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def record(self, entry: AuditEntry) -> int:
        """Append an entry; its id."""
        values = {
            "at": entry.at,
            "platform": entry.platform,
            "user_id": entry.user_id,
            "user_name": entry.user_name,
            "destination": entry.destination,
            "action": entry.action,
            "target": entry.target,
            "detail": entry.detail,
            "outcome": entry.outcome,
        }
        result = await self.connection.execute(
            insert(audit_log).values(values).returning(audit_log.c.id)
        )
        return int(result.scalar_one())

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The newest entries first."""
        stmt = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
        rows = (await self.connection.execute(stmt)).mappings().all()
        return [
            AuditEntry(
                at=row["at"],
                platform=row["platform"],
                user_id=row["user_id"],
                user_name=row["user_name"],
                destination=row["destination"],
                action=row["action"],
                target=row["target"],
                detail=row["detail"],
                outcome=row["outcome"],
                id=row["id"],
            )
            for row in rows
        ]
