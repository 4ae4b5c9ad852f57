"""Drop story_bands: the LSH index of stories now lives in memory (bot.core.story_cache).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("story_bands") as batch_op:
        batch_op.drop_index("ix_story_bands_story_id")
    op.drop_table("story_bands")


def downgrade() -> None:
    op.create_table(
        "story_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column(
            "story_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_story_bands_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band_key", "story_id", name="pk_story_bands"),
    )
    op.create_index("ix_story_bands_story_id", "story_bands", ["story_id"], unique=False)
