"""Two `nkru run` on one PostgreSQL database with a Discord bot token: one gateway session at a
time (each `/nkru` answered once), and the other process connects when the holder is killed.

Both processes are the real command in child processes, reaching a fake Discord (REST and
gateway) at Discord's real names through NKRU_DISCORD_PROXY (see tests/test_run_serves_both.py).
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.chat_gateway import LEASE_RETRY
from tests.adapters.discord.payloads import CHANNEL, guild_create, slash_command
from tests.fakes.connect_proxy import FakeProxy
from tests.fakes.discord_api import TOKEN, FakeDiscord
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_hosts import API_HOST, GATEWAY_HOST
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until
from tests.processes import nkru_env, reaped

pytestmark = pytest.mark.postgres


class Child:
    """A running `nkru run` and the lines it has printed so far."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := (await self.proc.stdout.readline()).decode():
            self.lines.append(line)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)


async def test_one_process_holds_the_discord_gateway_and_another_takes_over_when_it_dies(
    pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "feeds.toml").write_text("", encoding="utf-8")
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(FakeSlackApi())
        discord_api = await stack.enter_async_context(FakeDiscord())
        gateway = await stack.enter_async_context(FakeGateway(guilds=[guild_create()]))
        hosts = {API_HOST: discord_api.port, GATEWAY_HOST: gateway.port}
        proxy = await stack.enter_async_context(FakeProxy(hosts))
        routes = [{"destination": f"discord:{CHANNEL}"}]
        more = {"NKRU_DATABASE_URL": pg_url, "NKRU_HTTP_PORT": "0", "COLUMNS": "400"}
        env = nkru_env(tmp_path, routes, slack, TOKEN, proxy.url, more)

        async def start() -> Child:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            await stack.enter_async_context(reaped(proc))
            child = Child(proc)
            await wait_until(lambda: child.said("/healthz"))
            return child

        first = await start()
        await gateway.wait_identified()
        second = await start()
        payload, state = slash_command(discord_api, "themes")
        await gateway.dispatch("INTERACTION_CREATE", payload)
        await wait_until(lambda: bool(state.shown))
        # The second process tries the lease a few times while the first holds the gateway
        # (time enough for a second session, or a second answer, to show).
        await asyncio.sleep(3 * LEASE_RETRY)
        assert len(gateway.identified) == gateway.connected == 1
        assert len(discord_api.calls("POST", "/interactions/*/*/callback")) == 1
        assert first.said("Discord gateway: this process holds it now")
        assert not second.said("Discord gateway: this process holds it now")

        first.proc.kill()  # SIGKILL: its session ends with it, and the lease
        await first.proc.wait()
        killed_at = time.monotonic()
        await wait_until(lambda: len(gateway.identified) == 2, seconds=30)
        print(f"gateway taken over {time.monotonic() - killed_at:.1f}s after the kill")
        assert second.said("Discord gateway: this process holds it now")

        payload, state = slash_command(discord_api, "themes")
        await gateway.dispatch("INTERACTION_CREATE", payload)
        await wait_until(lambda: bool(state.shown))
        assert "Tumen" in str(state.shown)
        assert len(discord_api.calls("POST", "/interactions/*/*/callback")) == 2
