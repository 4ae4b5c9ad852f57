"""Read-only queries of the web panel's pages (bot.panel): stories by filter, a story's
reports and where it was posted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.languages import SCRIPTS, language_name
from bot.core.models import Article
from bot.core.records import Delivery, StoryFilter
from storage import headline
from storage.articles import COLUMNS, to_article
from storage.schema import article_themes, articles, outbox, stories


class SqlBrowsing:
    """The panel's queries, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def story_ids(self, wanted: StoryFilter, offset: int, limit: int) -> list[int]:
        """Ids of the stories `wanted` selects, the latest activity first (storage.headline,
        as `latest` orders them)."""
        stmt: Select[Any] = select(stories.c.id)
        if wanted.matched or wanted.theme:
            matched = (
                select(articles.c.story_id)
                .join(article_themes, article_themes.c.article_id == articles.c.id)
                .where(articles.c.story_id.is_not(None))
            )
            if wanted.theme:
                matched = matched.where(article_themes.c.theme == wanted.theme)
            stmt = stmt.where(stories.c.id.in_(matched))
        reported = self._report_conditions(wanted)
        if reported:
            stmt = stmt.where(stories.c.id.in_(select(articles.c.story_id).where(*reported)))
        stmt = (
            stmt.order_by(headline.active_at().desc(), stories.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [int(i) for i in (await self.connection.execute(stmt)).scalars()]

    def _report_conditions(self, wanted: StoryFilter) -> list[ColumnElement[bool]]:
        """What one report of a listed story must be: from the outlet, in the language, in the
        span (all on the same report)."""
        found: list[ColumnElement[bool]] = []
        if wanted.outlet:
            found.append(articles.c.source_name == wanted.outlet)
        if wanted.language:
            found.append(self._in_language(wanted.language))
        if wanted.published_from:
            found.append(articles.c.published_at >= wanted.published_from)
        if wanted.published_before:
            found.append(articles.c.published_at < wanted.published_before)
        return found

    def _in_language(self, code: str) -> ColumnElement[bool]:
        language_name(code)  # refuses an unknown code
        if code in SCRIPTS:
            return self._has_script(SCRIPTS[code])
        return and_(*(not_(self._has_script(script)) for script in SCRIPTS.values()))

    def _has_script(self, script: str) -> ColumnElement[bool]:
        title = articles.c.title
        if self.connection.dialect.name == "postgresql":
            return title.op("~")(script)
        return title.op("GLOB")(f"*{script}*")

    async def story_articles(self, story_id: int) -> list[Article]:
        """Every stored report of a story, in the order they were stored."""
        stmt = (
            select(*COLUMNS)
            .where(articles.c.story_id == story_id)
            .order_by(articles.c.fetched_at, articles.c.id)
        )
        return [to_article(row) for row in (await self.connection.execute(stmt)).mappings()]

    async def story_deliveries(self, story_id: int) -> list[Delivery]:
        """Where a story's alerts went (or wait to go), oldest first."""
        stmt = (
            select(
                outbox.c.destination,
                outbox.c.kind,
                outbox.c.status,
                outbox.c.created_at,
                outbox.c.sent_at,
                outbox.c.last_error,
            )
            .where(outbox.c.story_id == story_id)
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        rows = (await self.connection.execute(stmt)).all()
        return [Delivery(*row) for row in rows]
