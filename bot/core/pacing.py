"""Long loops on the event loop, in slices: yield to other tasks every few milliseconds."""

from __future__ import annotations

import asyncio
import time

# A slice of work between two yields. The bot's aim is no stall over 100 ms (benchmarks/
# pipeline.py part 5 probes it); 10 ms leaves room for a slow machine and a slow item.
SLICE_SECONDS = 0.01


class Pacer:
    """Lets the event loop run whenever `budget` seconds of work have passed since it last did."""

    def __init__(self, budget: float = SLICE_SECONDS) -> None:
        self._budget = budget
        self._resumed = time.perf_counter()

    async def tick(self) -> None:
        """Call between two steps of a long loop: yields once the slice's time is used up."""
        if time.perf_counter() - self._resumed > self._budget:
            await self.pause()

    async def pause(self) -> None:
        """Yield to the event loop now."""
        await asyncio.sleep(0)
        self._resumed = time.perf_counter()
