"""Waiting for what another process did to a fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(predicate: Callable[[], object], seconds: float = 60) -> None:
    """Poll the fakes' records until `predicate()` holds (they fill from another process)."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on but the records
            await asyncio.sleep(0.05)
