"""PostgreSQL search: the text vectors move from articles to a narrow table of their own.

Ranking a common word reads the text vector of each of its (up to 10,000 newest) matches. In
the generated column articles.search_vector (migration 0013) they sat in the wide article rows
(~1.6 kB with title, summary and terms; the longest vectors in the TOAST table): a word in 8 %
of 120,000 articles read ~14,000 pages, more than PostgreSQL's default shared buffers keep
beside other work, so most searches read them from the system's cache. article_vectors holds
(article_id, published_at, vector) alone, ~10 rows a page: the same search reads ~6,700.

The rows are kept by triggers, so every write to articles keeps them in step: a row per article
inserted, rewritten when its search_text or published_at changes, deleted with the article
(retention) by the foreign key's cascade. The GIN index moves with the vectors. SQLite is
unchanged (its FTS5 table holds no vectors to rank from the article rows).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VECTOR = "to_tsvector('simple'::regconfig, NEW.search_text)"
_UP = [
    "CREATE TABLE article_vectors ("
    " article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,"
    " published_at timestamptz NOT NULL,"
    " vector tsvector NOT NULL)",
    # The vectors 0013 computed, in id order: the newest-first walk of a very common word
    # reads the table's pages in order.
    "INSERT INTO article_vectors (article_id, published_at, vector)"
    " SELECT id, published_at, search_vector FROM articles ORDER BY id",
    "CREATE INDEX ix_article_vectors_vector ON article_vectors USING gin (vector)",
    f"""CREATE FUNCTION article_vectors_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO article_vectors (article_id, published_at, vector)
        VALUES (NEW.id, NEW.published_at, {_VECTOR});
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION article_vectors_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_vectors SET published_at = NEW.published_at, vector = {_VECTOR}
        WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER article_vectors_insert AFTER INSERT ON articles"
    " FOR EACH ROW EXECUTE FUNCTION article_vectors_insert()",
    "CREATE TRIGGER article_vectors_update AFTER UPDATE OF search_text, published_at"
    " ON articles FOR EACH ROW EXECUTE FUNCTION article_vectors_update()",
    # The column and its index would only double the work of every insert.
    "DROP INDEX ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
    "ANALYZE article_vectors",
]
_DOWN = [
    "DROP TRIGGER article_vectors_update ON articles",
    "DROP TRIGGER article_vectors_insert ON articles",
    "DROP FUNCTION article_vectors_update()",
    "DROP FUNCTION article_vectors_insert()",
    "DROP TABLE article_vectors",
    "ALTER TABLE articles ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
    "ANALYZE articles",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWN:
            op.execute(statement)
