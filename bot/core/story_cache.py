"""The stories of the window, indexed in memory for layer-(b) dedup; the database stays the truth.

Each ingest that has new articles first calls `sync`, inside the ingest lock
(`Transaction.lock_ingest`) and this cache's `lock`. It adds what was committed since the last
sync, by this or any other process (ids grow in commit order because only locked ingests write
stories): new stories, and the later reports that joined a story, so a new article is compared
with every report of a story (its first `MEMBER_CAP`), not only the first (an outlet that words
it differently from the first still meets a closer one). It then forgets stories that left the
window. Nothing is added from an uncommitted transaction, so a rollback leaves no phantom.

Why not an SQL index of band keys: 64 rows per story in a B-tree cost more than everything
else the pipeline stores (see benchmarks/pipeline.py); in memory a lookup is microseconds.
Memory: about 0.7 KiB per report in the window (bot.core.story_index).

Start-up reads the window `PAGE` rows at a time, each page turned into arrays in a worker
thread, then merged once (also in a thread): a million stories load in seconds and never hold
the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.core.repositories import Transaction
from bot.core.story_index import MEMBER_CAP, StoryIndex

__all__ = ["MEMBER_CAP", "PAGE", "StoryCache"]

# Rows read per query: turning 1,000 rows into Python objects takes ~10 ms of the event loop.
PAGE = 1_000
# Fewer new rows than this are indexed on the event loop: a thread hand-off costs more.
_INLINE_ROWS = 200


class StoryCache:
    """A process-local `StoryIndex` of the stories seen within the window."""

    def __init__(self, page: int = PAGE) -> None:
        self.index = StoryIndex(auto_maintain=False)
        # Held from sync to the last lookup of an ingest: the index must not change meanwhile.
        self.lock = asyncio.Lock()
        self._page = page
        self._max_id = 0
        self._max_member_id = 0
        self._batch_compared = 0

    @property
    def compared(self) -> int:
        """Signatures compared with new articles so far, stored and within ingests."""
        return self.index.examined + self._batch_compared

    def count_batch(self, compared: int) -> None:
        """Add the comparisons an ingest made with its own new stories."""
        self._batch_compared += compared

    async def sync(
        self, tx: Transaction, now: datetime, window: timedelta, *, own_from: int | None = None
    ) -> None:
        """Catch up with the database: new stories, reports that joined one, the window's end.

        `own_from` is the first article id the calling transaction inserted itself, not placed
        in a story yet: reading stops before it, and the next sync reads those once committed.

        Both reads are by id, so each costs what was committed since the last sync, not the
        size of the window. A report that joined a story is also what makes the story "seen
        again" (`StoryIndex.add_many` keeps the later time), so no scan of last-seen times is
        needed.
        """
        since = now - window
        adding: asyncio.Future[None] | None = None
        # Each page is indexed in a worker thread while the next one is read.
        while page := await tx.stories.signatures_after(self._max_id, since, self._page):
            ids, signatures, seen = zip(*page, strict=True)
            adding = await self._add(adding, list(ids), list(signatures), seen)
            self._max_id = max(self._max_id, *ids)
            if len(page) < self._page:
                break
        # Most articles never join a story (each starts its own): the next read must start
        # after them too, not after the last one that joined, or every sync reads them all
        # again (139 ms a sync with 200,000 stored: most of the bot's time at 10,000 feeds).
        read_to = own_from - 1 if own_from is not None else await tx.articles.last_id()
        while members := await tx.articles.member_signatures_after(
            self._max_member_id, since, self._page
        ):
            article_ids, story_ids, signatures, seen = zip(*members, strict=True)
            adding = await self._add(adding, list(story_ids), list(signatures), seen)
            self._max_member_id = max(self._max_member_id, *article_ids)
            if len(members) < self._page:
                break
        self._max_member_id = max(self._max_member_id, read_to)
        if adding is not None:
            await adding
        self.index.remove_older_than(since.timestamp())
        if self.index.maintenance_due():
            await asyncio.to_thread(self.index.maintain)

    async def _add(
        self,
        adding: asyncio.Future[None] | None,
        story_ids: list[int],
        signatures: list[bytes],
        seen: tuple[datetime, ...],
    ) -> asyncio.Future[None] | None:
        """Index these rows once the previous page is; what is still being indexed."""
        if adding is not None:
            await adding
        stamps = [at.timestamp() for at in seen]
        if len(story_ids) < _INLINE_ROWS:
            self.index.add_many(story_ids, signatures, stamps)
            return None
        # Hashing and sorting a page take tens of milliseconds: not on the event loop.
        return asyncio.ensure_future(
            asyncio.to_thread(self.index.add_many, story_ids, signatures, stamps)
        )
