"""Article themes: the watchlist matches of stored articles (score and explanation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from bot.core.models import ThemeHit
from storage import theme_starts
from storage.schema import article_themes, articles, story_themes

_ID_BATCH = 5000  # ids per IN list, well under the bound-parameter limits


def utc_day(dialect: str, stored: ColumnElement[Any]) -> ColumnElement[Any]:
    """The UTC calendar day of a stored time, as each database spells it."""
    if dialect == "postgresql":
        # A literal, not a bound 'UTC': PostgreSQL would not see the grouped expression and
        # the selected one as the same if each had a parameter of its own.
        return cast(func.timezone(literal_column("'UTC'"), stored), Date)
    return func.date(stored)  # SQLite keeps naive UTC text ("2026-11-20 12:00:00.000000")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _hit(row: tuple[object, ...], article_id: int) -> ThemeHit:
    theme, score, why, explanation = row
    return ThemeHit(str(theme), float(score), str(why), dict(explanation), article_id)  # type: ignore[arg-type,call-overload]


class SqlThemes:
    """Theme matches in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def add_many(self, matched: Iterable[tuple[int, ThemeHit]]) -> None:
        """Store (article id, hit) pairs (and what they change of the trends' story_themes)."""
        pairs = list(matched)
        rows = [
            {
                "article_id": article_id,
                "theme": hit.theme,
                "score": hit.score,
                "why": hit.why,
                "explanation": hit.explanation,
            }
            for article_id, hit in pairs
        ]
        if rows:
            await self.connection.execute(article_themes.insert(), rows)
            await theme_starts.record(self.connection, {article_id for article_id, _ in pairs})

    async def of_stories(self, story_ids: Iterable[int]) -> dict[int, list[ThemeHit]]:
        """Per story, its best hit per theme over all its articles, best score first (each
        with the id of the article that scored it)."""
        ids = sorted(set(story_ids))
        best: dict[int, dict[str, ThemeHit]] = {}
        for start in range(0, len(ids), _ID_BATCH):
            stmt = (
                select(
                    articles.c.story_id,
                    article_themes.c.article_id,
                    article_themes.c.theme,
                    article_themes.c.score,
                    article_themes.c.why,
                    article_themes.c.explanation,
                )
                .join(articles, articles.c.id == article_themes.c.article_id)
                .where(articles.c.story_id.in_(ids[start : start + _ID_BATCH]))
                .order_by(article_themes.c.article_id)  # equal scores: the earliest report's
            )
            for story_id, article_id, *rest in (await self.connection.execute(stmt)).all():
                hit = _hit(tuple(rest), int(article_id))
                kept = best.setdefault(int(story_id), {})
                if hit.theme not in kept or hit.score > kept[hit.theme].score:
                    kept[hit.theme] = hit
        return {
            story_id: sorted(hits.values(), key=lambda h: (-h.score, h.theme))
            for story_id, hits in best.items()
        }

    async def matched_stories_since(
        self, since: datetime, *, published_from: datetime | None = None
    ) -> list[int]:
        """Ids of stories with a matched article fetched since `since` (and published from
        `published_from`, when given: a digest's window, bot.core.dates)."""
        stmt = (
            select(articles.c.story_id)
            .join(article_themes, article_themes.c.article_id == articles.c.id)
            .where(articles.c.fetched_at >= since, articles.c.story_id.is_not(None))
            .distinct()
        )
        if published_from is not None:
            stmt = stmt.where(articles.c.published_at >= published_from)
        return [int(story_id) for story_id in (await self.connection.execute(stmt)).scalars()]

    async def new_stories_per_day(
        self, since: datetime, until: datetime
    ) -> list[tuple[date, str, int]]:
        """(UTC day, theme, stories) where each story counts once per theme, on the day its
        first report matching that theme was published, if that is in [since, until)."""
        # story_themes holds each pair's first report's time (storage.theme_starts): the
        # window's pairs are one range of its index.
        first = story_themes.c.first_published_at
        day = utc_day(self.connection.dialect.name, first)
        stmt = (
            select(day, story_themes.c.theme, func.count())
            .where(first >= since, first < until)
            .group_by(day, story_themes.c.theme)
            .order_by(day, story_themes.c.theme)
        )
        rows = (await self.connection.execute(stmt)).all()
        return [(_as_date(day), str(theme), int(count)) for day, theme, count in rows]
