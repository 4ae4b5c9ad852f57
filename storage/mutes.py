"""Per-channel mutes (`/nkru mute <theme> <duration>`): a theme is silent in a channel until."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.dialect import upsert
from storage.schema import mutes


class SqlMutes:
    """Per-channel mutes in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def mute(
        self,
        destination: str,
        theme: str,
        until: datetime,
        created_by: str,
        now: datetime,
    ) -> None:
        """Mute `theme` in `destination` until `until` (replacing an earlier mute of it)."""
        row = {
            "destination": destination,
            "theme": theme,
            "until": until,
            "created_by": created_by,
            "created_at": now,
        }
        await self.connection.execute(
            upsert(
                self.connection,
                mutes,
                ["destination", "theme"],
                ["until", "created_by", "created_at"],
            ),
            [row],
        )

    async def unmute(self, destination: str, theme: str) -> bool:
        """Lift a mute; False if the theme was not muted there."""
        result = await self.connection.execute(
            delete(mutes).where(mutes.c.destination == destination, mutes.c.theme == theme)
        )
        return bool(result.rowcount)

    async def active(self, destination: str, now: datetime) -> dict[str, datetime]:
        """The themes muted in `destination` now, with when each mute ends."""
        stmt = select(mutes.c.theme, mutes.c.until).where(
            mutes.c.destination == destination, mutes.c.until > now
        )
        return {theme: until for theme, until in (await self.connection.execute(stmt)).all()}

    async def muted_themes(self, destinations: Iterable[str], now: datetime) -> dict[str, set[str]]:
        """For each destination with active mutes, the muted themes (the delivery worker's view)."""
        wanted = sorted(set(destinations))
        if not wanted:
            return {}
        stmt = select(mutes.c.destination, mutes.c.theme).where(
            mutes.c.destination.in_(wanted), mutes.c.until > now
        )
        found: dict[str, set[str]] = {}
        for destination, theme in (await self.connection.execute(stmt)).all():
            found.setdefault(destination, set()).add(theme)
        return found
