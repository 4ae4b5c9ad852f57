"""The `story_themes` table: each (story, theme) pair with its first matching report's time.

A story counts in the trends once per theme, on the day its first stored report matching the
theme was published. Finding those firsts from the theme rows cost ~200 ms for 90 days at
120,000 articles; this table holds them, kept equal to that recount by every write that can
change one, in the writer's transaction:

- theme rows added (`record`): a new report can only make a pair's first earlier;
- articles placed in (or moved between) stories, and articles deleted by retention
  (`refresh`): the pairs of the stories concerned are counted again from their reports;
- stories deleted by retention: their pairs go with them (ON DELETE CASCADE).

Nothing else writes article themes, a report's story or its publication time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from storage.dialect import dialect_insert
from storage.schema import article_themes, articles, story_themes

_ID_BATCH = 5000  # ids per IN list, well under the bound-parameter limits
_COLUMNS = ["story_id", "theme", "first_published_at"]


def _firsts(where: ColumnElement[bool]) -> Any:
    """(story, theme, first report's time) of the reports `where` selects, one row per pair."""
    return (
        select(articles.c.story_id, article_themes.c.theme, func.min(articles.c.published_at))
        .join(article_themes, article_themes.c.article_id == articles.c.id)
        .where(where, articles.c.story_id.is_not(None))
        .group_by(articles.c.story_id, article_themes.c.theme)
    )


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _ID_BATCH):
        yield ordered[start : start + _ID_BATCH]


async def record(conn: AsyncConnection, article_ids: Iterable[int]) -> None:
    """Take in the theme rows just added for these articles: a pair's first moves earlier or
    the pair is new."""
    for batch in _batches(article_ids):
        stmt = dialect_insert(conn, story_themes).from_select(
            _COLUMNS, _firsts(articles.c.id.in_(batch))
        )
        given = stmt.excluded.first_published_at
        kept = story_themes.c.first_published_at
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["story_id", "theme"],
                set_={"first_published_at": case((given < kept, given), else_=kept)},
            )
        )


async def refresh(conn: AsyncConnection, story_ids: Iterable[int]) -> None:
    """Count these stories' pairs again from their reports (after reports left or moved)."""
    for batch in _batches(story_ids):
        await conn.execute(delete(story_themes).where(story_themes.c.story_id.in_(batch)))
        recount = _firsts(articles.c.story_id.in_(batch))
        await conn.execute(story_themes.insert().from_select(_COLUMNS, recount))


async def themed_stories(conn: AsyncConnection, where: ColumnElement[bool]) -> set[int]:
    """The stories of the articles `where` selects that have theme rows (whose pairs a change
    to those articles would touch)."""
    stmt = (
        select(articles.c.story_id)
        .join(article_themes, article_themes.c.article_id == articles.c.id)
        .where(where, articles.c.story_id.is_not(None))
        .distinct()
    )
    return {int(story_id) for story_id in (await conn.execute(stmt)).scalars()}


async def themed_articles(conn: AsyncConnection, article_ids: list[int]) -> dict[int, int | None]:
    """Of these articles, those with theme rows, and the story each is in now (None: none)."""
    stmt = (
        select(articles.c.id, articles.c.story_id)
        .where(articles.c.id.in_(article_ids))
        .where(exists().where(article_themes.c.article_id == articles.c.id))
    )
    rows = (await conn.execute(stmt)).all()
    return {int(article_id): story_id for article_id, story_id in rows}
