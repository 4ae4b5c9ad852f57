"""`kill -9` of a real `nkru run` in the middle of a delivery.

Nothing of ours outlives it (the fork server, the parse workers, multiprocessing's resource
tracker), and a restart delivers the alert the killed process had claimed at once rather than
after the claim's 5-minute lease, exactly once (Slack finds the first post by its metadata).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until
from tests.proc_scan import (
    MARK_VARIABLE,
    Running,
    descendants,
    described,
    kill_all,
    marked,
    still_running,
)
from tests.processes import nkru_env, reaped
from tests.test_chat_end_to_end import SLACK_CHANNEL, SUMMARY, TITLE, rss

GONE_WITHIN = 10.0  # seconds for the survivors to notice; they take well under one
LEASE = 300.0  # RetryPolicy.claim_lease: a restart that waited for it would time out here


@dataclass
class Bot:
    slack: FakeSlackApi
    env: dict[str, str]
    folder: Path
    mark: str

    async def start(self) -> asyncio.subprocess.Process:
        """`nkru run` as a child process."""
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=self.folder, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    def statuses(self) -> list[str]:
        """The outbox entries' statuses, read as another process would."""
        with sqlite3.connect(f"file:{self.folder / 'nkru.db'}?mode=ro", uri=True) as db:
            return [status for (status,) in db.execute("SELECT status FROM outbox")]


@pytest.fixture
async def bot(server: FeedServer, tmp_path: Path) -> AsyncIterator[Bot]:
    server.add_feed("/wire.xml", rss("Wire", ("w-1", TITLE, SUMMARY)))
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n', encoding="utf-8"
    )
    mark = uuid.uuid4().hex
    more = {
        "NKRU_PARSE_WORKERS": "2",
        "NKRU_POLL_JITTER": "0",
        "NKRU_DELIVERY_INTERVAL": "1s",
        "NKRU_HTTP_PORT": "0",
        MARK_VARIABLE: mark,
    }
    async with FakeSlackApi() as slack:
        routes = [{"destination": f"slack:{SLACK_CHANNEL}"}]
        env = nkru_env(tmp_path, routes, slack, "", "http://127.0.0.1:9", more)
        try:
            yield Bot(slack, env, tmp_path, mark)
        finally:
            kill_all(marked(mark))  # a failed test leaves nothing behind either


async def crash_mid_delivery(bot: Bot) -> set[Running]:
    """Run `nkru run` until its post reached Slack (whose answer never comes), then kill -9
    it; the processes it had started."""
    bot.slack.hang_after_post = True
    proc = await bot.start()
    async with reaped(proc):
        await wait_until(lambda: bot.slack.calls_to("chat.postMessage"))
        started = descendants(proc.pid)
        assert started <= marked(bot.mark)  # the marker finds them once they are reparented
        proc.send_signal(signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    bot.slack.hang_after_post = False
    return started


async def test_kill_9_leaves_no_process_of_ours_behind(bot: Bot) -> None:
    started = await crash_mid_delivery(bot)

    # The fork server, two parse workers and the resource tracker were running.
    assert len(started) >= 4, started

    with contextlib.suppress(TimeoutError):  # the assertion below names the survivors
        await wait_until(lambda: not still_running(started | marked(bot.mark)), GONE_WITHIN)
    assert not described(started | marked(bot.mark))


async def test_restart_delivers_the_killed_process_claim_at_once_exactly_once(bot: Bot) -> None:
    await crash_mid_delivery(bot)
    assert bot.statuses() == ["pending"]

    proc = await bot.start()
    async with reaped(proc):
        await wait_until(lambda: bot.statuses() == ["sent"], LEASE / 5)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0

    assert len(bot.slack.messages[SLACK_CHANNEL]) == 1  # found the first post, did not repost
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    await wait_until(lambda: not marked(bot.mark), GONE_WITHIN)  # a clean stop leaves none
