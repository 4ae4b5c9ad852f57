"""Child processes in tests: run one to the end, and never let one outlive its test.

A child still running when its test's event loop closes keeps its pipes and transport alive;
a later test then fails with "Event loop is closed". So on a timeout, a cancellation or any
error, the child is killed and reaped before the error goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.fakes.discord_hosts import child_env
from tests.fakes.slack_api import FakeSlackApi


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


def nkru_env(
    folder: Path,
    routes: list[dict[str, str]],
    slack: FakeSlackApi,
    discord_token: str,
    proxy_url: str,
    more: dict[str, str] | None = None,
) -> dict[str, str]:
    """A child `nkru` process's environment: no NKRU_* of ours, a database and feeds file in
    `folder`, the default watchlist, `routes`, Slack at the fake, Discord through the fake proxy
    (`child_env`), and `more` on top."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("NKRU_")}
    return (
        inherited
        | {
            "NKRU_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'nkru.db'}",
            "NKRU_FEEDS_FILE": str(folder / "feeds.toml"),
            "NKRU_WATCHLISTS": str(REPO_ROOT / "watchlists"),
            "NKRU_ROUTES": json.dumps(routes),
            "NKRU_FLOOD_GUARD": "false",
            "NKRU_PARSE_WORKERS": "0",
            "NKRU_SLACK_BOT_TOKEN": slack.bot_token,
            "NKRU_SLACK_API_URL": slack.api_url,
            "NKRU_DISCORD_TOKEN": discord_token,
            "PYTHONPATH": str(REPO_ROOT),
        }
        | (more or {})
        | child_env(proxy_url, folder)
    )
