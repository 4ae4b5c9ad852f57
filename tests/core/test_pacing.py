"""Pacer: a long loop lets other tasks run once its slice of time is used up."""

from __future__ import annotations

import asyncio

from bot.core.pacing import Pacer


async def _turns_of_another_task(pacer: Pacer, steps: int) -> int:
    """How often another task ran while a loop of `steps` ticked `pacer`."""
    turns = 0
    done = False

    async def other() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(other())
    await asyncio.sleep(0)
    turns = 0
    for _ in range(steps):
        await pacer.tick()
    done = True
    await running
    return turns


async def test_a_used_up_slice_yields_at_every_tick() -> None:
    assert await _turns_of_another_task(Pacer(budget=0.0), 50) >= 50


async def test_within_its_slice_a_loop_is_not_interrupted() -> None:
    assert await _turns_of_another_task(Pacer(budget=3600.0), 50) <= 1
