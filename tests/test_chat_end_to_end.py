"""End to end over the real protocols: feeds on loopback → `nkru poll --once` → Slack and Discord.

The bot runs as its real command in a child process, configured only through NKRU_* variables;
the feed server, the fake Slack Web API and the fake Discord REST API run in this test's loop.
Discord is reached at discord.com over TLS through NKRU_DISCORD_PROXY (a fake proxy that
tunnels that name to the fake API).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import open_runtime
from bot.chat import chat_platforms
from bot.core.delivery import deliver_due
from bot.settings import load_settings
from tests.fakes.connect_proxy import FakeProxy
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_hosts import API_HOST
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until
from tests.processes import nkru_env, reaped, run_process

SLACK_CHANNEL = "C0NKRU"
DISCORD_CHANNEL = 111_222_333
TITLE = "North Korean troops deployed to Russia's Kursk region, Seoul's spy agency says"
SUMMARY = (
    "South Korea's intelligence service says thousands of North Korean soldiers have been sent "
    "to fight for Russia in the Kursk region."
)
HOSTILE = "@everyone <!channel> **bold** <script>alert(1)</script> <@U0ADMIN> <@&4242>"


def rss(outlet: str, *items: tuple[str, str, str]) -> bytes:
    """An RSS feed of (guid, title, summary) items published now."""
    now = format_datetime(datetime.now(UTC), usegmt=True)
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><description>{summary}</description>"
        f"<link>https://{outlet.lower()}.example/{guid}</link><pubDate>{now}</pubDate></item>"
        for guid, title, summary in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>{body}'
        "</channel></rss>"
    ).encode()


def escaped_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class World:
    feeds: FeedServer
    slack: FakeSlackApi
    discord: FakeDiscord
    proxy: FakeProxy
    env: dict[str, str]
    tmp: Path

    async def poll_once(self) -> str:
        """Run `nkru poll --once` in a child process; its output."""
        done = await run_process(
            sys.executable, "-m", "bot", "poll", "--once", cwd=self.tmp, env=self.env,
            seconds=120, merge_stderr=True,
        )  # fmt: skip
        assert done.code == 0, done.out
        return done.out

    def slack_posts(self) -> list[dict[str, Any]]:
        return [c.args for c in self.slack.calls_to("chat.postMessage")]

    def discord_posts(self) -> list[Any]:
        return [r.body for r in self.discord.calls("POST", f"/channels/{DISCORD_CHANNEL}/messages")]


@pytest.fixture
async def world(server: FeedServer, tmp_path: Path) -> AsyncIterator[World]:
    server.add_feed("/wire.xml", rss("Wire", ("w-1", TITLE, SUMMARY)))
    server.add_feed("/herald.xml", rss("Herald"))  # nothing yet: it reports the story later
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n'
        f'[[feed]]\nname = "Herald"\nurl = "{server.url("/herald.xml")}"\n',
        encoding="utf-8",
    )
    routes = [
        {"destination": f"slack:{SLACK_CHANNEL}"},
        {"destination": f"discord:{DISCORD_CHANNEL}"},
    ]
    async with (
        FakeSlackApi() as slack,
        FakeDiscord() as fake_discord,
        FakeProxy({API_HOST: fake_discord.port}) as proxy,
    ):
        env = nkru_env(tmp_path, routes, slack, DISCORD_TOKEN, proxy.url)
        yield World(server, slack, fake_discord, proxy, env, tmp_path)


async def test_one_alert_per_channel_then_an_update_not_a_repost(world: World) -> None:
    await world.poll_once()

    [slack_post] = world.slack_posts()
    assert slack_post["channel"] == SLACK_CHANNEL
    slack_text = json.dumps(slack_post["blocks"], ensure_ascii=False)
    assert "Kursk" in slack_text and "troops" in slack_text  # title, and the matched theme
    assert slack_post["metadata"]["event_type"] == "nkru_alert"
    [discord_post] = world.discord_posts()
    [embed] = discord_post["embeds"][:1]
    assert "Kursk" in embed["title"] and embed["url"] == "https://wire.example/w-1"
    assert discord_post["allowed_mentions"] == {"parse": []}
    assert world.discord.mention_violations == []
    assert world.proxy.tunnels and set(world.proxy.tunnels) == {f"{API_HOST}:443"}

    # A second outlet reports the same story: the posted messages are edited, not re-posted.
    world.feeds.set_body("/herald.xml", rss("Herald", ("h-9", TITLE, SUMMARY)))
    await world.poll_once()

    assert len(world.slack_posts()) == 1 and len(world.discord_posts()) == 1
    [update] = world.slack.calls_to("chat.update")
    assert update.args["ts"] == world.slack.messages[SLACK_CHANNEL][0]["ts"]
    assert "Herald" in json.dumps(update.args["blocks"], ensure_ascii=False)
    [edit] = world.discord.calls("PATCH", f"/channels/{DISCORD_CHANNEL}/messages/*")
    assert "Herald" in json.dumps(edit.body, ensure_ascii=False)
    assert edit.body["allowed_mentions"] == {"parse": []}
    assert len(world.discord.channel_messages(DISCORD_CHANNEL)) == 1


async def test_a_webhook_alone_posts_through_the_proxy_too(world: World) -> None:
    hook_channel = 1_500_000_000_000_000_003
    del world.env["NKRU_DISCORD_TOKEN"]
    world.env["NKRU_DISCORD_WEBHOOK_URL"] = world.discord.add_webhook(hook_channel)

    await world.poll_once()

    [message] = world.discord.channel_messages(hook_channel)  # the webhook's own channel
    assert "Kursk" in message["embeds"][0]["title"]
    [post] = world.discord.calls("POST", "/webhooks/*")
    assert post.body["allowed_mentions"] == {"parse": []}
    assert world.discord.calls("GET", "/users/@me") == []  # no bot login
    assert set(world.proxy.tunnels) == {f"{API_HOST}:443"}


async def test_a_hostile_title_pings_nobody_on_either_platform(world: World) -> None:
    title = f"{HOSTILE} North Korean troops deployed to Russia's Kursk region"
    world.feeds.set_body("/wire.xml", rss("Wire", ("w-2", escaped_xml(title), SUMMARY)))

    await world.poll_once()

    [slack_post] = world.slack_posts()
    sent = json.dumps(slack_post, ensure_ascii=False)
    for ping in ("<!channel>", "<!everyone>", "<!here>", "<@U0ADMIN>", "<!subteam", "<script>"):
        assert ping not in sent
    assert "&lt;@U0ADMIN&gt;" in sent  # shown as text (`<!channel>` and the script tag are
    # already gone: the normaliser reads feed titles as HTML)
    [discord_post] = world.discord_posts()
    assert discord_post["allowed_mentions"] == {"parse": []}
    embed_text = json.dumps(discord_post["embeds"], ensure_ascii=False)
    assert "@everyone" not in embed_text.replace("@\u200beveryone", "")
    assert "<@&4242>" not in embed_text and "**bold**" not in embed_text
    assert world.discord.mention_violations == []


async def test_killed_between_send_and_record_posts_once_per_channel(world: World) -> None:
    world.slack.hang_after_post = True  # the posts arrive, their answers never do
    world.discord.hang_after_post = True
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "poll", "--once", cwd=world.tmp, env=world.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with reaped(proc):  # killed, as soon as both posts have arrived
        await wait_until(lambda: world.slack_posts() and world.discord_posts())
    world.slack.hang_after_post = world.discord.hang_after_post = False

    # Restart: the killed process is gone, so its claims are due at once (not after the lease).
    os.environ.update(world.env)
    try:
        settings = load_settings()
    finally:
        for key in world.env:
            if key.startswith("NKRU_"):
                os.environ.pop(key, None)
    # This process trusts the fake's CA through its own connector (not SSL_CERT_FILE).
    network = world.discord.network()
    async with open_runtime(settings, chat=chat_platforms("send", network)) as runtime:
        report = await deliver_due(
            runtime.store,
            runtime.adapters,
            lambda: datetime.now(UTC),
            routes=runtime.ctx.alert_policy.routes,
        )
    assert report.sent == 2, report

    assert len(world.slack.messages[SLACK_CHANNEL]) == 1
    assert len(world.discord.channel_messages(DISCORD_CHANNEL)) == 1
