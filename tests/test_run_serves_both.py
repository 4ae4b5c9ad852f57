"""`nkru run` with Slack and Discord tokens set serves both platforms from one process.

The real command runs in a child process, configured only through NKRU_* variables: Slack in
HTTP mode (signed slash commands on /slack/events), Discord over its gateway (a fake gateway
delivers a real INTERACTION_CREATE), alerts from a loopback feed to both, /healthz, and a clean
exit on SIGTERM. Discord is reached as in production, at discord.com and gateway.discord.gg over
TLS, through NKRU_DISCORD_PROXY: a fake proxy tunnels those names to the fakes.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.adapters.discord.payloads import CHANNEL as DISCORD_CHANNEL
from tests.adapters.discord.payloads import guild_create, slash_command
from tests.adapters.slack.test_app import command_form, signed
from tests.fakes.connect_proxy import FakeProxy
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_hosts import API_HOST, GATEWAY_HOST
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until
from tests.processes import nkru_env, reaped
from tests.test_chat_end_to_end import SLACK_CHANNEL, SUMMARY, TITLE, rss

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


Running = tuple[asyncio.subprocess.Process, int, FakeSlackApi, FakeDiscord, FakeGateway, FakeProxy]


@pytest.fixture
async def bot_process(server: FeedServer, tmp_path: Path) -> AsyncIterator[Running]:
    server.add_feed("/wire.xml", rss("Wire", ("w-1", TITLE, SUMMARY)))
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n', encoding="utf-8"
    )
    routes = [
        {"destination": f"slack:{SLACK_CHANNEL}"},
        {"destination": f"discord:{DISCORD_CHANNEL}"},
    ]
    async with (
        FakeSlackApi() as slack,
        FakeDiscord() as discord_api,
        FakeGateway(guilds=[guild_create()]) as gateway,
        FakeProxy({API_HOST: discord_api.port, GATEWAY_HOST: gateway.port}) as proxy,
    ):
        more = {
            "NKRU_POLL_JITTER": "0",
            "NKRU_DELIVERY_INTERVAL": "1s",
            "NKRU_HTTP_PORT": "0",
            "NKRU_SLACK_SIGNING_SECRET": SECRET,
            "COLUMNS": "400",  # the start-up line must not wrap
        }
        env = nkru_env(tmp_path, routes, slack, DISCORD_TOKEN, proxy.url, more)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        async with reaped(proc):
            port = await read_http_port(proc)
            yield proc, port, slack, discord_api, gateway, proxy


async def read_http_port(proc: asyncio.subprocess.Process) -> int:
    """The port from the start-up line (`…; http://127.0.0.1:PORT/healthz`)."""
    assert proc.stdout is not None
    seen = []
    async with asyncio.timeout(60):
        while line := (await proc.stdout.readline()).decode():
            seen.append(line)
            if found := re.search(r"http://127\.0\.0\.1:(\d+)/healthz", line):
                return int(found.group(1))
    raise AssertionError("no start-up line:\n" + "".join(seen))


async def test_run_serves_slack_and_discord_at_once(bot_process: Running) -> None:
    proc, port, slack, discord_api, gateway, proxy = bot_process
    base = f"http://127.0.0.1:{port}"

    # The new article alerts both platforms, once each.
    posts = f"/channels/{DISCORD_CHANNEL}/messages"
    await wait_until(
        lambda: slack.calls_to("chat.postMessage") and discord_api.calls("POST", posts)
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert (await response.json())["adapters"] == ["console", "discord", "slack"]

        # Slack: a signed slash command is answered through response_url; a forged one is 401.
        body = urlencode(command_form(slack, "themes") | {"channel_id": SLACK_CHANNEL})
        async with http.post(f"{base}/slack/events", data=body, headers=signed(body)) as answer:
            assert answer.status == 200
        await wait_until(lambda: bool(slack.responses))
        assert "Tumen" in json.dumps(slack.responses[0].body, ensure_ascii=False)
        forged = signed(body, secret="not-the-secret")
        async with http.post(f"{base}/slack/events", data=body, headers=forged) as refused:
            assert refused.status == 401
        assert len(slack.responses) == 1

    # Discord: the gateway delivers a slash command; the answer goes to the interaction.
    identify = await gateway.wait_identified()
    assert identify["token"] == DISCORD_TOKEN
    payload, state = slash_command(discord_api, "themes")
    await gateway.dispatch("INTERACTION_CREATE", payload)
    await wait_until(lambda: bool(state.shown))
    assert "Tumen" in json.dumps(state.shown, ensure_ascii=False)

    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(discord_api.calls("POST", posts)) == 1  # (the command's answer is not a post)
    assert discord_api.mention_violations == []
    # REST and the gateway both went through the proxy, to Discord's real names
    assert {API_HOST + ":443", GATEWAY_HOST + ":443"} <= set(proxy.tunnels)
    assert proxy.refused == []

    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), timeout=60) == 0
