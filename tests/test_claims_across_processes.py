"""Two processes on one database: a live process's claim is not taken; a killed one's is, at once.

A real `nkru poll --once` child claims the alert and hangs in the middle of posting it (the
fake Slack never answers). This process, sharing the database (SQLite, and PostgreSQL when
configured), opens its runtime and delivers: nothing, the claim is live. Once the child is
killed, the next start delivers the alert straight away, well inside the claim's 5-minute
lease, and exactly once: Slack is asked for the first post's metadata and not posted to again.
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Runtime, open_runtime
from bot.chat import chat_platforms
from bot.core.delivery import DeliveryReport, deliver_due
from bot.settings import load_settings
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until
from tests.processes import nkru_env, reaped
from tests.test_chat_end_to_end import SLACK_CHANNEL, SUMMARY, TITLE, rss


def runtime_of(env: dict[str, str]) -> AbstractAsyncContextManager[Runtime]:
    """This process's runtime, configured by the child's NKRU_* variables (as a second bot)."""
    settings_env = {key: value for key, value in env.items() if key.startswith("NKRU_")}
    os.environ.update(settings_env)
    try:
        settings = load_settings()
    finally:
        for key in settings_env:
            os.environ.pop(key, None)
    return open_runtime(settings, chat=chat_platforms("send"))


async def deliver(runtime: Runtime) -> DeliveryReport:
    return await deliver_due(runtime.store, runtime.adapters, lambda: datetime.now(UTC))


async def test_a_live_claim_is_not_taken_and_a_killed_holders_claim_is_retried_at_once(
    store_url: str, server: FeedServer, tmp_path: Path
) -> None:
    server.add_feed("/wire.xml", rss("Wire", ("w-1", TITLE, SUMMARY)))
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n', encoding="utf-8"
    )
    async with FakeSlackApi() as slack:
        routes = [{"destination": f"slack:{SLACK_CHANNEL}"}]
        more = {"NKRU_DATABASE_URL": store_url}
        env = nkru_env(tmp_path, routes, slack, "", "http://127.0.0.1:9", more)
        slack.hang_after_post = True
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "poll", "--once", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with reaped(proc):
            await wait_until(lambda: slack.calls_to("chat.postMessage"))
            async with runtime_of(env) as runtime:
                async with runtime.store.transaction() as tx:
                    assert proc.pid in {i.pid for i in await tx.instances.all()}
                report = await deliver(runtime)
            assert (report.sent, report.retrying, report.dead) == (0, 0, 0)
            assert len(slack.calls_to("chat.postMessage")) == 1
            proc.kill()  # and reaped: gone for good
        slack.hang_after_post = False

        async with runtime_of(env) as runtime:  # a restart
            report = await deliver(runtime)

        assert report.sent == 1
        assert len(slack.messages[SLACK_CHANNEL]) == 1
        assert len(slack.calls_to("chat.postMessage")) == 1
        assert slack.calls_to("conversations.history")  # looked for the first post
