"""How late the event loop runs: a timer that should fire every `period` and notes how late it
fires, for `/healthz` and the log.

Everything the bot answers (chat commands, Slack's 3 s limit, `/healthz`, the web panel) waits
while the event loop is busy with something else or the process waits for a core or the GIL,
so the timer's lateness is the stall those answers see. It is the loop-lag probe of
benchmarks/capacity.py and what an operator reads in `/healthz` (`loop`); a stall of
`WARN_AFTER` or more is also logged (at most one line a minute, with how many more there
were).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

log = logging.getLogger(__name__)

PERIOD = 0.02  # 50 wake-ups a second: a few microseconds of CPU each
NOTED_FROM = 0.05  # stalls this long or longer are kept (the last `KEPT`), with their time
KEPT = 20
WARN_AFTER = 0.5  # a sixth of Slack's 3 s to answer a command
WARN_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class Stall:
    """The loop ran `seconds` late; it caught up at `at` (UTC)."""

    at: datetime
    seconds: float


@dataclass(slots=True)
class LoopWatch:
    """The largest stall since the watch started, and the recent ones of `NOTED_FROM` or more."""

    period: float = PERIOD
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monotonic: Callable[[], float] = time.monotonic  # paces the warnings
    started_at: datetime | None = None
    largest: Stall | None = None
    recent: deque[Stall] = field(default_factory=lambda: deque(maxlen=KEPT))
    _unlogged: int = 0
    _logged_at: float = float("-inf")

    def note(self, seconds: float) -> None:
        """Record one tick that came `seconds` late."""
        seconds = max(seconds, 0.0)
        largest = self.largest is None or seconds > self.largest.seconds
        if not largest and seconds < NOTED_FROM:
            return  # most ticks: on time, and no clock read
        stall = Stall(self.clock(), seconds)
        if largest:
            self.largest = stall
        if seconds >= NOTED_FROM:
            self.recent.append(stall)
            if seconds >= WARN_AFTER:
                self._warn(seconds)

    def _warn(self, seconds: float) -> None:
        now = self.monotonic()
        if now - self._logged_at < WARN_EVERY:
            self._unlogged += 1
            return
        more = f" ({self._unlogged} more since the last warning)" if self._unlogged else ""
        log.warning(
            "the event loop stalled %.0f ms%s: chat commands and /healthz waited that long; "
            "a machine short of CPU, or a step that holds the loop (the log lines around this "
            "one say what ran)",
            seconds * 1000,
            more,
        )
        self._logged_at, self._unlogged = now, 0

    def report(self) -> dict[str, object]:
        """What `/healthz` shows under "loop"."""
        largest = self.largest
        return {
            "since": self.started_at.isoformat() if self.started_at else None,
            "largest_stall_ms": round(largest.seconds * 1000, 1) if largest else None,
            "largest_stall_at": largest.at.isoformat() if largest else None,
            "recent_stalls": [
                {"at": stall.at.isoformat(), "ms": round(stall.seconds * 1000, 1)}
                for stall in self.recent
            ],
        }

    async def run(self) -> None:
        """Tick every `period` until cancelled, noting how late each tick comes."""
        loop = asyncio.get_running_loop()
        self.started_at = self.clock()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.period)
            self.note(loop.time() - asked - self.period)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LoopWatch]:
        """Watch the loop for the duration of the block."""
        task = asyncio.create_task(self.run(), name="nkru-loop-watch")
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
