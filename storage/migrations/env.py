"""Alembic environment: runs on the connection handed over by storage.engine.migrate()."""

from alembic import context
from sqlalchemy import create_engine

from storage.schema import declared, metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=conn, target_metadata=metadata, render_as_batch=True, include_name=declared
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:  # `alembic` CLI use (autogenerate): a sync URL in sqlalchemy.url
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        run(conn)
