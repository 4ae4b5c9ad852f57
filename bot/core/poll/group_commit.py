"""Group commit: the ingests of polls that finish together share one transaction.

On SQLite every statement costs a hand-off between the event loop and aiosqlite's thread and
SQLAlchemy's own work, whatever it does (a few tenths of a millisecond, even with
storage.sqlite_driver's one trip per statement and statements built once), and an ingest is a
dozen statements: at a feed of 50 items that fixed cost was half the time of storing them
(benchmarks/pipeline.py, before those two changes). When several
polls are ready at once (start-up, a busy minute), the polls that arrive while a transaction is
running are stored together by the next one: same statements, several feeds' rows.

Nothing changes for a poll on its own: a group of one is the plain `ingest`. A group that
fails is retried one poll at a time, so one feed's bad data is that feed's failure only. Polls
with nothing to store (304, unchanged body, failures) write their feed's state through the same
queue (`record`), so a burst of them costs one short transaction, not one each; the feed states
of a group are written by one statement per set of columns, not one per poll.

On PostgreSQL the part of an ingest that places articles in stories runs under a lock every
process takes in turn (`Transaction.lock_ingest`), so a group does what it can before it: it
leaves out the items stored already and matches the rest against the watchlist; and the polls
that queued while it waited for the lock join it once it has the lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.models import NewArticle, PollState
from bot.core.poll.ingest import AlertPolicy, IngestBatch, IngestReport, ingest_offered, offer
from bot.core.repositories import Database, Transaction
from bot.core.routing import ThemeMatcher
from bot.core.story_cache import StoryCache

log = logging.getLogger(__name__)

# What a poll writes in the same transaction once its articles are in: its feed's id and new
# state, given what was stored.
FeedOutcome = Callable[[IngestReport], tuple[int, PollState]]

# Enough to amortise the fixed cost; small enough that one transaction stays short and that
# no step of it holds the event loop long: binding the rows, clustering and placing them cost
# CPU in proportion, and groups of 2,000 in a first round of 10,000 feeds held it 40-140 ms.
MAX_GROUP_ARTICLES = 500


@dataclass(slots=True)
class _Job:
    batch: IngestBatch
    now: datetime
    outcome: FeedOutcome | None
    done: asyncio.Future[IngestReport]


@dataclass(slots=True)
class GroupStats:
    """What the committer did: for logs and benchmarks."""

    groups: int = 0
    jobs: int = 0
    seconds: float = 0.0  # inside transactions


@dataclass(slots=True)
class GroupCommitter:
    """Queues ingests and stores each group of queued ones in one transaction, one at a time."""

    store: Database
    policy: AlertPolicy
    cache: StoryCache
    # The watchlist matcher in force; replaced when the watchlist changes.
    matcher: ThemeMatcher | None = None
    max_articles: int = MAX_GROUP_ARTICLES
    stats: GroupStats = field(default_factory=GroupStats)
    _queue: list[_Job] = field(default_factory=list)
    _flusher: asyncio.Task[None] | None = None

    async def ingest(
        self,
        candidates: list[NewArticle],
        now: datetime,
        *,
        alert: bool = True,
        outcome: FeedOutcome | None = None,
    ) -> IngestReport:
        """Store a poll's candidates (and the feed state `outcome` gives, in the same
        transaction); its report.

        Raises what the transaction raised. Cancelling the caller does not cancel the write:
        the group it joined is committed (or not) for everyone in it.
        """
        job = _Job(IngestBatch(candidates, alert), now, outcome, asyncio.Future())
        # A caller cancelled meanwhile never reads the outcome: mark it read, so asyncio does
        # not log "exception was never retrieved" for a failure already logged by the poll.
        job.done.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.append(job)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all(), name="nkru-group-commit")
        return await asyncio.shield(job.done)

    async def _flush_all(self) -> None:
        while self._queue:
            try:
                await self._flush_next()
            except asyncio.CancelledError:
                self._fail_queued(asyncio.CancelledError())
                raise

    async def _flush_next(self) -> None:
        # The transaction is opened before the group is taken: everything queued while this
        # waited for the database (the SQLite gate, a previous group) goes in together.
        started = time.perf_counter()
        group: list[_Job] = []
        try:
            async with self.store.transaction() as tx:
                group = self._take()
                reports = await self._write(tx, group, more=True)
        except asyncio.CancelledError:
            for job in group:
                _settle(job, exc=asyncio.CancelledError())
            raise
        except Exception as exc:
            if len(group) > 1:
                log.warning(
                    "a group of %d ingests failed (%s); retrying one by one", len(group), exc
                )
                await self._one_by_one(group)
            else:
                for job in group:
                    _settle(job, exc=exc)
            return
        finally:
            self.stats.seconds += time.perf_counter() - started
        self.stats.groups += 1
        self.stats.jobs += len(group)
        for job, report in zip(group, reports, strict=True):
            _settle(job, report=report)

    async def _one_by_one(self, group: list[_Job]) -> None:
        for job in group:
            try:
                async with self.store.transaction() as tx:
                    [report] = await self._write(tx, [job])
            except Exception as exc:
                _settle(job, exc=exc)
            else:
                _settle(job, report=report)

    async def record(self, now: datetime, feed_id: int, state: PollState) -> None:
        """Write a feed's state in the next group's transaction: a poll with nothing to store
        (304, unchanged body, failure) records it beside the others finishing now."""
        await self.ingest([], now, alert=False, outcome=lambda _: (feed_id, state))

    async def _write(
        self, tx: Transaction, group: list[_Job], *, more: bool = False
    ) -> list[IngestReport]:
        """Store `group`'s jobs; their reports, in order. With `more`, the jobs queued while
        this waited for the ingest lock join the group (appended to `group`)."""
        storing = [job for job in group if job.batch.candidates]
        stored: dict[int, IngestReport] = {}
        if storing:  # a group of state writes only takes no ingest lock and reads no stories
            offered = await offer(tx, [job.batch for job in storing], self.matcher)
            await tx.lock_ingest()
            if more:
                # On PostgreSQL the wait can last another process's whole ingest. What queued
                # meanwhile shares this one's locked part, whose cost is mostly fixed (its
                # round trips): larger groups, fewer turns of the lock per poll. Those jobs
                # are not looked up first (another round trip, inside the lock now): the
                # insert skips their stored items.
                room = self.max_articles - sum(len(job.batch.candidates) for job in group)
                late = self._take(room)
                group += late
                late_storing = [job for job in late if job.batch.candidates]
                if late_storing:
                    batches = [job.batch for job in late_storing]
                    offered.extend(await offer(tx, batches, self.matcher, look=False))
                    storing += late_storing
            reports = await ingest_offered(
                tx, offered, max(job.now for job in storing), self.policy, cache=self.cache
            )
            stored = {id(job): report for job, report in zip(storing, reports, strict=True)}
        results = [stored.get(id(job)) or IngestReport() for job in group]
        outcomes = [
            job.outcome(report)
            for job, report in zip(group, results, strict=True)
            if job.outcome is not None
        ]
        if outcomes:
            await tx.feeds.record_polls(outcomes)
        return results

    def _take(self, room: int | None = None) -> list[_Job]:
        """The oldest queued jobs, up to max_articles (always at least one); or, with `room`,
        those that fit in it (perhaps none)."""
        taken, articles = 0, 0
        limit = self.max_articles if room is None else room
        for job in self._queue:
            if (taken or room is not None) and articles + len(job.batch.candidates) > limit:
                break
            taken += 1
            articles += len(job.batch.candidates)
        group, self._queue = self._queue[:taken], self._queue[taken:]
        return group

    def _fail_queued(self, exc: BaseException) -> None:
        for job in self._queue:
            _settle(job, exc=exc)
        self._queue = []


def _settle(
    job: _Job, *, report: IngestReport | None = None, exc: BaseException | None = None
) -> None:
    if job.done.done():
        return
    if exc is not None:
        job.done.set_exception(exc)
    elif report is not None:
        job.done.set_result(report)
