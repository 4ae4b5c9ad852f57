"""Stay within Slack's rate limits: pace posts per channel, retry one short 429 in place.

Slack allows about one message per second per channel (chat.postMessage, "special" tier), so
`ChannelPacer` spaces calls to the same channel by `interval` on the monotonic clock. A 429 whose
`Retry-After` is short is retried once by slack_sdk's own retry mechanism; a longer one is left
to the outbox, which reschedules the alert without holding up the delivery worker.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class ChannelPacer:
    """At most one call per `interval` seconds per channel; channels do not wait for each other."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Wait for the channel's next slot, then hold it while the call runs."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            delay = self._next.get(channel, 0.0) - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                yield
            finally:
                # Counted from the end of the call: Slack measures from when it posted.
                self._next[channel] = self._clock() + self.interval


def retry_after_seconds(response: HttpResponse) -> float | None:
    """The `Retry-After` of a response in seconds, if it has a usable one."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return float(values[0])
            except ValueError:
                return None
    return None


class ShortRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 once, in place, only when Slack asks to wait at most `max_wait` seconds."""

    def __init__(self, max_wait: float = 2.0) -> None:
        super().__init__(max_retry_count=1)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after_seconds(response)
        return wait is not None and wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Sleep what Slack asked (plus a little jitter), then let slack_sdk send again."""
        wait = retry_after_seconds(response) if response is not None else None
        state.next_attempt_requested = True
        await asyncio.sleep((wait or 1.0) + random.uniform(0, 0.25))
        state.increment_current_attempt()


def retry_handlers(max_wait: float = 2.0) -> list[AsyncRetryHandler]:
    """The retry handlers for our Web API client.

    Only rate limits are retried in place: a 429 means Slack did nothing. Connection errors
    and 5xx are not, since a post may have gone through; the outbox retries those with its
    redelivery check, which finds a message that did get posted.
    """
    return [ShortRateLimitRetry(max_wait)]
