"""Read-only queries of the web panel's pages (bot.panel): stories by filter, a story's
reports and where it was posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, FromClause, and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from bot.core.languages import SCRIPTS, language_name
from bot.core.models import Article
from bot.core.records import Delivery, StoryFilter, StoryKey
from storage.articles import COLUMNS, to_article
from storage.schema import article_themes, articles, outbox, stories

_FIRST_CHUNK, _MAX_CHUNK = 400, 25_600  # reports read per slice of the walk


def _next_chunk(chunk: int, walked: int, found: int, limit: int) -> int:
    """How many reports the walk reads next, having found `found` of `limit` stories in
    `walked` reports: as many as it took per story so far, for the stories still wanted, and
    half again (at least _FIRST_CHUNK); four times the last slice if it found none (a rare
    filter), at most _MAX_CHUNK.

    Checking a candidate against a filter is most of a slice's cost: a filter that keeps one
    story in twenty (a theme, a language) has most of a page in the first 400 reports, and
    checking the 1,600 of a slice four times as big for the few stories left cost three
    quarters of the page's database time."""
    if found == 0:
        return min(chunk * 4, _MAX_CHUNK)
    wanted = (limit - found) * walked * 3 // (found * 2)
    return max(_FIRST_CHUNK, min(wanted, chunk * 4, _MAX_CHUNK))


class SqlBrowsing:
    """The panel's queries, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def story_page(
        self, wanted: StoryFilter, before: StoryKey | None, limit: int
    ) -> list[tuple[int, StoryKey]]:
        """The stories `wanted` selects, the latest activity first (storage.headline: the
        publication time of a story's newest report, as `latest` orders them), each with its
        sort key; only those whose key is below `before` (the last key of the page before).

        Ordering every story by a per-story maximum reads them all (~0.6 s for 100,000 on
        SQLite); instead the reports are walked newest first along the index on
        published_at, from `before` on, a story taken at its first (so newest) report, and
        each slice of candidates is checked against the filters, until the page is full. A
        later page starts where the walk reached the last story shown (keyset paging): page
        40 costs what page 1 does, where an offset walked the 39 pages before it again.
        """
        found: list[tuple[int, StoryKey]] = []
        seen: set[int] = set()
        after = before
        chunk = _FIRST_CHUNK
        walked = 0  # reports read so far
        while len(found) < limit:
            rows = await self._reports_before(after, chunk)
            # A story's first report in the walk is its newest, unless it has one above where
            # the walk started (it was on an earlier page, or filtered out there).
            first: dict[int, StoryKey] = {}
            for story, published, article_id in rows:
                if story not in seen and story not in first:
                    first[story] = (published, article_id)
            seen.update(first)
            fresh = await self._newest_below(list(first), before)
            found += [(story, first[story]) for story in await self._selected(fresh, wanted)]
            if len(rows) < chunk:
                break
            _, published, article_id = rows[-1]
            after = (published, int(article_id))
            walked += len(rows)
            chunk = _next_chunk(chunk, walked, len(found), limit)
        return found[:limit]

    async def _newest_below(self, candidates: list[int], before: StoryKey | None) -> list[int]:
        """The candidates (in their order) with no report at or above `before`."""
        if before is None or not candidates:
            return candidates
        published, article_id = before
        above = select(articles.c.story_id).where(
            articles.c.story_id.in_(candidates),
            or_(
                articles.c.published_at > published,
                and_(articles.c.published_at == published, articles.c.id >= article_id),
            ),
        )
        shown = {int(story) for story in (await self.connection.execute(above)).scalars()}
        return [story for story in candidates if story not in shown]

    async def _reports_before(
        self, after: StoryKey | None, chunk: int
    ) -> list[tuple[int, datetime, int]]:
        """(story, published, article) of the next `chunk` reports in a story, newest first."""
        stmt = select(articles.c.story_id, articles.c.published_at, articles.c.id).where(
            articles.c.story_id.is_not(None)
        )
        if after is not None:
            published, article_id = after
            stmt = stmt.where(
                or_(
                    articles.c.published_at < published,
                    and_(articles.c.published_at == published, articles.c.id < article_id),
                )
            )
        stmt = stmt.order_by(articles.c.published_at.desc(), articles.c.id.desc()).limit(chunk)
        return [(int(s), p, int(a)) for s, p, a in (await self.connection.execute(stmt)).all()]

    async def _selected(self, candidates: list[int], wanted: StoryFilter) -> list[int]:
        """The candidates (in their order) that `wanted` selects."""
        if not candidates:
            return []
        report = aliased(articles, name="report")
        stmt = select(stories.c.id).where(stories.c.id.in_(candidates))
        if wanted.matched or wanted.theme:
            matched = (
                select(1)
                .select_from(report)
                .join(article_themes, article_themes.c.article_id == report.c.id)
                .where(report.c.story_id == stories.c.id)
            )
            if wanted.theme:
                matched = matched.where(article_themes.c.theme == wanted.theme)
            stmt = stmt.where(matched.exists())
        conditions = self._report_conditions(wanted, report)
        if conditions:
            reported = select(1).select_from(report).where(report.c.story_id == stories.c.id)
            stmt = stmt.where(reported.where(*conditions).exists())
        kept = {int(i) for i in (await self.connection.execute(stmt)).scalars()}
        return [story for story in candidates if story in kept]

    def _report_conditions(
        self, wanted: StoryFilter, report: FromClause
    ) -> list[ColumnElement[bool]]:
        """What one report of a listed story must be: from the outlet, in the language, in the
        span (all on the same report)."""
        found: list[ColumnElement[bool]] = []
        if wanted.outlet:
            found.append(report.c.source_name == wanted.outlet)
        if wanted.language:
            found.append(self._in_language(wanted.language, report))
        if wanted.published_from:
            found.append(report.c.published_at >= wanted.published_from)
        if wanted.published_before:
            found.append(report.c.published_at < wanted.published_before)
        return found

    def _in_language(self, code: str, report: FromClause) -> ColumnElement[bool]:
        language_name(code)  # refuses an unknown code
        if code in SCRIPTS:
            return self._has_script(SCRIPTS[code], report)
        return and_(*(not_(self._has_script(script, report)) for script in SCRIPTS.values()))

    def _has_script(self, script: str, report: FromClause) -> ColumnElement[bool]:
        title = report.c.title
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
