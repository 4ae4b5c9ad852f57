"""Feed repository: the feed list and each feed's polling state."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Update, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import Feed, FeedStatus, PollState
from bot.core.records import FeedExistsError, NewFeed
from storage.dialect import insert_ignore
from storage.schema import feeds


def _to_feed(row: RowMapping) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        interval_seconds=row["interval_seconds"],
        enabled=row["enabled"],
        status=FeedStatus(row["status"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        first_fetch_done=row["first_fetch_done"],
        consecutive_failures=row["consecutive_failures"],
        failing_since=row["failing_since"],
        disabled_reason=row["disabled_reason"],
        last_error=row["last_error"],
        last_polled_at=row["last_polled_at"],
        last_success_at=row["last_success_at"],
        next_poll_at=row["next_poll_at"],
        item_count=row["item_count"],
    )


def _new_row(feed: NewFeed, now: datetime) -> dict[str, Any]:
    return {
        "url": feed.url,
        "name": feed.name,
        "interval_seconds": feed.interval_seconds,
        "origin": feed.origin,
        "enabled": True,
        "status": FeedStatus.OK.value,
        "first_fetch_done": False,
        "consecutive_failures": 0,
        "item_count": 0,
        "created_at": now,
        "next_poll_at": now,
    }


# Built once: every poll reads its feed (see storage.stories on building per call).
_GET = select(feeds).where(feeds.c.id == bindparam("feed_id"))


@functools.cache
def _poll_update(columns: tuple[str, ...]) -> Update:
    """record_poll's UPDATE for this set of columns, built once: a statement built per call
    (literal values, SQL expressions, cache key) cost more than running it (~0.5 ms a poll)."""
    values: dict[str, Any] = {
        name: bindparam(f"{name}_", type_=feeds.c[name].type) for name in columns
    }
    values["item_count"] = feeds.c.item_count + bindparam("new_items_", type_=Integer())
    return (
        update(feeds)
        .where(feeds.c.id == bindparam("feed_id_", type_=feeds.c.id.type))
        .values(values)
    )


def _poll_values(state: PollState) -> dict[str, Any]:
    """The feed columns a poll's outcome writes (those it leaves alone are left out)."""
    values: dict[str, Any] = {
        "last_polled_at": state.last_polled_at,
        "next_poll_at": state.next_poll_at,
        "status": state.status.value,
        "consecutive_failures": state.consecutive_failures,
        "last_error": state.last_error,
        "failing_since": state.failing_since,
        "disabled_reason": state.disabled_reason,
    }
    if state.status is FeedStatus.DISABLED:
        values["enabled"] = False
    optional = {
        "etag": state.etag,
        "last_modified": state.last_modified,
        "body_hash": state.body_hash,
        "last_success_at": state.last_success_at,
        "first_fetch_done": state.first_fetch_done,
    }
    return values | {key: value for key, value in optional.items() if value is not None}


class SqlFeeds:
    """Feeds in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def add(self, feed: NewFeed, now: datetime) -> Feed:
        """Add one feed, or raise FeedExistsError naming the feed that already has the URL."""
        stmt = insert_ignore(self.connection, feeds, ["url"]).values(_new_row(feed, now))
        row = (await self.connection.execute(stmt.returning(*feeds.c))).mappings().first()
        if row is None:
            existing = await self.get_by_url(feed.url)
            assert existing is not None
            raise FeedExistsError(existing)
        return _to_feed(row)

    async def add_missing(self, new: list[NewFeed], now: datetime) -> list[Feed]:
        """Add the feeds whose URL is not stored yet; return only those added."""
        if not new:
            return []
        stmt = insert_ignore(self.connection, feeds, ["url"]).returning(*feeds.c)
        rows = await self.connection.execute(stmt, [_new_row(feed, now) for feed in new])
        return [_to_feed(row) for row in rows.mappings()]

    async def get(self, feed_id: int) -> Feed | None:
        """The feed with this id."""
        row = (await self.connection.execute(_GET, {"feed_id": feed_id})).mappings().first()
        return _to_feed(row) if row else None

    async def get_with_origin(self, feed_id: int) -> tuple[Feed, str] | None:
        """The feed with this id and who added it (`origin_of`), in one query."""
        row = (await self.connection.execute(_GET, {"feed_id": feed_id})).mappings().first()
        return (_to_feed(row), row["origin"]) if row else None

    async def origin_of(self, feed_id: int) -> str | None:
        """Who added the feed: "seed", "cli", "chat"… (None if it does not exist)."""
        stmt = select(feeds.c.origin).where(feeds.c.id == feed_id)
        origin: str | None = (await self.connection.execute(stmt)).scalar_one_or_none()
        return origin

    async def get_by_url(self, url: str) -> Feed | None:
        """The feed with this URL."""
        stmt = select(feeds).where(feeds.c.url == url)
        row = (await self.connection.execute(stmt)).mappings().first()
        return _to_feed(row) if row else None

    async def list_all(self) -> list[Feed]:
        """Every feed, by id."""
        rows = await self.connection.execute(select(feeds).order_by(feeds.c.id))
        return [_to_feed(row) for row in rows.mappings()]

    async def due(self, now: datetime) -> list[Feed]:
        """Enabled feeds whose next poll time has come."""
        stmt = (
            select(feeds)
            .where(feeds.c.enabled.is_(True))
            .where(or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now))
            .order_by(feeds.c.next_poll_at)
        )
        return [_to_feed(row) for row in (await self.connection.execute(stmt)).mappings()]

    async def due_for_poll(self, now: datetime, limit: int) -> list[tuple[Feed, str]]:
        """Up to `limit` enabled feeds due at `now` with who added them: never polled first,
        then the longest overdue. Two index lookups on next_poll_at, whatever the feed count."""
        enabled = feeds.c.enabled.is_(True)
        never = select(feeds).where(enabled, feeds.c.next_poll_at.is_(None)).limit(limit)
        rows = list((await self.connection.execute(never)).mappings())
        if len(rows) < limit:
            overdue = (
                select(feeds)
                .where(enabled, feeds.c.next_poll_at <= now)
                .order_by(feeds.c.next_poll_at, feeds.c.id)
                .limit(limit - len(rows))
            )
            rows += (await self.connection.execute(overdue)).mappings()
        return [(_to_feed(row), row["origin"]) for row in rows]

    async def next_due_at(self, polling: Collection[int] = ()) -> datetime | None:
        """When the next enabled feed falls due, leaving out those being polled (an indexed
        MIN), or None without such feeds."""
        stmt = select(func.min(feeds.c.next_poll_at)).where(feeds.c.enabled.is_(True))
        if polling:
            stmt = stmt.where(feeds.c.id.not_in(sorted(polling)))
        found: datetime | None = (await self.connection.execute(stmt)).scalar_one_or_none()
        return found

    async def remove(self, feed_id: int) -> bool:
        """Delete a feed (its stored articles stay, detached); True if it existed."""
        result = await self.connection.execute(delete(feeds).where(feeds.c.id == feed_id))
        return bool(result.rowcount)

    async def set_enabled(self, feed_id: int, enabled: bool, now: datetime) -> bool:
        """Enable (clearing failure state, polling soon) or disable a feed by hand."""
        values: dict[str, Any] = {"enabled": enabled}
        if enabled:
            values |= {
                "status": FeedStatus.OK.value,
                "disabled_reason": None,
                "consecutive_failures": 0,
                "failing_since": None,
                "next_poll_at": now,
            }
        else:
            values |= {
                "status": FeedStatus.DISABLED.value,
                "disabled_reason": "disabled by an admin",
            }
        stmt = update(feeds).where(feeds.c.id == feed_id).values(values)
        result = await self.connection.execute(stmt)
        return bool(result.rowcount)

    async def record_poll(self, feed_id: int, state: PollState) -> None:
        """Store the outcome of one poll."""
        await self.record_polls([(feed_id, state)])

    async def record_polls(self, outcomes: Sequence[tuple[int, PollState]]) -> None:
        """`record_poll` for several feeds: one statement per set of columns written, its rows
        sent together (a group commit's polls share a round trip)."""
        if len({feed_id for feed_id, _ in outcomes}) < len(outcomes):
            for outcome in outcomes:  # a feed twice: the later state must win, so in order
                await self.record_polls([outcome])
            return
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for feed_id, state in outcomes:
            values = _poll_values(state)
            params = {f"{key}_": value for key, value in values.items()}
            params |= {"feed_id_": feed_id, "new_items_": state.new_items}
            by_columns.setdefault(tuple(values), []).append(params)
        for columns, rows in by_columns.items():
            await self.connection.execute(_poll_update(columns), rows)

    async def count_by_status(self) -> dict[str, int]:
        """How many feeds are ok, failing and disabled."""
        rows = await self.connection.execute(
            select(feeds.c.status, func.count()).group_by(feeds.c.status)
        )
        return {status: count for status, count in rows.all()}
