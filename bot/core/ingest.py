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
    report = IngestReport(new_articles=await article_repo.insert_new(conn, candidates))
    entries: list[outbox_repo.OutboxEntry] = []
    for article in report.new_articles:
        story_id, joined = await _cluster(conn, article, now, policy.story_window)
        if joined:
            report.joined_stories += 1
        else:
            report.new_stories += 1
        if alert and _fresh(article, now, policy.alert_max_age):
            entries += await _alerts_for(conn, article, story_id, joined, policy.destinations)
    report.queued_alerts = await outbox_repo.enqueue(conn, entries, now)
    return report


async def _cluster(
    conn: AsyncConnection, article: Article, now: datetime, window: timedelta
) -> tuple[int, bool]:
    """Layer-(b) dedup: join the best near-duplicate story in the window, else start one."""
    fingerprint = cluster.fingerprint(article.title, article.summary)
    keys = list(fingerprint.band_keys)
    match = cluster.best_match(fingerprint, await story_repo.candidates(conn, keys, now - window))
    if match is not None:
        await story_repo.attach(conn, match, now)
        await article_repo.set_story(conn, article.id, match)
        return match, True
    story_id = await story_repo.create(
        conn,
        title=article.title,
        lead_article_id=article.id,
        seen_at=now,
        signature=fingerprint.signature,
        band_keys=keys,
    )
    await article_repo.set_story(conn, article.id, story_id)
    return story_id, False


async def _alerts_for(
    conn: AsyncConnection,
    article: Article,
    story_id: int,
    joined: bool,
    destinations: Sequence[str],
) -> list[outbox_repo.OutboxEntry]:
    """A new story is a new alert; a later report of an alerted story is an update of it."""
    entries = []
    for destination in destinations:
        if not joined:
            entries.append(outbox_repo.OutboxEntry(destination, "new", story_id, article.id))
        elif await outbox_repo.has_new_alert(conn, story_id, destination):
            entries.append(outbox_repo.OutboxEntry(destination, "update", story_id, article.id))
    return entries


def _fresh(article: Article, now: datetime, max_age: timedelta | None) -> bool:
    return max_age is None or article.published_at >= now - max_age
