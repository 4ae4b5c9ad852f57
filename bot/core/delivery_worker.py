"""The delivery worker: sends what the outbox holds as soon as a poll queues it, each destination
at its own pace.

Polls never wait for delivery: a poll that queued alerts calls `wake` and goes on. The worker
claims the due alerts of every destination that is not busy and gives each destination its own
task, which sends its alerts in order (a channel reads them oldest first) at whatever pace its
adapter keeps (Slack: about one message a second per channel). A slow or rate-limited channel
therefore holds up only itself: the others are claimed and sent on the next wake-up, while it
keeps the alerts it claimed (at most `batch`, well within the claim's lease). It also wakes on
its own every `interval`, for retries and alerts queued by other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from bot.core.delivery import DeliveryAdapter, DeliveryReport, RetryPolicy, deliver_one
from bot.core.instances import this_process_id
from bot.core.models import Alert
from bot.core.repositories import Database, DatabaseError
from bot.core.routing import Route

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Claims due alerts and sends them, one task per destination."""

    def __init__(
        self,
        store: Database,
        adapters: Mapping[str, DeliveryAdapter],
        clock: Callable[[], datetime],
        policy: RetryPolicy | None = None,
        *,
        routes: Sequence[Route] = (),
        interval: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.routes = routes
        self.interval = interval
        self.batch = batch
        self.report = DeliveryReport()  # everything this worker did, for logs and tests
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def wake(self) -> None:
        """Something may be due: claim and send it now (never blocks the caller)."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and send whenever woken, and every `interval` seconds, until cancelled."""
        while True:
            self._wake.clear()  # before claiming: a wake-up during the claim is not lost
            try:
                await self.claim_and_send()
            except DatabaseError as exc:
                log.warning("could not claim due alerts (%s); retrying", exc)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the event is set, and the worker would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def claim_and_send(
        self, report: DeliveryReport | None = None
    ) -> list[asyncio.Task[None]]:
        """Claim the due alerts of the idle destinations and start sending them; the tasks."""
        async with self._claiming:  # two claims at once could give one channel two senders
            busy = {name for name, task in self._sending.items() if not task.done()}
            now = self.clock()
            async with self.store.transaction() as tx:
                alerts = await tx.outbox.claim_due(
                    now, self.policy.claim_lease, self.batch, busy, by=this_process_id()
                )
                destinations = {alert.destination for alert in alerts}
                muted = await tx.mutes.muted_themes(destinations, now)
            queues: dict[str, list[Alert]] = {}
            for alert in alerts:
                queues.setdefault(alert.destination, []).append(alert)
            started = []
            for destination, queue in queues.items():
                task = asyncio.create_task(
                    self._send(queue, muted.get(destination, set()), report or self.report),
                    name=f"deliver:{destination}",
                )
                self._sending[destination] = task
                started.append(task)
            return started

    async def deliver_now(self) -> DeliveryReport:
        """One claim, waited for until sent: what `nkru poll --once` and tests need."""
        report = DeliveryReport()
        started = await self.claim_and_send(report)
        if started:
            await asyncio.gather(*started)
        return report

    async def _send(self, queue: list[Alert], muted: set[str], report: DeliveryReport) -> None:
        try:
            await self._send_all(queue, muted, report)
        except DatabaseError as exc:  # the rest stay claimed: retried when their lease ends
            log.warning("delivery to %s stopped: %s", queue[0].destination, exc)
        self.wake()  # this destination may have more waiting, claimed on the next pass

    async def _send_all(self, queue: list[Alert], muted: set[str], report: DeliveryReport) -> None:
        for alert in queue:
            if self._stopping:
                return
            outcome = await deliver_one(
                self.store,
                self.adapters,
                alert,
                self.clock,
                self.policy,
                self.routes,
                {alert.destination: muted},
            )
            setattr(report, outcome, getattr(report, outcome) + 1)
            if report is not self.report:
                setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    async def stop(self, grace: float) -> None:
        """Finish the alert each destination is sending (up to `grace` seconds), send no more,
        and hand back the rest of what this process claimed: due at once, for whichever
        process runs next (a paced channel's backlog must not hold a shutdown)."""
        self._stopping = True
        sending = [task for task in self._sending.values() if not task.done()]
        if sending:
            await asyncio.wait(sending, timeout=grace)
        try:
            async with self.store.transaction() as tx:
                released = await tx.outbox.release_claims([this_process_id()], self.clock())
        except DatabaseError as exc:  # they come back when their lease ends
            log.warning("could not hand back the claimed alerts: %s", exc)
            return
        if released:
            log.info("%d claimed alert(s) left for the next run", released)
