"""The shared job queue of the PostgreSQL engine (procrastinate's own schema; none on SQLite).

On PostgreSQL `nkru run` hands its work to procrastinate (bot/scaleout), whose tables, types,
functions and triggers are installed here, so `nkru db upgrade` and Store.open install them with
ours. A later procrastinate release that changes its schema gets a migration of ours applying
procrastinate's migration files (procrastinate.schema.SchemaManager.get_migrations_path()).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type,
    procrastinate_job_to_defer_v1 CASCADE;
"""


def _run_script(script: str) -> None:
    """Run a multi-statement script in the migration's transaction.

    The asyncpg and psycopg drivers prepare every statement SQLAlchemy sends (one command each);
    the driver connection itself runs a script without parameters as one simple query.
    """
    adapted: Any = op.get_bind().connection.dbapi_connection

    async def execute(driver_connection: Any) -> None:
        await driver_connection.execute(script)

    adapted.run_async(execute)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Already there (applied by hand with `procrastinate schema --apply`): kept as it is.
    if bind.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
        # Imported here: psycopg, which procrastinate imports, needs libpq, and a SQLite user
        # need not have it.
        from procrastinate.schema import SchemaManager

        _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(_DROP)
