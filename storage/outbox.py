"""Outbox repository: alerts are written here in the same transaction as their articles.

An entry is `pending` until an adapter confirms it (`sent`), or `dead` after the delivery
worker gives up. Redelivery after a crash is at-least-once; adapters that can check what they
already posted (Slack metadata, Discord nonce) make it exactly-once. While an entry is being
sent, `claimed_by` names the instance sending it (cleared with the outcome), so the claims of a
process that is gone can be released before their lease ends (bot.core.instances).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Insert, Select, bindparam, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import Alert, Report
from bot.core.records import DEAD, MUTED, PENDING, SENT, OutboxEntry
from storage import articles as article_repo
from storage import themes as theme_repo
from storage.dialect import insert_ignore
from storage.headline import head_id
from storage.schema import articles, outbox, stories

_ID_BATCH = 5000  # story ids per IN list, well under the bound-parameter limits

log = logging.getLogger(__name__)


class _Unrenderable(Exception):
    """An entry whose alert cannot be rendered from what is stored; the message says why."""


# Built once (see storage.stories: building and keying one per call cost more than running it).
@functools.cache
def _enqueue_statement(dialect: str) -> Insert:
    return insert_ignore(dialect, outbox, ["destination", "article_id"]).returning(outbox.c.id)


_STORIES_WITH_NEW_ALERT = (
    select(outbox.c.story_id)
    .where(outbox.c.story_id.in_(bindparam("story_ids", expanding=True)))
    .where(outbox.c.destination == bindparam("destination"), outbox.c.kind == "new")
    .distinct()
)


def _due_ids(
    now: datetime, limit: int, skip: Collection[str], only: str | None = None
) -> Select[int]:
    """Ids of pending alerts whose time has come, oldest first, not for `skip` destinations
    (only for the destination `only` when given)."""
    stmt = select(outbox.c.id).where(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now)
    if only is not None:
        stmt = stmt.where(outbox.c.destination == only)
    if skip:
        stmt = stmt.where(outbox.c.destination.not_in(sorted(skip)))
    return stmt.order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)


async def _alerts_by_id(conn: AsyncConnection, ids: list[int]) -> list[Alert]:
    stmt = (
        select(
            outbox.c.id,
            outbox.c.destination,
            outbox.c.kind,
            outbox.c.story_id,
            outbox.c.article_id,
            outbox.c.created_at,
            outbox.c.claims,
        )
        .where(outbox.c.id.in_(ids))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
    )
    rows = (await conn.execute(stmt)).mappings().all()
    alerts = []
    for row in rows:
        try:
            alerts.append(await _alert(conn, row))
        except _Unrenderable as exc:
            # Retrying cannot bring the missing rows back, and raising would fail every other
            # alert of the batch on each pass: this one is given up, the rest go out.
            await _give_up(conn, row, f"cannot render the alert: {exc}")
    hits = await theme_repo.SqlThemes(conn).of_stories(alert.story_id for alert in alerts)
    return [replace(alert, themes=hits.get(alert.story_id, [])) for alert in alerts]


async def _alert(conn: AsyncConnection, row: RowMapping) -> Alert:
    """Render the story as it stands now: its headline article and every outlet so far.

    The headline is the story's representative report (storage.headline: its first matched
    report, else its lead), the one `latest`, digests and search show too; a story can start
    with a report that matched nothing and alert on a later one, which then heads it.
    """
    first = await _first_post(conn, row["story_id"], row["destination"])
    headline = (
        select(*article_repo.COLUMNS)
        .select_from(stories)
        .join(articles, articles.c.id == head_id())
        .where(stories.c.id == row["story_id"])
    )
    lead = (await conn.execute(headline)).mappings().first()
    if lead is None:
        raise _Unrenderable(
            f"story #{row['story_id']} has no headline article (its lead is not stored and "
            "none of its reports matched a theme)"
        )
    outlets = await article_repo.SqlArticles(conn).outlets(row["story_id"])
    return Alert(
        outbox_id=row["id"],
        destination=row["destination"],
        kind=row["kind"],
        story_id=row["story_id"],
        title=lead["title"],
        url=lead["url"],
        summary=lead["summary"],
        source_name=lead["source_name"],
        published_at=lead["published_at"],
        seen_at=lead["fetched_at"],
        also_reported_by=[name for name in outlets if name != lead["source_name"]],
        remote_id=first["remote_id"] if first else None,
        superseded=row["kind"] == "update" and _shown_by_first_post(first, row["created_at"]),
        redelivery=row["claims"] > 1,
        image_url=lead["image_url"],
        report=await _report(conn, row) if row["kind"] == "update" else None,
    )


async def _report(conn: AsyncConnection, row: RowMapping) -> Report | None:
    """The article an update entry was queued for (a thread reply shows it); None if purged."""
    stmt = select(*article_repo.COLUMNS).where(articles.c.id == row["article_id"])
    found = (await conn.execute(stmt)).mappings().first()
    if found is None:
        return None
    return Report(
        title=found["title"],
        url=found["url"],
        source_name=found["source_name"],
        published_at=found["published_at"],
        image_url=found["image_url"],
    )


async def _give_up(conn: AsyncConnection, row: RowMapping, error: str) -> None:
    """Mark an entry dead with `error` (shown by `/nkru status`) and log it."""
    await conn.execute(
        update(outbox).where(outbox.c.id == row["id"]).values(status=DEAD, last_error=error)
    )
    log.error("alert #%s to %s given up: %s", row["id"], row["destination"], error)


async def _first_post(conn: AsyncConnection, story_id: int, destination: str) -> RowMapping | None:
    """The story's "new" entry for this destination (status, sent_at, remote_id, article_id)."""
    stmt = (
        select(
            outbox.c.status,
            outbox.c.sent_at,
            outbox.c.rendered_at,
            outbox.c.remote_id,
            outbox.c.article_id,
        )
        .where(outbox.c.story_id == story_id, outbox.c.destination == destination)
        .where(outbox.c.kind == "new")
        .limit(1)
    )
    return (await conn.execute(stmt)).mappings().first()


def _shown_by_first_post(first: RowMapping | None, queued_at: datetime) -> bool:
    """The first post shows every outlet known when it was rendered (claimed for the send that
    succeeded), so a later report queued before that moment (or while it is still pending) needs
    no update of its own; one that joined while the post was on its way does."""
    if first is None or first["status"] in (DEAD, MUTED):
        return False
    if first["status"] == PENDING:
        return True
    shown_at = first["rendered_at"] or first["sent_at"]  # sent before rendered_at existed
    return bool(shown_at >= queued_at)


class SqlOutbox:
    """The outbox in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def enqueue(self, entries: list[OutboxEntry], now: datetime) -> int:
        """Queue alerts; an article is queued at most once per destination. Returns how many."""
        if not entries:
            return 0
        rows = [
            {
                "destination": entry.destination,
                "kind": entry.kind,
                "story_id": entry.story_id,
                "article_id": entry.article_id,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for entry in entries
        ]
        enqueue = _enqueue_statement(self.connection.dialect.name)
        return len((await self.connection.execute(enqueue, rows)).all())

    async def has_new_alert(self, story_id: int, destination: str) -> bool:
        """Whether the story was already queued as a new alert for this destination."""
        stmt = (
            select(outbox.c.id)
            .where(outbox.c.story_id == story_id, outbox.c.destination == destination)
            .where(outbox.c.kind == "new")
            .limit(1)
        )
        return (await self.connection.execute(stmt)).first() is not None

    async def stories_with_new_alert(self, story_ids: Iterable[int], destination: str) -> set[int]:
        """`has_new_alert` for many stories in one query: the ids that have a "new" entry."""
        ids = sorted(set(story_ids))
        found: set[int] = set()
        for start in range(0, len(ids), _ID_BATCH):
            params = {"story_ids": ids[start : start + _ID_BATCH], "destination": destination}
            rows = await self.connection.execute(_STORIES_WITH_NEW_ALERT, params)
            found.update(int(story_id) for story_id in rows.scalars())
        return found

    async def due(self, now: datetime, limit: int = 50) -> list[Alert]:
        """Pending alerts whose time has come, oldest first, rendered as core Alerts."""
        ids = list((await self.connection.execute(_due_ids(now, limit, ()))).scalars())
        return await _alerts_by_id(self.connection, ids) if ids else []

    async def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int = 50,
        skip: Collection[str] = (),
        *,
        by: str | None = None,
        only: str | None = None,
    ) -> list[Alert]:
        """Take due alerts for delivery by pushing their next attempt `lease` ahead (none for the
        destinations in `skip`: those still working through what they claimed); `by` (the
        claiming instance's id) stays with each claim until its outcome is recorded.

        Several processes may share one PostgreSQL database: the UPDATE re-checks
        `next_attempt_at <= now` on each row it locks, so a row claimed by one process is skipped by
        the others. If this process dies mid-send, the lease runs out and the alert is retried
        (sooner when its holder is known to be gone: `release_claims`). With `only`, just the
        alerts of that destination (the PostgreSQL engine's per-destination delivery job).
        """
        ids = list((await self.connection.execute(_due_ids(now, limit, skip, only))).scalars())
        if not ids:
            return []
        stmt = (
            update(outbox)
            .where(
                outbox.c.id.in_(ids), outbox.c.status == PENDING, outbox.c.next_attempt_at <= now
            )
            .values(
                next_attempt_at=now + lease,
                claims=outbox.c.claims + 1,
                claimed_by=by,
                rendered_at=now,
            )
            .returning(outbox.c.id)
        )
        claimed = set((await self.connection.execute(stmt)).scalars())
        rendered = await _alerts_by_id(self.connection, ids)
        return [alert for alert in rendered if alert.outbox_id in claimed]

    async def due_destinations(self, now: datetime) -> set[str]:
        """The destinations that have pending alerts due at `now`."""
        stmt = (
            select(outbox.c.destination)
            .where(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now)
            .distinct()
        )
        return set((await self.connection.execute(stmt)).scalars())

    async def release_claims(self, holders: Collection[str], now: datetime) -> int:
        """Make the pending alerts claimed by these (gone) instances due at `now`; how many.

        Only claims still running: an entry whose holder recorded an outcome (a retry time, a
        quiet-hours hold) has no holder any more and keeps its time. The next claim counts as a
        redelivery (`claims` > 1), so adapters check what the gone process may have posted.
        """
        if not holders:
            return 0
        stmt = (
            update(outbox)
            .where(outbox.c.status == PENDING, outbox.c.claimed_by.in_(list(holders)))
            .where(outbox.c.next_attempt_at > now)
            .values(next_attempt_at=now, claimed_by=None)
            .returning(outbox.c.id)
        )
        return len((await self.connection.execute(stmt)).all())

    async def mark_sent(self, outbox_id: int, remote_id: str | None, now: datetime) -> None:
        """Record a confirmed delivery."""
        await self.connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(
                status=SENT,
                remote_id=remote_id,
                sent_at=now,
                attempts=outbox.c.attempts + 1,
                claimed_by=None,
            )
        )

    async def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at `retry_at`, or give up (dead) when it is None."""
        values: dict[str, object] = {
            "last_error": error,
            "attempts": outbox.c.attempts + 1,
            "claimed_by": None,
        }
        if retry_at is None:
            values["status"] = DEAD
        else:
            values["next_attempt_at"] = retry_at
        await self.connection.execute(update(outbox).where(outbox.c.id == outbox_id).values(values))

    async def postpone(self, outbox_id: int, until: datetime) -> None:
        """Hold a claimed entry until `until` (quiet hours); the claim does not count as a try."""
        await self.connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(next_attempt_at=until, claims=outbox.c.claims - 1, claimed_by=None)
        )

    async def mark_muted(self, outbox_id: int, now: datetime) -> None:
        """Record that the entry was not sent because its themes are muted in that channel."""
        await self.connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(
                status=MUTED,
                last_error=f"muted in this channel at {now:%Y-%m-%d %H:%M} UTC",
                claimed_by=None,
            )
        )

    async def attempts(self, outbox_id: int) -> int:
        """How many times delivery of this entry was tried."""
        stmt = select(outbox.c.attempts).where(outbox.c.id == outbox_id)
        return int((await self.connection.execute(stmt)).scalar_one())

    async def count_by_status(self) -> dict[str, int]:
        """Backlog figures for `status`: pending, sent, dead."""
        rows = await self.connection.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        )
        return {status: count for status, count in rows.all()}
