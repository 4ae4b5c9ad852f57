"""The search statement on each database: its full-text index, ranked, then the newest first.

Terms are letters and digits only (bot.core.search_terms.terms), so they need no escaping in either
database's query syntax; quoting them anyway keeps a term from ever reading as an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    String,
    bindparam,
    column,
    func,
    literal_column,
    select,
)
from sqlalchemy import table as lightweight_table

from bot.core.search_terms.terms import Phrase
from storage.schema import FULLTEXT_TABLE, FULLTEXT_VECTORS, articles

CANDIDATES = 10_000  # matches ranked at most: the most recently stored
_FTS = lightweight_table(FULLTEXT_TABLE, column("rowid"))
_VECTORS = lightweight_table(
    FULLTEXT_VECTORS,
    column("article_id", articles.c.id.type),
    column("published_at", articles.c.published_at.type),
    column("vector"),
)
_QUERY = bindparam("fulltext_query", type_=String())
# PostgreSQL gets the query written into the statement: a prepared statement with it as a
# parameter is soon planned once for any query, and that plan reads every match of a common
# word, where the plan for the word itself walks the newest articles and stops.
_TSQUERY_TEXT = bindparam("fulltext_query", type_=String(), literal_execute=True)


def sqlite_match(phrases: Sequence[Phrase]) -> str:
    """An FTS5 query: every phrase, each as "term term …" (a lone syllable as "syllable"*)."""
    return " AND ".join(
        '"' + " ".join(p.terms).replace('"', '""') + '"' + ("*" if p.prefix else "")
        for p in phrases
    )


def postgresql_query(phrases: Sequence[Phrase]) -> str:
    """A to_tsquery text: every phrase, each as 'term' <-> 'term' … (a lone syllable as
    'syllable':*)."""
    return " & ".join(
        "(" + " <-> ".join(_quoted(term) for term in p.terms) + (":*" if p.prefix else "") + ")"
        for p in phrases
    )


def search_statement(
    dialect: str, phrases: Sequence[Phrase], columns: Sequence[Column[Any]], limit: int
) -> Select[Any]:
    """The `columns` of the articles matching every phrase, most relevant first, then newest.

    Only the CANDIDATES matches stored last are ranked: a word in most articles would otherwise
    have every one of them scored (seconds with a million stored), while the newest ten
    thousand hold what anyone looks for in a news search.
    """
    if dialect == "sqlite":
        fts: ColumnElement[Any] = literal_column(FULLTEXT_TABLE)
        # FTS5 reads its matches in rowid (article id) order and stops at the limit; bm25,
        # lower for a better match, is computed only for those.
        hits = (
            select(_FTS.c.rowid.label("id"), func.bm25(fts).label("score"))
            .where(fts.op("MATCH")(_QUERY))
            .order_by(_FTS.c.rowid.desc())
            .limit(CANDIDATES)
            .subquery("hits")
        )
        return (
            select(*columns)
            .join_from(articles, hits, hits.c.id == articles.c.id)
            .order_by(hits.c.score, articles.c.published_at.desc(), articles.c.id.desc())
            .limit(limit)
            .params(fulltext_query=sqlite_match(phrases))
        )
    return _postgresql_statement(columns, limit).params(fulltext_query=postgresql_query(phrases))


def _postgresql_statement(columns: Sequence[Column[Any]], limit: int) -> Select[Any]:
    """Rank the candidates from article_vectors (id, date and vector alone), then read the
    `limit` best articles.

    The candidates' vectors are what ranking must read: in their narrow table (migration 0017)
    a common word's take half the pages they took in the wide article rows. Each is ranked as
    it is read, so the candidates are sorted as (id, date, rank), not with their vectors (a
    word's 9,400 spilled to disk at the default work_mem). When PostgreSQL reads every match
    (a bitmap scan) it thus ranks some beyond the newest CANDIDATES too: a little CPU, the same
    results. The columns of the few shown are read by primary key afterwards.
    """
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), _TSQUERY_TEXT)
    # Normalization 1 divides by the log of the article's length: as with bm25, a match in a
    # short text ranks above one in a long text.
    recent = (
        select(
            _VECTORS.c.article_id.label("id"),
            _VECTORS.c.published_at,
            func.ts_rank(_VECTORS.c.vector, tsquery, 1).label("rank"),
        )
        .where(_VECTORS.c.vector.op("@@")(tsquery))
        .order_by(_VECTORS.c.article_id.desc())
        .limit(CANDIDATES)
        .subquery("recent")
    )
    best = (
        select(recent)
        .order_by(recent.c.rank.desc(), recent.c.published_at.desc(), recent.c.id.desc())
        .limit(limit)
        .subquery("best")
    )
    return (
        select(*columns)
        .join_from(articles, best, best.c.id == articles.c.id)
        .order_by(best.c.rank.desc(), best.c.published_at.desc(), best.c.id.desc())
    )


def _quoted(term: str) -> str:
    return "'" + term.replace("'", "''") + "'"
