"""Read-only queries behind the `/nkru` commands: matched stories, feed trouble, dead deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import FeedStatus
from bot.core.records import DEAD, DeadDeliveries, FeedTrouble
from storage import headline
from storage.schema import article_themes, articles, feeds, outbox, stories


class SqlReports:
    """Read-only reports in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def latest_matched_story_ids(self, limit: int, theme: str | None = None) -> list[int]:
        """Ids of the stories with the newest reports (latest activity, storage.headline) that
        had an article match a watchlist theme (`theme` only, when given), newest first."""
        matched = (
            select(articles.c.story_id)
            .join(article_themes, article_themes.c.article_id == articles.c.id)
            .where(articles.c.story_id.is_not(None))
        )
        if theme is not None:
            matched = matched.where(article_themes.c.theme == theme)
        stmt = (
            select(stories.c.id)
            .where(stories.c.id.in_(matched))
            .order_by(headline.active_at().desc(), stories.c.id.desc())
            .limit(limit)
        )
        return [int(story_id) for story_id in (await self.connection.execute(stmt)).scalars()]

    async def troubled_feeds(self, limit: int) -> list[FeedTrouble]:
        """Up to `limit` failing or disabled feeds: failing ones first, longest failing first."""
        stmt = (
            select(
                feeds.c.name,
                feeds.c.url,
                feeds.c.status,
                feeds.c.last_error,
                feeds.c.disabled_reason,
                feeds.c.failing_since,
            )
            .where(feeds.c.status.in_([FeedStatus.FAILING.value, FeedStatus.DISABLED.value]))
            # "failing" sorts after "disabled", so descending lists the feeds that may still
            # recover first; NULLs are placed explicitly (SQLite and PostgreSQL disagree on them).
            .order_by(
                feeds.c.status.desc(),
                feeds.c.failing_since.is_(None),
                feeds.c.failing_since,
                feeds.c.id,
            )
            .limit(limit)
        )
        rows = (await self.connection.execute(stmt)).mappings().all()
        return [
            FeedTrouble(
                name=row["name"],
                url=row["url"],
                status=row["status"],
                # A disabled feed's reason says why it stopped; its last error is usually inside it.
                reason=(row["disabled_reason"] or row["last_error"])
                if row["status"] == FeedStatus.DISABLED.value
                else row["last_error"],
                since=row["failing_since"],
            )
            for row in rows
        ]

    async def last_polled_at(self) -> datetime | None:
        """When any feed was last polled (None before the first poll)."""
        stmt = select(func.max(feeds.c.last_polled_at))
        # MAX keeps the column's type, so the value comes back as an aware UTC datetime.
        value: datetime | None = (await self.connection.execute(stmt)).scalar_one()
        return value

    async def dead_deliveries(self, since: datetime) -> list[DeadDeliveries]:
        """Per destination, the alerts queued since `since` that delivery gave up on, with the
        error of the latest one; most affected destination first."""
        counts = (
            select(outbox.c.destination, func.count(), func.max(outbox.c.id))
            .where(outbox.c.status == DEAD, outbox.c.created_at >= since)
            .group_by(outbox.c.destination)
        )
        grouped = (await self.connection.execute(counts)).all()
        if not grouped:
            return []
        last_ids = [int(row[2]) for row in grouped]
        errors_stmt = select(outbox.c.id, outbox.c.last_error).where(outbox.c.id.in_(last_ids))
        errors = {int(i): error for i, error in (await self.connection.execute(errors_stmt)).all()}
        found = [
            DeadDeliveries(destination, int(count), errors.get(int(last_id)))
            for destination, count, last_id in grouped
        ]
        return sorted(found, key=lambda d: (-d.count, d.destination))
