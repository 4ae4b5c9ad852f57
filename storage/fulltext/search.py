"""The search statement on each database: its full-text index, ranked, then the newest first.

Terms are letters and digits only (storage.fulltext.terms), so they need no escaping in either
database's query syntax; quoting them anyway keeps a term from ever reading as an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
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

from storage.fulltext.terms import Phrase
from storage.schema import FULLTEXT_TABLE, FULLTEXT_VECTOR, articles

_FTS = lightweight_table(FULLTEXT_TABLE, column("rowid"))
_QUERY = bindparam("fulltext_query", type_=String())


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
    dialect: str, phrases: Sequence[Phrase], columns: Sequence[ColumnElement[Any]], limit: int
) -> Select[Any]:
    """The `columns` of the articles matching every phrase, most relevant first, then newest."""
    statement = select(*columns)
    if dialect == "sqlite":
        fts: ColumnElement[Any] = literal_column(FULLTEXT_TABLE)
        statement = statement.join_from(articles, _FTS, _FTS.c.rowid == articles.c.id)
        matches = fts.op("MATCH")(_QUERY)
        best: ColumnElement[Any] = func.bm25(fts)  # lower for a better match
        query = sqlite_match(phrases)
    else:
        vector: ColumnElement[Any] = literal_column(f"articles.{FULLTEXT_VECTOR}")
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), _QUERY)
        matches = vector.op("@@")(tsquery)
        # Normalization 1 divides by the log of the article's length: as with bm25, a match in
        # a short text ranks above one in a long text.
        best = func.ts_rank(vector, tsquery, 1).desc()
        query = postgresql_query(phrases)
    return (
        statement.where(matches)
        .order_by(best, articles.c.published_at.desc(), articles.c.id.desc())
        .limit(limit)
        .params(fulltext_query=query)
    )


def _quoted(term: str) -> str:
    return "'" + term.replace("'", "''") + "'"
