"""The web panel: one-time sign-in links (hashes only) and the key of its session cookies.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_logins",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("permissions", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_logins"),
    )
    op.create_index("ix_web_logins_expires_at", "web_logins", ["expires_at"])
    op.create_table(
        "web_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_web_keys"),
    )


def downgrade() -> None:
    op.drop_table("web_keys")
    op.drop_index("ix_web_logins_expires_at", table_name="web_logins")
    op.drop_table("web_logins")
