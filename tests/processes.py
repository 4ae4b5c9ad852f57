"""Child processes in tests: run one to the end, and never let one outlive its test.

A child still running when its test's event loop closes keeps its pipes and transport alive;
a later test then fails with "Event loop is closed". So on a timeout, a cancellation or any
error, the child is killed and reaped before the error goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    """A child that ran to the end: its exit code and what it wrote."""

    code: int
    out: str
    err: str  # empty when stderr went to `out`


async def run_process(
    *argv: str,
    cwd: Path,
    env: Mapping[str, str],
    seconds: float = 60,
    merge_stderr: bool = False,
) -> Finished:
    """Run `argv` to the end (for at most `seconds`) without blocking the event loop."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
    )
    async with reaped(proc):
        out, err = await asyncio.wait_for(proc.communicate(), seconds)
    assert proc.returncode is not None
    return Finished(proc.returncode, out.decode(), (err or b"").decode())


@contextlib.asynccontextmanager
async def reaped(proc: asyncio.subprocess.Process) -> AsyncIterator[asyncio.subprocess.Process]:
    """The block's child: if the block ends with the child still running (a timeout, a failed
    assertion, a cancellation), it is killed; either way it has exited when the block ends."""
    try:
        yield proc
    finally:
        await stop(proc)


async def stop(proc: asyncio.subprocess.Process) -> None:
    """Kill the child if it still runs, and wait until it has exited."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            proc.kill()
    await proc.wait()
