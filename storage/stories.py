"""Story repository: stories (with the MinHash signature of their first report)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import Story
from bot.core.records import NewStory, StoryView
from storage import headline
from storage.schema import articles, stories

# Band keys per IN list and stories per multi-row INSERT: well under the bound-parameter
# limits (SQLite 32,766, asyncpg 32,767).
_STORY_BATCH = 500


# The statements every ingest runs are built once, with their values as parameters: building
# and keying a statement for SQLAlchemy's compiled cache on each call cost more than running
# it on SQLite (~0.5 ms a statement).
_SIGNATURES_AFTER = (
    select(stories.c.id, stories.c.signature, stories.c.last_seen_at)
    .where(stories.c.id > bindparam("after_id"), stories.c.last_seen_at >= bindparam("since"))
    .order_by(stories.c.id)
)
# Start-up reads the window in pages: a million rows at once would be a million Python tuples.
_SIGNATURES_PAGE = _SIGNATURES_AFTER.limit(bindparam("limit"))
_CREATE = stories.insert().returning(stories.c.lead_article_id, stories.c.id)
_ATTACH = (
    update(stories)
    .where(stories.c.id == bindparam("story_id_", type_=stories.c.id.type))
    .values(
        article_count=stories.c.article_count
        + bindparam("reports_", type_=stories.c.article_count.type),
        last_seen_at=bindparam("seen_at_", type_=stories.c.last_seen_at.type),
    )
)


def _views() -> Select[Any]:
    """Stories with the report that heads each (storage.headline) and its columns."""
    head = (
        articles.c.id,
        articles.c.title,
        articles.c.url,
        articles.c.summary,
        articles.c.source_name,
    )
    times = (articles.c.published_at, articles.c.fetched_at)
    columns = (c.label(f"head_{c.name}") for c in (*head, *times))
    return (
        select(stories, *columns)
        .select_from(stories)
        .join(articles, articles.c.id == headline.head_id())
    )


async def _to_views(conn: AsyncConnection, stmt: Select[Any]) -> list[StoryView]:
    rows = (await conn.execute(stmt)).mappings().all()
    outlets_of = await _outlets(conn, [row["id"] for row in rows])
    found = []
    for row in rows:
        story = Story(
            id=row["id"],
            # A story's own title is its lead's (retention keeps it so); other heads bring theirs.
            title=row["title"] if row["head_id"] == row["lead_article_id"] else row["head_title"],
            first_seen_at=row["first_seen_at"],
            last_seen_at=row["last_seen_at"],
            article_count=row["article_count"],
            lead_article_id=row["lead_article_id"],
        )
        outlets = list(dict.fromkeys(outlets_of.get(row["id"], [])))
        found.append(
            StoryView(
                story,
                row["head_url"],
                row["head_summary"],
                row["head_source_name"],
                outlets,
                published_at=row["head_published_at"],
                seen_at=row["head_fetched_at"],
            )
        )
    return found


async def _outlets(conn: AsyncConnection, story_ids: list[int]) -> dict[int, list[str]]:
    """Each story's reports' outlets in the order they were stored, in one query (one per
    story cost a round trip each: half of a 50-story page's time on PostgreSQL)."""
    if not story_ids:
        return {}
    stmt = (
        select(articles.c.story_id, articles.c.source_name)
        .where(articles.c.story_id.in_(story_ids))
        .order_by(articles.c.story_id, articles.c.fetched_at, articles.c.id)
    )
    found: dict[int, list[str]] = {}
    for story_id, name in (await conn.execute(stmt)).all():
        found.setdefault(int(story_id), []).append(name)
    return found


class SqlStories:
    """Stories in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def signatures_after(
        self, after_id: int, since: datetime, limit: int | None = None
    ) -> list[tuple[int, bytes, datetime]]:
        """(id, signature, last seen) of stories with id > `after_id` seen since `since`, by
        id (the first `limit` of them if given)."""
        values: dict[str, object] = {"after_id": after_id, "since": since}
        if limit is not None:
            values["limit"] = limit
        stmt = _SIGNATURES_AFTER if limit is None else _SIGNATURES_PAGE
        rows = await self.connection.execute(stmt, values)
        return [(int(r[0]), bytes(r[1]), r[2]) for r in rows.all()]

    async def create_many(self, new: list[NewStory], seen_at: datetime) -> list[int]:
        """`create` for many stories in a few statements; returns their ids in input order.

        Each story must have its own lead article (ingest starts a story per new article).
        """
        if len({story.lead_article_id for story in new}) != len(new):
            raise ValueError("two new stories share a lead article")
        ids: list[int] = []
        for start in range(0, len(new), _STORY_BATCH):
            rows = [
                {
                    "title": story.title,
                    "lead_article_id": story.lead_article_id,
                    "first_seen_at": seen_at,
                    "last_seen_at": seen_at,
                    "article_count": 1,
                    "signature": story.signature,
                }
                for story in new[start : start + _STORY_BATCH]
            ]
            # Matched back by lead article (one story per lead), not by RETURNING order: see
            # articles.insert_new for why not sort_by_parameter_order.
            result = await self.connection.execute(_CREATE, rows)
            returned = {int(lead): int(story_id) for lead, story_id in result.all()}
            ids.extend(
                returned[story.lead_article_id] for story in new[start : start + _STORY_BATCH]
            )
        return ids

    async def create(
        self, *, title: str, lead_article_id: int, seen_at: datetime, signature: bytes
    ) -> int:
        """Start a story from its first article."""
        [story_id] = await self.create_many([NewStory(title, lead_article_id, signature)], seen_at)
        return story_id

    async def attach(self, story_id: int, seen_at: datetime) -> None:
        """Count one more report of a story."""
        await self.attach_many([story_id], seen_at)

    async def attach_many(self, story_ids: list[int], seen_at: datetime) -> None:
        """`attach` once per id in the list (an id listed twice counts two reports)."""
        if not story_ids:
            return
        counts = Counter(story_ids)
        await self.connection.execute(
            _ATTACH,
            [
                {"story_id_": story_id, "reports_": reports, "seen_at_": seen_at}
                for story_id, reports in counts.items()
            ],
        )

    async def latest(self, limit: int = 10, *, since: datetime | None = None) -> list[StoryView]:
        """The stories with the newest reports (first seen since `since`), headed and with all
        outlets: ordered by latest activity (storage.headline)."""
        newest = headline.active_at().desc()
        stmt = _views().order_by(newest, stories.c.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(stories.c.first_seen_at >= since)
        return await _to_views(self.connection, stmt)

    async def views(self, story_ids: list[int]) -> list[StoryView]:
        """The given stories (those that still exist), in no particular order."""
        found: list[StoryView] = []
        for start in range(0, len(story_ids), _STORY_BATCH):
            chunk = story_ids[start : start + _STORY_BATCH]
            found += await _to_views(self.connection, _views().where(stories.c.id.in_(chunk)))
        return found

    async def ids_seen_since(
        self, since: datetime, *, published_from: datetime | None = None
    ) -> list[int]:
        """Ids of the stories that gained a report since `since` (one published from
        `published_from`, when given: a digest's window, bot.core.dates)."""
        stmt = select(stories.c.id).where(stories.c.last_seen_at >= since)
        if published_from is not None:
            reported = select(articles.c.story_id).where(
                articles.c.fetched_at >= since, articles.c.published_at >= published_from
            )
            stmt = stmt.where(stories.c.id.in_(reported))
        return [int(story_id) for story_id in (await self.connection.execute(stmt)).scalars()]

    async def count_seen_since(self, since: datetime) -> int:
        """How many stories were first seen since `since`."""
        stmt = select(func.count()).select_from(stories).where(stories.c.first_seen_at >= since)
        return int((await self.connection.execute(stmt)).scalar_one())

    async def purge_seen_before(self, cutoff: datetime) -> int:
        """Retention: delete stories not seen since the cutoff (their articles stay, detached)."""
        stale = delete(stories).where(stories.c.last_seen_at < cutoff)
        result = await self.connection.execute(stale)
        return int(result.rowcount or 0)
