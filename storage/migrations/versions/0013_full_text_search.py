"""Full-text search: articles.search_text holds search terms, indexed by FTS5 or a GIN tsvector.

search_text held the case-folded title and summary, which `search` scanned for substrings. It
now holds their search terms (bot.core.search_terms.terms: stemmed words, Korean character pairs),
rewritten here for every article already stored, and the database indexes them:

- SQLite: the FTS5 table articles_fts over articles.search_text (external content: the terms
  are stored once), filled here and kept in step by triggers on insert, delete (retention) and
  a change of search_text. Its `ascii` tokenizer splits on the spaces between terms and never
  splits a term of another script. (A later migration that rebuilds the articles table in batch
  mode drops these triggers with the old table and must create them again.)
- PostgreSQL: the generated column articles.search_vector, to_tsvector('simple', search_text)
  (the terms as they are, with their positions for phrases), and a GIN index on it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.search_terms.terms import index_text

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000
_articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("title", sa.Text),
    sa.column("summary", sa.Text),
    sa.column("search_text", sa.Text),
)

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "search_text, content='articles', content_rowid='id', tokenize='ascii')",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF search_text ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO articles_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    "INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER articles_fts_update",
    "DROP TRIGGER articles_fts_delete",
    "DROP TRIGGER articles_fts_insert",
    "DROP TABLE articles_fts",
]
_POSTGRESQL_UP = [
    "ALTER TABLE articles ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
    # The planner's statistics for the new column now: until autovacuum gathers them it would
    # guess how many articles a term matches.
    "ANALYZE articles",
]
_POSTGRESQL_DOWN = [
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
]


def upgrade() -> None:
    # The terms first: PostgreSQL then computes each vector once, as it adds the column.
    _rewrite_search_text(index_text)
    for statement in _SQLITE_UP if _dialect() == "sqlite" else _POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in _SQLITE_DOWN if _dialect() == "sqlite" else _POSTGRESQL_DOWN:
        op.execute(statement)
    _rewrite_search_text(lambda title, summary: f"{title}\n{summary}".casefold())


def _dialect() -> str:
    return op.get_bind().dialect.name


def _rewrite_search_text(text_of: Callable[[str, str], str]) -> None:
    """Set search_text from title and summary for every article, a batch at a time."""
    connection = op.get_bind()
    update = (
        sa.update(_articles)
        .where(_articles.c.id == sa.bindparam("id_"))
        .values(search_text=sa.bindparam("text_"))
    )
    after = None
    while True:
        page = sa.select(_articles.c.id, _articles.c.title, _articles.c.summary)
        if after is not None:
            page = page.where(_articles.c.id > after)
        rows = connection.execute(page.order_by(_articles.c.id).limit(_BATCH)).all()
        if not rows:
            return
        changes = [{"id_": id_, "text_": text_of(title, summary)} for id_, title, summary in rows]
        connection.execute(update, changes)
        after = rows[-1][0]
