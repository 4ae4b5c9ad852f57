"""Watchlist matches: which themes each stored article matched, with score and explanation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "article_themes",
        sa.Column("article_id", Id, nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_themes_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "theme", name="pk_article_themes"),
    )
    op.create_index("ix_article_themes_theme", "article_themes", ["theme"])


def downgrade() -> None:
    op.drop_index("ix_article_themes_theme", table_name="article_themes")
    op.drop_table("article_themes")
