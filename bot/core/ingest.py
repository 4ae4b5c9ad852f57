"""Store new articles, cluster them into stories and queue their alerts — in one transaction.

Doing all three in the caller's transaction is what makes a crash harmless: either the
articles, their stories and their outbox entries are all stored, or none is and the next poll
sees the items as new again. Nothing is alerted that is not first stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import cluster
from bot.core.models import Article, NewArticle
from storage import articles as article_repo
from storage import outbox as outbox_repo
from storage import stories as story_repo
from storage.locks import lock_ingest


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Who gets alerts and which new items deserve one."""

    destinations: Sequence[str] = ("console",)
    story_window: timedelta = timedelta(hours=72)
    alert_max_age: timedelta | None = timedelta(days=7)  # older items are stored silently


@dataclass(slots=True)
class IngestReport:
    """What one ingest stored and queued."""

    new_articles: list[Article] = field(default_factory=list)
    new_stories: int = 0
    joined_stories: int = 0
    queued_alerts: int = 0


async def ingest(
    conn: AsyncConnection,
    candidates: list[NewArticle],
    now: datetime,
    policy: AlertPolicy,
    *,
    alert: bool = True,
) -> IngestReport:
    """Insert what is new, put each new article in a story, queue alerts (unless `alert` is off)."""
    await lock_ingest(conn)
    report = IngestReport(new_articles=await article_repo.insert_new(conn, candidates))
    placed = await _cluster(conn, report.new_articles, now, policy.story_window)
    alerted = await _alerted_stories(conn, placed, policy.destinations) if alert else {}
    entries: list[outbox_repo.OutboxEntry] = []
    for article, (story_id, joined) in zip(report.new_articles, placed, strict=True):
        if joined:
            report.joined_stories += 1
        else:
            report.new_stories += 1
        if alert and _fresh(article, now, policy.alert_max_age):
            entries += _alerts_for(article, story_id, joined, policy.destinations, alerted)
    report.queued_alerts = await outbox_repo.enqueue(conn, entries, now)
    return report


async def _cluster(
    conn: AsyncConnection, articles: list[Article], now: datetime, window: timedelta
) -> list[tuple[int, bool]]:
    """Layer-(b) dedup, article by article: join the best near-duplicate story in the window
    (stored, or started by an earlier article of this batch), else start one.

    Returns (story id, joined) per article. One query fetches the stored candidates of the
    whole batch and the writes go out in bulk afterwards, instead of four round trips per
    article. The decisions are those of a query per article: within the transaction nothing
    else changes the stories, stories started here are matched in memory, an attached story
    stays in the window, and candidates are offered in story-id order (as the per-article
    query returns them; ties go to the earliest candidate).
    """
    fingerprints = [cluster.fingerprint(a.title, a.summary) for a in articles]
    stored = await story_repo.band_candidates(
        conn, [key for fp in fingerprints for key in fp.band_keys], now - window
    )
    # A story is (0, stored id) or (1, index into `started`): that order is story-id order.
    by_key: dict[int, set[tuple[int, int]]] = {}
    signatures: dict[tuple[int, int], bytes] = {}
    for key, story_id, signature in stored:
        by_key.setdefault(key, set()).add((0, story_id))
        signatures[(0, story_id)] = signature
    started: list[story_repo.NewStory] = []
    chosen: list[tuple[tuple[int, int], bool]] = []
    for article, fp in zip(articles, fingerprints, strict=True):
        found = sorted({story for key in fp.band_keys for story in by_key.get(key, ())})
        match = cluster.best_match(fp, [(i, signatures[s]) for i, s in enumerate(found)])
        if match is not None:
            chosen.append((found[match], True))
            continue
        story = (1, len(started))
        started.append(story_repo.NewStory(article.title, article.id, fp.signature, fp.band_keys))
        signatures[story] = fp.signature
        for key in fp.band_keys:
            by_key.setdefault(key, set()).add(story)
        chosen.append((story, False))
    new_ids = await story_repo.create_many(conn, started, now)
    placed = [(new_ids[n] if kind else n, joined) for (kind, n), joined in chosen]
    await story_repo.attach_many(conn, [story_id for story_id, joined in placed if joined], now)
    await article_repo.set_stories(
        conn, [(a.id, story_id) for a, (story_id, _) in zip(articles, placed, strict=True)]
    )
    return placed


async def _alerted_stories(
    conn: AsyncConnection, placed: list[tuple[int, bool]], destinations: Sequence[str]
) -> dict[str, set[int]]:
    """Per destination, the joined stories already queued as a "new" alert before this batch."""
    joined = [story_id for story_id, was_joined in placed if was_joined]
    if not joined:
        return {}
    return {
        destination: await outbox_repo.stories_with_new_alert(conn, joined, destination)
        for destination in destinations
    }


def _alerts_for(
    article: Article,
    story_id: int,
    joined: bool,
    destinations: Sequence[str],
    alerted: dict[str, set[int]],
) -> list[outbox_repo.OutboxEntry]:
    """A new story is a new alert; a later report of an alerted story is an update of it."""
    entries = []
    for destination in destinations:
        if not joined:
            entries.append(outbox_repo.OutboxEntry(destination, "new", story_id, article.id))
        elif story_id in alerted.get(destination, ()):
            entries.append(outbox_repo.OutboxEntry(destination, "update", story_id, article.id))
    return entries


def _fresh(article: Article, now: datetime, max_age: timedelta | None) -> bool:
    return max_age is None or article.published_at >= now - max_age
