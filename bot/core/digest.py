"""Digests: a route's stories of a period, grouped by theme, best first, capped (platform-neutral).

A story appears once, under the best-scoring theme its route follows. Within a theme stories
rank by score, then number of outlets, then recency; themes rank by their best story. Past
`per_theme` stories a theme says "and N more", past `limit` stories in all the digest does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.dates import digest_floor
from bot.core.models import DeliveryReceipt, ThemeHit
from bot.core.records import StoryView
from bot.core.repositories import Database
from bot.core.routing import Route

log = logging.getLogger(__name__)
DIGEST_LIMIT = 20
PER_THEME = 5
UNMATCHED = "other"  # the section of a firehose route's stories that match no theme


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story in a digest, with the hit that put it in its section."""

    view: StoryView
    hit: ThemeHit | None  # None in the "other" section


@dataclass(frozen=True, slots=True)
class DigestSection:
    """The stories of one theme, best first, and how many more there were."""

    theme: str
    items: list[DigestItem]
    more: int = 0


@dataclass(frozen=True, slots=True)
class Digest:
    """A route's digest for the period since `since`."""

    destination: str
    since: datetime
    sections: list[DigestSection] = field(default_factory=list)
    more: int = 0  # stories left out past the digest's limit

    @property
    def story_count(self) -> int:
        """Stories shown."""
        return sum(len(section.items) for section in self.sections)


@runtime_checkable
class DigestAdapter(Protocol):
    """Adapters that can post a digest."""

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Post one digest."""
        ...


async def build_digest(
    store: Database,
    route: Route,
    since: datetime,
    *,
    now: datetime | None = None,
    limit: int = DIGEST_LIMIT,
    per_theme: int = PER_THEME,
) -> Digest:
    """Compose the digest of `route` for the reports first seen since `since` and published
    from one period before it (bot.core.dates.digest_floor; from `since` without `now`)."""
    floor = digest_floor(since, now) if now is not None else since
    async with store.transaction() as tx:
        matched = await tx.themes.matched_stories_since(since, published_from=floor)
        hits = await tx.themes.of_stories(matched)
        unmatched = (
            await tx.stories.ids_seen_since(since, published_from=floor)
            if route.themes is None
            else []
        )
        # Every story is headed by its one representative report, as in alerts and `latest`;
        # the route's best hit only decides its section and the "why" shown.
        best = {sid: hit for sid, found in hits.items() if (hit := _best(route, found))}
        wanted = sorted(best) + sorted(sid for sid in unmatched if sid not in hits)
        views = {view.story.id: view for view in await tx.stories.views(wanted)}
    grouped: dict[str, list[DigestItem]] = {}
    for story_id, view in views.items():
        hit = best.get(story_id)
        grouped.setdefault(hit.theme if hit else UNMATCHED, []).append(DigestItem(view, hit))
    for items in grouped.values():
        items.sort(key=_rank)
    ordered = sorted(grouped.items(), key=lambda pair: _rank(pair[1][0]))
    sections, shown, more = [], 0, 0
    for theme, items in ordered:
        room = max(0, min(per_theme, limit - shown))
        if room:
            sections.append(DigestSection(theme, items[:room], more=max(0, len(items) - room)))
        else:
            more += len(items)
        shown += min(room, len(items))
    return Digest(route.destination, since, sections, more=more)


def _best(route: Route, hits: list[ThemeHit]) -> ThemeHit | None:
    """The route's best hit among a story's (hits come best first)."""
    return next((h for h in hits if route.follows(h.theme) and h.score >= route.min_score), None)


def _rank(item: DigestItem) -> tuple[float, int, float, int]:
    score = item.hit.score if item.hit else 0.0
    story = item.view.story
    return (-score, -len(item.view.outlets), -story.last_seen_at.timestamp(), story.id)


async def send_digest(
    store: Database,
    adapters: Mapping[str, object],
    route: Route,
    since: datetime,
    *,
    now: datetime | None = None,
) -> Digest:
    """Build and post the digest to its destination's adapter."""
    digest = await build_digest(store, route, since, now=now)
    adapter = adapters.get(route.destination.split(":", 1)[0])
    if not isinstance(adapter, DigestAdapter):
        log.error(
            "digest for %s: no adapter posts digests there — check NKRU_ROUTES", route.destination
        )
        return digest
    await adapter.send_digest(digest)
    return digest
