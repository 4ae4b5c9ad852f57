"""Near-identical titles: ingest time of N near-identical items ÷ N distinct ones, in process.

Both sets go through `bot.core.poll.ingest.ingest` as a poll does (store what is new, cluster
into stories, store watchlist themes, queue alerts for a Slack route), 20 items a transaction
like a feed's new items, each set on a fresh SQLite file opened with `Store.open` (migrated,
WAL, as the bot runs). Fingerprints are computed beforehand, as the parser does off the event
loop, so only the ingest is timed. Every item matches the default watchlist.

*distinct*: the capacity benchmark's new items (a North Korea–Russia sentence padded with
made-up words), each a story of its own. *near-identical*: one headline with a counter and
one word varied ("... (update 17)"), the same summary: what a live blog or a syndicated
story repeated by many feeds looks like. They all join one story, so each is a "later
report" (an update of the alert) rather than a new alert.

The two sets are ingested interleaved, batch by batch, so a busy machine slows both alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import _capacity_items as items
from bot.core import cluster
from bot.core.models import NewArticle
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.records import NewFeed
from bot.core.routing import Route
from bot.core.story_cache import StoryCache
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store

BATCH = 20
ROOT = Path(__file__).resolve().parents[1]
HEADLINE = "North Korean troops deployed to Russia's Kursk region, Seoul's spy agency says"
VARIED = ("officials", "sources", "reports", "analysts", "lawmakers", "diplomats")


@dataclass(slots=True)
class SetResult:
    """What ingesting one set did and how long it took."""

    seconds: float = 0.0
    new_stories: int = 0
    joined: int = 0
    alerts: int = 0


@dataclass(slots=True)
class NearResult:
    """Both sets."""

    count: int
    distinct: SetResult = field(default_factory=SetResult)
    near: SetResult = field(default_factory=SetResult)

    @property
    def ratio(self) -> float:
        """Near-identical time ÷ distinct time."""
        return self.near.seconds / self.distinct.seconds if self.distinct.seconds else 0.0


def distinct_texts(count: int) -> list[tuple[str, str]]:
    """`count` distinct matching items."""
    return [items.text_of(i // BATCH, 1 + i % BATCH, matching=True) for i in range(count)]


def near_texts(count: int) -> list[tuple[str, str]]:
    """`count` near-identical matching items."""
    summary = (
        "South Korea's intelligence service says thousands of North Korean soldiers have been "
        "sent to fight for Russia in the Kursk region, according to lawmakers briefed on it."
    )
    return [
        (f"{HEADLINE}, {VARIED[i % len(VARIED)]} say (update {i})", summary) for i in range(count)
    ]


def articles(texts: list[tuple[str, str]], feed_id: int, tag: str) -> list[NewArticle]:
    """The items as the parser hands them to ingest, fingerprints included."""
    now = datetime.now(UTC)
    made = []
    for i, (title, summary) in enumerate(texts):
        fp = cluster.fingerprint(title, summary)
        made.append(
            NewArticle(
                feed_id=feed_id,
                item_key=f"{tag}:{i}",
                guid=None,
                url=f"https://{tag}.example/{i}",
                title=title,
                summary=summary,
                published_at=now,
                fetched_at=now,
                content_hash=f"{tag}:{i}",
                source_name=tag,
                signature=fp.signature,
                band_keys=fp.band_keys,
            )
        )
    return made


async def _open(path: Path, tag: str) -> tuple[Store, int]:
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    async with store.transaction() as tx:
        [feed] = await tx.feeds.add_missing(
            [NewFeed(f"https://{tag}.example/feed", tag, 600, "seed")], datetime.now(UTC)
        )
    return store, feed.id


async def run_near_identical(count: int, folder: Path) -> NearResult:
    """Ingest `count` distinct and `count` near-identical items; time each set."""
    matcher = WatchlistMatcher.load(ROOT / "watchlists")
    policy = AlertPolicy(destinations=(), routes=(Route("slack:C0CAPACITY"),))
    result = NearResult(count)
    opened = [await _open(folder / f"{tag}.db", tag) for tag in ("distinct", "near")]
    try:
        sets = [
            (opened[0][0], articles(distinct_texts(count), opened[0][1], "distinct"), StoryCache()),
            (opened[1][0], articles(near_texts(count), opened[1][1], "near"), StoryCache()),
        ]
        outcomes = (result.distinct, result.near)
        for start in range(0, count, BATCH):
            for (store, made, cache), outcome in zip(sets, outcomes, strict=True):
                batch = made[start : start + BATCH]
                began = time.perf_counter()
                async with store.transaction() as tx:
                    report = await ingest(
                        tx, batch, datetime.now(UTC), policy, cache=cache, matcher=matcher
                    )
                outcome.seconds += time.perf_counter() - began
                outcome.new_stories += report.new_stories
                outcome.joined += report.joined_stories
                outcome.alerts += report.queued_alerts
    finally:
        for store, _ in opened:
            await store.close()
    return result
