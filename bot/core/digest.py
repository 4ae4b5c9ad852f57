"""Digests: the stories of a period, newest first, capped in length (platform-neutral)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.models import DeliveryReceipt
from storage import stories as story_repo
from storage.engine import Store
from storage.stories import StoryView

log = logging.getLogger(__name__)
DIGEST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Digest:
    """Stories first seen since `since`, at most DIGEST_LIMIT, plus how many were left out."""

    destination: str
    since: datetime
    stories: list[StoryView] = field(default_factory=list)
    more: int = 0


@runtime_checkable
class DigestAdapter(Protocol):
    """Adapters that can post a digest."""

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Post one digest."""
        ...


async def build_digest(store: Store, destination: str, since: datetime) -> Digest:
    """Compose the digest of stories first seen since `since`."""
    async with store.transaction() as conn:
        views = await story_repo.latest(conn, DIGEST_LIMIT, since=since)
        total = await story_repo.count_seen_since(conn, since)
    shown = views[:DIGEST_LIMIT]
    return Digest(destination, since, shown, more=max(0, total - len(shown)))


async def send_digest(
    store: Store, adapters: Mapping[str, object], destination: str, since: datetime
) -> Digest:
    """Build and post the digest to its destination's adapter."""
    digest = await build_digest(store, destination, since)
    adapter = adapters.get(destination.split(":", 1)[0])
    if not isinstance(adapter, DigestAdapter):
        log.error("digest for %s: no adapter posts digests there — check NKRU_DIGESTS", destination)
        return digest
    await adapter.send_digest(digest)
    return digest
