"""procrastinate's App on the bot's PostgreSQL database, and deferring without duplicates."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# Jobs waiting or running for these locks (the sweeps defer only what has none), and whether
# each waits for a time later than `late` seconds from now (the work became due sooner).
_QUEUED_LOCKS = """
SELECT id, queueing_lock,
       status = 'todo' AND scheduled_at > now() + make_interval(secs => %(late)s) AS early
FROM procrastinate_jobs
WHERE queueing_lock = ANY(%(locks)s) AND status IN ('todo', 'doing')
"""


def is_postgres(database_url: str) -> bool:
    """Whether the URL names a PostgreSQL database (the shared-queue engine)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def conninfo(database_url: str) -> str:
    """The libpq URL psycopg takes, from a SQLAlchemy URL (postgresql+asyncpg://…)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_app(database_url: str, *, pool_size: int = 10) -> App:
    """An App on the database (opened by the caller with `open_async`)."""
    connector = PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=pool_size)
    return App(connector=connector)


async def queued_locks(app: App, locks: list[str], late: float = 5.0) -> set[str]:
    """Which of `locks` have a job waiting or running; a job waiting for a time more than `late`
    seconds ahead is cancelled instead (what it does became due sooner: a feed enabled again, a
    poll time moved), so the caller queues it for now."""
    if not locks:
        return set()
    rows = await app.connector.execute_query_all_async(_QUEUED_LOCKS, locks=locks, late=late)
    queued = set()
    for row in rows:
        if row["early"] and await app.job_manager.cancel_job_by_id_async(row["id"]):
            continue
        queued.add(row["queueing_lock"])
    return queued


async def defer_once(
    app: App,
    task: str,
    lock: str,
    kwargs: dict[str, Any],
    *,
    at: datetime | None = None,
    serial: bool = True,
) -> bool:
    """Queue `task` unless a job with the same queueing lock waits already; True if queued.

    `serial` also makes jobs with that lock run one at a time, across every process.
    """
    try:
        await app.configure_task(
            task, queueing_lock=lock, lock=lock if serial else None, schedule_at=at
        ).defer_async(**kwargs)
    except AlreadyEnqueued:
        return False
    return True
