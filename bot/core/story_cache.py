"""The stories of the window, indexed in memory for layer-(b) dedup; the database stays the truth.

Each ingest first calls `sync`, inside the ingest lock (`Transaction.lock_ingest`). It adds
what was committed since the last sync, by this or any other process (ids grow in commit order
because only locked ingests write stories): new stories, and the later reports that joined a
story, so a new article is compared with every report of a story, not only the first (an
outlet that words it differently from the first still meets a closer one). It then refreshes
the last-seen time of stories that gained reports and forgets stories that left the window.
Nothing is added from an uncommitted transaction, so a rollback leaves no phantom behind.

Why not an SQL index of band keys: 64 rows per story in a B-tree cost more than everything
else the pipeline stores (see benchmarks/pipeline.py); in memory a lookup is microseconds.
Memory: about 7 KB per report in the window, measured (5,000 stories in 72 h: ~35 MB).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import cluster
from bot.core.repositories import Transaction


class StoryCache:
    """A process-local `cluster.StoryIndex` of the stories seen within the window."""

    def __init__(self) -> None:
        self.index = cluster.StoryIndex()
        self._max_id = 0
        self._max_member_id = 0

    async def sync(self, tx: Transaction, now: datetime, window: timedelta) -> None:
        """Catch up with the database: new stories, reports that joined one, the window's end.

        Both reads are by id, so each costs what was committed since the last sync, not the
        size of the window. A report that joined a story is also what makes the story "seen
        again" (`StoryIndex.add` keeps the later time), so no scan of last-seen times is needed.
        """
        since = now - window
        new = await tx.stories.signatures_after(self._max_id, since)
        keys = cluster.band_keys_of_many([signature for _, signature, _ in new])
        for (story_id, signature, seen), story_keys in zip(new, keys, strict=True):
            self.index.add(story_id, cluster.Fingerprint(signature, story_keys), seen.timestamp())
            self._max_id = max(self._max_id, story_id)
        members = await tx.articles.member_signatures_after(self._max_member_id, since)
        keys = cluster.band_keys_of_many([signature for _, _, signature, _ in members])
        for (article_id, story_id, signature, seen), member_keys in zip(members, keys, strict=True):
            self.index.add(story_id, cluster.Fingerprint(signature, member_keys), seen.timestamp())
            self._max_member_id = max(self._max_member_id, article_id)
        self.index.remove_older_than(since.timestamp())
