"""Deliver queued alerts from the outbox through platform adapters, with retries and backoff.

A destination is named `<adapter>` or `<adapter>:<channel>` (e.g. `console`, `slack:C0123`);
the part before the colon picks the adapter.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.instances import this_process_id
from bot.core.models import Alert, DeliveryReceipt
from bot.core.polling_policy import failure_backoff
from bot.core.repositories import Database
from bot.core.routing import Route, followed_themes, update_style

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """An adapter could not deliver; `permanent` errors (e.g. channel not found) are not retried."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class DeliveryAdapter(Protocol):
    """What every platform adapter implements to receive alerts."""

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Post (or, for kind "update" with a remote_id, edit and/or reply in the first post's
        thread as `alert.updates` says) one alert; raise DeliveryError."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying a failing delivery."""

    max_attempts: int = 12
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0
    # A claimed alert is retried after this, or as soon as its claimer is known to be gone
    # (bot.core.instances: at once after a restart on the same machine).
    claim_lease: timedelta = timedelta(minutes=5)


@dataclass(slots=True)
class DeliveryReport:
    """Counts from one delivery pass."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    held: int = 0  # waiting for a destination's quiet hours to end
    muted: int = 0  # every theme the destination follows in it is muted there


def adapter_name(destination: str) -> str:
    """`slack:C0123` → `slack`."""
    return destination.split(":", 1)[0]


async def deliver_due(
    store: Database,
    adapters: Mapping[str, DeliveryAdapter],
    now: Callable[[], datetime],
    policy: RetryPolicy = RetryPolicy(),
    *,
    routes: Sequence[Route] = (),
    limit: int = 100,
) -> DeliveryReport:
    """Send every due outbox entry once; each outcome is recorded in its own transaction.

    `routes` bring quiet hours (the alert waits until they end) and mutes (`/nkru mute`: an
    alert whose every followed theme is muted in that channel is not sent).
    """
    report = DeliveryReport()
    async with store.transaction() as tx:
        alerts = await tx.outbox.claim_due(now(), policy.claim_lease, limit, by=this_process_id())
        muted = await tx.mutes.muted_themes({a.destination for a in alerts}, now())
    by_destination: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_destination.setdefault(alert.destination, []).append(alert)

    async def one_destination(queue: list[Alert]) -> None:
        for alert in queue:  # in order: a channel reads its alerts oldest first
            outcome = await deliver_one(store, adapters, alert, now, policy, routes, muted)
            setattr(report, outcome, getattr(report, outcome) + 1)

    # Destinations are independent: a rate-limited or slow channel must not hold up the others.
    await asyncio.gather(*(one_destination(queue) for queue in by_destination.values()))
    return report


async def deliver_one(
    store: Database,
    adapters: Mapping[str, DeliveryAdapter],
    alert: Alert,
    now: Callable[[], datetime],
    policy: RetryPolicy,
    routes: Sequence[Route],
    muted: Mapping[str, set[str]],
) -> str:
    """Hold, skip or send one claimed alert; returns the DeliveryReport field to count it in."""
    if until := _quiet_until(routes, alert.destination, now()):
        async with store.transaction() as tx:
            await tx.outbox.postpone(alert.outbox_id, until)
        return "held"
    if _is_muted(routes, alert, muted.get(alert.destination, set())):
        async with store.transaction() as tx:
            await tx.outbox.mark_muted(alert.outbox_id, now())
        return "muted"
    alert = replace(alert, updates=update_style(routes, alert.destination))
    return await _deliver(store, adapters, alert, now, policy)


def _quiet_until(routes: Sequence[Route], destination: str, now: datetime) -> datetime | None:
    """The end of the destination's quiet hours if they are on now."""
    for route in routes:
        if route.destination == destination and route.quiet and (end := route.quiet.ends_at(now)):
            return end
    return None


def _is_muted(routes: Sequence[Route], alert: Alert, muted: set[str]) -> bool:
    """Muted when the channel follows some of the story's themes and has muted all of those."""
    if not muted:
        return False
    followed = followed_themes(routes, alert.destination, alert.themes)
    return bool(followed) and followed <= muted


async def _deliver(
    store: Database,
    adapters: Mapping[str, DeliveryAdapter],
    alert: Alert,
    now: Callable[[], datetime],
    policy: RetryPolicy,
) -> str:
    adapter = adapters.get(adapter_name(alert.destination))
    try:
        if adapter is None:
            raise DeliveryError(
                f"no adapter for destination {alert.destination!r} — set its token or "
                "remove it from NKRU_DESTINATIONS",
                permanent=True,
            )
        receipt = (
            DeliveryReceipt(alert.remote_id) if alert.superseded else await adapter.send(alert)
        )
    except DeliveryError as exc:
        return await _failed(store, alert, exc, now(), policy)
    except Exception as exc:  # an adapter bug must not stop the worker or lose the alert
        log.exception("adapter %s crashed on alert #%s", alert.destination, alert.outbox_id)
        return await _failed(store, alert, DeliveryError(f"adapter error: {exc!r}"), now(), policy)
    async with store.transaction() as tx:
        await tx.outbox.mark_sent(alert.outbox_id, receipt.remote_id, now())
    return "sent"


async def _failed(
    store: Database, alert: Alert, exc: DeliveryError, now: datetime, policy: RetryPolicy
) -> str:
    async with store.transaction() as tx:
        attempts = await tx.outbox.attempts(alert.outbox_id) + 1
        give_up = exc.permanent or attempts >= policy.max_attempts
        delay = exc.retry_after or failure_backoff(
            attempts, base=policy.backoff_base, cap=policy.backoff_cap, rng=random.Random()
        )
        retry_at = None if give_up else now + timedelta(seconds=delay)
        await tx.outbox.mark_failed(alert.outbox_id, str(exc), retry_at)
    log.log(
        logging.ERROR if give_up else logging.WARNING,
        "delivery of alert #%s to %s failed (attempt %s): %s%s",
        alert.outbox_id,
        alert.destination,
        attempts,
        exc,
        " — giving up" if give_up else f" — retrying in {delay:.0f}s",
    )
    return "dead" if give_up else "retrying"
