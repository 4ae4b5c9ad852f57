"""`LiveRoutes`: the routes a running bot uses — the config file's, then the stored subscriptions.

It is a `Sequence[Route]` handed (as one object) to ingest, the delivery worker and the command
service, so when `refresh` swaps its contents they all route by the new union at once, with no
rewiring. `refresh` is the cheap check run on schedule (like the watchlist check): one
`max(id)` query, and the subscriptions are read again only when it moved — an edit from chat in
this process or in any other process sharing the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import overload

from bot.core.repositories import Database
from bot.core.routing import Route
from bot.core.subscriptions.model import StoredSubscription

log = logging.getLogger(__name__)
Digests = list[tuple[Route, str]]  # digest routes with their crontab line
OnDigests = Callable[[Digests], None]


class LiveRoutes(Sequence[Route]):
    """The configured routes followed by the stored subscriptions' routes, kept current."""

    def __init__(self, store: Database, configured: Sequence[Route]) -> None:
        self.store = store
        self.configured = tuple(configured)
        self.subscriptions: tuple[StoredSubscription, ...] = ()
        self.version: int | None = None  # the newest subscription change adopted
        self._routes: tuple[Route, ...] = self.configured
        self._digests: Digests = []
        self._listeners: list[OnDigests] = []
        self._refreshing = asyncio.Lock()
        self._reported: set[int] = set()  # versions whose spec could not be used, logged once

    @overload
    def __getitem__(self, index: int) -> Route: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Route]: ...
    def __getitem__(self, index: int | slice) -> Route | Sequence[Route]:
        return self._routes[index]

    def __len__(self) -> int:
        return len(self._routes)

    @property
    def digests(self) -> Digests:
        """The stored digest subscriptions, with their crontab lines."""
        return list(self._digests)

    def on_digests(self, apply: OnDigests) -> None:
        """Call `apply` with the digest subscriptions now and whenever they change."""
        self._listeners.append(apply)
        apply(self.digests)

    async def refresh(self) -> bool:
        """Adopt the stored subscriptions if any changed since the last look; True if so."""
        async with self._refreshing:
            async with self.store.transaction() as tx:
                latest = await tx.subscriptions.latest_id()
                if latest == self.version:
                    return False
                stored = await tx.subscriptions.in_force()
            self._adopt(latest, stored)
            return True

    def _adopt(self, version: int | None, stored: list[StoredSubscription]) -> None:
        routes: list[Route] = []
        digests: Digests = []
        for subscription in stored:
            if subscription.spec is None:
                continue
            try:
                route = subscription.spec.route(subscription.destination)
            except ValueError as exc:  # e.g. a time zone this machine's tzdata no longer has
                if subscription.id not in self._reported:
                    self._reported.add(subscription.id)
                    log.error("subscription of %s not routed: %s", subscription.destination, exc)
                continue
            routes.append(route)
            if subscription.spec.mode == "digest" and subscription.spec.cron:
                digests.append((route, subscription.spec.cron))
        self.subscriptions = tuple(stored)
        self._routes = (*self.configured, *routes)
        self.version = version
        before, self._digests = self._digests, digests
        log.info(
            "routing by %d configured route(s) and %d subscription(s)",
            len(self.configured),
            len(routes),
        )
        if digests != before:
            for apply in self._listeners:
                apply(self.digests)
