"""Article repository: store only what is new, find what is stored."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    String,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.dates import publication_time
from bot.core.models import Article, ArticleKey, ArticleText, NewArticle
from bot.core.search_terms.terms import index_text, parse_query
from storage import theme_starts
from storage.dialect import insert_ignore
from storage.fulltext.search import search_statement
from storage.schema import articles, stories

COLUMNS = (
    articles.c.id,
    articles.c.feed_id,
    articles.c.item_key,
    articles.c.url,
    articles.c.title,
    articles.c.summary,
    articles.c.published_at,
    articles.c.fetched_at,
    articles.c.source_name,
    articles.c.story_id,
    articles.c.image_url,
)
# Stay well under SQLite's 32,766 bound-parameter limit per statement.
_BATCH = 500

# The statements every ingest runs are built once, with their values as parameters (see
# storage.stories: building and keying one per call cost more than running it).
_SET_STORIES = (
    update(articles)
    .where(articles.c.id == bindparam("article_id_", type_=articles.c.id.type))
    .values(
        story_id=bindparam("story_id_", type_=articles.c.story_id.type),
        signature=bindparam("signature_", type_=articles.c.signature.type),
    )
)
# One SQL text on PostgreSQL whatever the number of keys: an IN list of N parameters is a
# statement of its own for each N, and each connection prepares (and caches, 100 at most) each
# one, pushing out the statements of the ingest. SQLite prepares nothing ahead.
_STORED_KEYS = {
    "postgresql": select(articles.c.item_key).where(
        articles.c.item_key == any_(bindparam("keys", type_=ARRAY(Text)))
    ),
    "sqlite": select(articles.c.item_key).where(
        articles.c.item_key.in_(bindparam("keys", expanding=True))
    ),
}
_MEMBER_SIGNATURES_AFTER = (
    select(articles.c.id, articles.c.story_id, articles.c.signature, articles.c.fetched_at)
    .where(articles.c.id > bindparam("after_id"), articles.c.signature.is_not(None))
    .where(articles.c.story_id.is_not(None), articles.c.fetched_at >= bindparam("since"))
    .order_by(articles.c.id)
)
_MEMBER_SIGNATURES_PAGE = _MEMBER_SIGNATURES_AFTER.limit(bindparam("limit"))

# Retention may purge a story's lead while the story stays (a later report is recent): each
# such story is led by its oldest report still stored, and titled by it as a story is by its
# lead. A story with no report left gets no lead rather than the id of a deleted row.
_OLDEST_REPORT = (
    select(articles.c.id)
    .where(articles.c.story_id == stories.c.id)
    .order_by(articles.c.fetched_at, articles.c.id)
    .limit(1)
    .correlate(stories)
    .scalar_subquery()
)
_LEADS_LOST = select(stories.c.id, stories.c.lead_article_id, _OLDEST_REPORT).where(
    ~exists().where(articles.c.id == stories.c.lead_article_id)
)
_LEAD = bindparam("lead_", type_=stories.c.lead_article_id.type)
_SET_LEAD = (
    update(stories)
    .where(stories.c.id == bindparam("story_id_", type_=stories.c.id.type))
    .values(
        lead_article_id=_LEAD,
        title=func.coalesce(
            select(articles.c.title).where(articles.c.id == _LEAD).scalar_subquery(),
            stories.c.title,
        ),
    )
)


@functools.cache
def _insert_new_statement(dialect: str) -> Insert:
    return insert_ignore(dialect, articles, ["item_key"]).returning(
        articles.c.item_key, articles.c.id
    )


def to_article(row: RowMapping) -> Article:
    """Row → Article."""
    return Article(**{column.name: row[column.name] for column in COLUMNS})


def _row(article: NewArticle) -> dict[str, Any]:
    return {
        "item_key": article.item_key,
        "feed_id": article.feed_id,
        "guid": article.guid,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "search_text": (
            index_text(article.title, article.summary)
            if article.search_text is None
            else article.search_text
        ),
        "source_name": article.source_name,
        "content_hash": article.content_hash,
        "image_url": article.image_url,
        # The dates rule (bot.core.dates) holds for every article stored, however made.
        "published_at": publication_time(article.published_at, article.fetched_at),
        "fetched_at": article.fetched_at,
    }


def _stored(article: NewArticle, article_id: int) -> Article:
    """The Article a row inserted from `article` reads back as (datetimes come back in UTC)."""
    return Article(
        id=article_id,
        feed_id=article.feed_id,
        item_key=article.item_key,
        url=article.url,
        title=article.title,
        summary=article.summary,
        published_at=publication_time(article.published_at, article.fetched_at).astimezone(UTC),
        fetched_at=article.fetched_at.astimezone(UTC),
        source_name=article.source_name,
        image_url=article.image_url,
    )


def _newest(stmt: Select[Any], limit: int) -> Select[Any]:
    return stmt.order_by(articles.c.published_at.desc(), articles.c.id.desc()).limit(limit)


class SqlArticles:
    """Articles in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def insert_new(self, new: list[NewArticle]) -> list[Article]:
        """Insert the articles whose item_key is not stored yet; return those, in input order."""
        unique = list({article.item_key: article for article in reversed(new)}.values())[::-1]
        stored: list[Article] = []
        for start in range(0, len(unique), _BATCH):
            some = unique[start : start + _BATCH]
            chunk = [_row(article) for article in some]
            # RETURNING order is not guaranteed, so rows are put back in input order by their key.
            # (sort_by_parameter_order=True would do that for us, but on SQLite SQLAlchemy then
            # sends one INSERT per row: four times slower for a feed of 50 items.) Only the id
            # comes back: the rest of each Article is what was just inserted, and reading it back
            # (datetimes parsed from text on SQLite) was most of this function's time.
            insert = _insert_new_statement(self.connection.dialect.name)
            rows = await self.connection.execute(insert, chunk)
            ids = {item_key: int(article_id) for item_key, article_id in rows.all()}
            # Chunk by chunk, between the statements: 10,000 at the end held the event loop.
            stored += [_stored(a, ids[a.item_key]) for a in some if a.item_key in ids]
        return stored

    async def stored_keys(self, item_keys: list[str]) -> set[str]:
        """The item keys among `item_keys` that are stored already."""
        found: set[str] = set()
        for start in range(0, len(item_keys), _BATCH):
            some = item_keys[start : start + _BATCH]
            statement = _STORED_KEYS[self.connection.dialect.name]
            rows = await self.connection.execute(statement, {"keys": some})
            found.update(key for (key,) in rows.all())
        return found

    async def set_story(self, article_id: int, story_id: int) -> None:
        """Attach an article to its story (as its first report: no signature kept)."""
        await self.set_stories([(article_id, story_id, None)])

    async def set_stories(
        self, placed: list[tuple[int, int, bytes | None]], *, unthemed: bool = False
    ) -> None:
        """Put articles in their stories: (article id, story id, signature if it joined) triples.

        `unthemed`: the caller knows none of them has a theme yet (an ingest places what it has
        just inserted before it stores their themes), so no trends pair can move: one statement
        fewer, inside the ingest lock."""
        if not placed:
            return
        rows = [
            {"article_id_": article_id, "story_id_": story_id, "signature_": signature}
            for article_id, story_id, signature in placed
        ]
        # In chunks: binding 10,000 rows' parameters at once held the event loop ~0.1 s.
        for start in range(0, len(rows), _BATCH):
            await self._set_stories(rows[start : start + _BATCH], unthemed)

    async def _set_stories(self, rows: list[dict[str, Any]], unthemed: bool) -> None:
        # An article placed (or moved) with themes changes its stories' trends pairs.
        ids = [row["article_id_"] for row in rows]
        themed = {} if unthemed else await theme_starts.themed_articles(self.connection, ids)
        await self.connection.execute(_SET_STORIES, rows)
        if themed:
            placed = {row["article_id_"]: row["story_id_"] for row in rows}
            moved = {placed[article_id] for article_id in themed}
            moved |= {story for story in themed.values() if story is not None}
            await theme_starts.refresh(self.connection, moved)

    async def member_signatures_after(
        self, after_id: int, since: datetime, limit: int | None = None
    ) -> list[tuple[int, int, bytes, datetime]]:
        """(article id, story id, signature, fetched) of articles with id > `after_id` that joined
        a story, fetched since `since`, by article id (the first `limit` of them if given)."""
        values: dict[str, object] = {"after_id": after_id, "since": since}
        if limit is not None:
            values["limit"] = limit
        stmt = _MEMBER_SIGNATURES_AFTER if limit is None else _MEMBER_SIGNATURES_PAGE
        rows = await self.connection.execute(stmt, values)
        return [(int(r[0]), int(r[1]), bytes(r[2]), r[3]) for r in rows.all()]

    async def last_id(self) -> int:
        """The highest article id stored (0 when there is none): one look at the key's end."""
        found = await self.connection.execute(select(func.max(articles.c.id)))
        return int(found.scalar() or 0)

    async def get(self, article_id: int) -> Article | None:
        """One article by id."""
        stmt = select(*COLUMNS).where(articles.c.id == article_id)
        row = (await self.connection.execute(stmt)).mappings().first()
        return to_article(row) if row else None

    async def search(self, query: str, limit: int = 20) -> list[Article]:
        """Articles matching every word and "quoted phrase" of the query (storage.fulltext),
        the most relevant first, then the newest; nothing for a query with no word."""
        phrases = parse_query(query)
        if not phrases:
            return []
        statement = search_statement(self.connection.dialect.name, phrases, COLUMNS, limit)
        rows = await self.connection.execute(statement)
        return [to_article(row) for row in rows.mappings()]

    async def latest(self, limit: int = 10) -> list[Article]:
        """The newest stored articles."""
        rows = await self.connection.execute(_newest(select(*COLUMNS), limit))
        return [to_article(row) for row in rows.mappings()]

    async def published_since(self, since: datetime, limit: int) -> list[Article]:
        """Up to `limit` articles published since `since`, the newest first."""
        stmt = _newest(select(*COLUMNS).where(articles.c.published_at >= since), limit)
        rows = await self.connection.execute(stmt)
        return [to_article(row) for row in rows.mappings()]

    async def texts_published_since(self, since: datetime, limit: int) -> list[ArticleText]:
        """`published_since`'s articles, only id, title and summary: no dates to convert."""
        columns = (articles.c.id, articles.c.title, articles.c.summary)
        stmt = _newest(select(*columns).where(articles.c.published_at >= since), limit)
        rows = await self.connection.execute(stmt)
        return [ArticleText(int(id_), str(title), str(summary)) for id_, title, summary in rows]

    async def keys_published_since(self, since: datetime, limit: int) -> list[ArticleKey]:
        """`published_since`'s articles as (id, stamp).

        The stamp tells two articles given one id apart where that can happen (`ArticleKey`):
        on SQLite the publication time as stored (text: no date to convert), on PostgreSQL,
        whose ids come from a sequence and are never given again, None. PostgreSQL sends the
        ids as one string: row by row, reading them cost ten times the query (9,000 ids:
        ~20 ms, the index-only scan 2 ms); SQLite's rows come in one trip (sqlite_driver)
        and cost about what a string would, parsed and put back in order.
        """
        if self.connection.dialect.name == "sqlite":
            stamp = type_coerce(articles.c.published_at, String())
            stmt = _newest(
                select(articles.c.id, stamp).where(articles.c.published_at >= since), limit
            )
            return [(int(id_), stamped) for id_, stamped in await self.connection.execute(stmt)]
        window = _newest(
            select(articles.c.id, articles.c.published_at).where(articles.c.published_at >= since),
            limit,
        ).subquery()
        order = aggregate_order_by(literal(","), window.c.published_at.desc(), window.c.id.desc())
        ids = await self.connection.scalar(
            select(func.string_agg(cast(window.c.id, String), order))
        )
        return [(int(id_), None) for id_ in ids.split(",")] if ids else []

    async def texts_of(self, ids: Iterable[int]) -> list[tuple[ArticleText, Hashable]]:
        """The id, title and summary of the articles of these ids, each with its stamp (see
        `keys_published_since`); ids not stored are left out."""
        wanted, found = sorted(set(ids)), []
        sqlite = self.connection.dialect.name == "sqlite"
        stamp = type_coerce(articles.c.published_at, String()) if sqlite else null()
        columns = (articles.c.id, articles.c.title, articles.c.summary, stamp)
        for start in range(0, len(wanted), _BATCH):
            stmt = select(*columns).where(articles.c.id.in_(wanted[start : start + _BATCH]))
            for id_, title, summary, stamped in await self.connection.execute(stmt):
                found.append((ArticleText(int(id_), str(title), str(summary)), stamped))
        return found

    async def get_many(self, ids: Iterable[int]) -> dict[int, Article]:
        """The stored articles of these ids, by id."""
        wanted, found = sorted(set(ids)), {}
        for start in range(0, len(wanted), _BATCH):
            stmt = select(*COLUMNS).where(articles.c.id.in_(wanted[start : start + _BATCH]))
            for row in (await self.connection.execute(stmt)).mappings():
                found[int(row["id"])] = to_article(row)
        return found

    async def outlets(self, story_id: int) -> list[str]:
        """Names of the outlets that reported a story, in the order they did."""
        stmt = (
            select(articles.c.source_name)
            .where(articles.c.story_id == story_id)
            .order_by(articles.c.fetched_at, articles.c.id)
        )
        names = (await self.connection.execute(stmt)).scalars().all()
        return list(dict.fromkeys(names))

    async def purge_fetched_before(self, cutoff: datetime) -> int:
        """Retention: delete articles fetched before the cutoff; a story that lost its lead is
        led (and titled) by its oldest report left."""
        too_old = articles.c.fetched_at < cutoff
        themed = await theme_starts.themed_stories(self.connection, too_old)
        result = await self.connection.execute(delete(articles).where(too_old))
        await theme_starts.refresh(self.connection, themed)  # their first reports may be gone
        await self._lead_lost_stories()
        return int(result.rowcount or 0)

    async def _lead_lost_stories(self) -> None:
        """Give every story whose lead is not stored its oldest report as lead (None if none).

        Every such story, not only those of this purge: a database where an earlier version
        purged leads without moving them is repaired by the next retention run.
        """
        rows = (await self.connection.execute(_LEADS_LOST)).all()
        moved = [
            {"story_id_": story_id, "lead_": oldest}
            for story_id, lead, oldest in rows
            if lead is not None or oldest is not None  # else already without a lead
        ]
        if moved:
            await self.connection.execute(_SET_LEAD, moved)
