"""Layer-(b) dedup inside an ingest: put each new article in a story, in slices that yield.

Each article joins the most similar story in the window (stored, or started by an earlier
article of the same ingest) when it is similar enough, else starts a story. Stored stories
come from the process's `StoryCache`, synced with the database first under the ingest lock;
stories started in this ingest are matched from a small `BatchIndex` and written in bulk at
the end. Candidates are offered stored-first, in story-id order, so ties go to the oldest.

Work per article is bounded (`bot.core.story_index`: a story keeps 16 reports to compare
with, a band key leads to its newest 4 rows, at most 16 reports are compared), the same
caps hold in the `BatchIndex`, and the event loop runs between slices of `SLICE` articles
and every 10 ms within one (`bot.core.pacing`): 10,000 copies of one headline do not hold it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bot.core import cluster, minhash
from bot.core.models import Article, NewArticle
from bot.core.pacing import Pacer
from bot.core.records import NewStory
from bot.core.repositories import Transaction
from bot.core.story_cache import StoryCache
from bot.core.story_index import CANDIDATE_CAP, KEY_CAP, MEMBER_CAP

# Articles matched against the stored stories at once (one vectorised lookup); the event loop
# runs after each slice, and whenever a Pacer's 10 ms have passed within one.
SLICE = 64
_MATCH = cluster.THRESHOLD * cluster.NUM_PERM  # equal positions needed to join a story


class BatchIndex:
    """The reports placed by this ingest so far: band key -> rows, for the next articles."""

    def __init__(self) -> None:
        # A band key's rows (its newest KEY_CAP): a bare int for one, else a tuple. No lists:
        # 10,000 articles would make 640,000 of them for the garbage collector to walk.
        self._bands: dict[int, int | tuple[int, ...]] = {}
        self._rows: list[tuple[int, bytes]] = []  # (story id, signature)
        self._reports: dict[int, int] = {}  # story id -> rows kept (at most MEMBER_CAP)
        self.examined = 0  # signatures handed out to compare

    def add(self, story_id: int, fp: cluster.Fingerprint) -> None:
        """Keep `fp` as a report of `story_id` (unless the story has MEMBER_CAP already)."""
        kept = self._reports.get(story_id, 0)
        if not fp.band_keys or kept >= MEMBER_CAP:
            return
        self._reports[story_id] = kept + 1
        row = len(self._rows)
        self._rows.append((story_id, fp.signature))
        bands = self._bands
        for key in fp.band_keys:
            held = bands.setdefault(key, row)
            if held != row:
                rows = (held,) if isinstance(held, int) else held
                bands[key] = (*rows[1 - KEY_CAP :], row)

    def candidates(self, fp: cluster.Fingerprint) -> list[tuple[int, bytes]]:
        """(story id, signature) of the kept reports sharing a band key with `fp`, at most
        CANDIDATE_CAP: those sharing the most bands, then the newest."""
        # Most keys miss: intersect at C speed, then walk the few hits.
        hits = self._bands.keys() & fp.band_keys
        if not hits:
            return []
        shared: Counter[int] = Counter()
        for key in hits:
            held = self._bands[key]
            if isinstance(held, int):
                shared[held] += 1
            else:
                shared.update(held)
        rows = sorted(shared)
        if len(rows) > CANDIDATE_CAP:
            ranked = sorted(shared.items(), key=lambda found: (found[1], found[0]), reverse=True)
            rows = sorted(row for row, _ in ranked[:CANDIDATE_CAP])
        self.examined += len(rows)
        return [self._rows[row] for row in rows]


async def fingerprints(stored: list[Article], given: list[NewArticle]) -> list[cluster.Fingerprint]:
    """Fingerprints computed with the parse (off the event loop), else computed now, in slices."""
    computed = {a.item_key: a for a in given if a.signature is not None}
    prints = []
    pacer = Pacer()
    for article in stored:
        new = computed.get(article.item_key)
        if new is not None and new.signature is not None:
            prints.append(cluster.Fingerprint(new.signature, new.band_keys))
        else:
            prints.append(cluster.fingerprint(article.title, article.summary))
        await pacer.tick()
    return prints


async def place(
    tx: Transaction,
    articles: list[Article],
    prints: list[cluster.Fingerprint],
    now: datetime,
    cache: StoryCache,
    window: timedelta,
) -> list[tuple[int, bool]]:
    """Put each article in a story, stored or new; (story id, joined an existing one) each."""
    if not articles:
        return []
    async with cache.lock:
        await cache.sync(tx, now, window, own_from=min(article.id for article in articles))
        chosen, started = await choose(articles, prints, cache)
    new_ids = await tx.stories.create_many(started, now)
    placed = [(new_ids[-sid - 1] if sid < 0 else sid, joined) for sid, joined in chosen]
    await tx.stories.attach_many([story_id for story_id, joined in placed if joined], now)
    await tx.articles.set_stories(
        [
            (article.id, story_id, fp.signature if joined and fp.band_keys else None)
            for article, fp, (story_id, joined) in zip(articles, prints, placed, strict=True)
        ],
        unthemed=True,  # an ingest stores its articles' themes after placing them
    )
    return placed


async def choose(
    articles: list[Article], prints: list[cluster.Fingerprint], cache: StoryCache
) -> tuple[list[tuple[int, bool]], list[NewStory]]:
    """(story, joined) per article, stories started here keyed -1, -2, …; and those stories."""
    batch = BatchIndex()
    started: list[NewStory] = []
    chosen: list[tuple[int, bool]] = []
    pacer = Pacer()
    for start in range(0, len(articles), SLICE):
        some, part = articles[start : start + SLICE], prints[start : start + SLICE]
        stored = cache.index.best_matches(part)
        for article, fp, (story, equal) in zip(some, part, stored, strict=True):
            await pacer.tick()
            found = sorted(batch.candidates(fp), reverse=True)
            here, here_equal = minhash.best_candidate(fp, found) if found else (0, -1)
            if here_equal > equal:  # a tie goes to the stored (older) story
                story, equal = here, here_equal
            if equal >= _MATCH:
                chosen.append((story, True))
                batch.add(story, fp)  # later articles of this batch may match this report
                continue
            started.append(NewStory(article.title, article.id, fp.signature))
            batch.add(-len(started), fp)
            chosen.append((-len(started), False))
        await pacer.pause()  # at least once a slice
    cache.count_batch(batch.examined)
    return chosen, started
