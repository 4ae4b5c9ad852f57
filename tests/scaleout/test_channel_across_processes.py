"""Three `nkru run` processes on one PostgreSQL database posting to one Slack channel: alerts
come oldest first and paced (≥ 1 s apart) whichever process sends them, and when the process
sending is killed with kill -9 mid-post, another finishes the channel's alerts within a
minute, without posting the interrupted alert twice.

The real command in child processes, a loopback feed server, and a fake Slack Web API that
keeps the first post but never answers it (the sender dies between posting and recording).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import REPO_ROOT
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import ApiCall, FakeSlackApi
from tests.processes import reaped
from tests.scaleout.test_shared_queue import rss

pytestmark = pytest.mark.postgres
CHANNEL, FEEDS = "CPACE", 8
# Who holds the claim of an alert being sent: its process id.
CLAIM_HOLDERS = "SELECT i.pid FROM outbox o JOIN instances i ON i.id = o.claimed_by"


def outbox_id(call: ApiCall) -> int:
    metadata: Any = call.args["metadata"]
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return int(metadata["event_payload"]["outbox_id"])


def posts(slack: FakeSlackApi) -> list[ApiCall]:
    return [call for call in slack.calls_to("chat.postMessage") if call.args["channel"] == CHANNEL]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


async def test_one_channel_in_order_and_paced_across_processes_and_a_killed_sender_replaced(
    pg_url: str, server: FeedServer, slack: FakeSlackApi, tmp_path: Path
) -> None:
    feeds = ""
    for n in range(FEEDS):
        server.add_feed(f"/f{n}.xml", rss(f"f{n}", 1))
        feeds += f'[[feed]]\nname = "f{n}"\nurl = "{server.url(f"/f{n}.xml")}"\n'
    (tmp_path / "feeds.toml").write_text(feeds, encoding="utf-8")
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("NKRU_")}
    env = inherited | {
        "NKRU_DATABASE_URL": pg_url,
        "NKRU_FEEDS_FILE": str(tmp_path / "feeds.toml"),
        "NKRU_WATCHLISTS": str(REPO_ROOT / "watchlists"),
        # Every new story, matched or not: the feeds' headlines are random.
        "NKRU_ROUTES": json.dumps([{"destination": f"slack:{CHANNEL}", "unmatched": True}]),
        "NKRU_FLOOD_GUARD": "false",
        "NKRU_PARSE_WORKERS": "0",
        "NKRU_POLL_JITTER": "0",
        "NKRU_HTTP_PORT": "0",
        "NKRU_SLACK_BOT_TOKEN": slack.bot_token,
        "NKRU_SLACK_API_URL": slack.api_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    slack.hang_after_post = True  # the first post is kept, its sender never hears back
    slack.wait_timeout = 60
    async with AsyncExitStack() as stack:
        children: dict[int, asyncio.subprocess.Process] = {}
        for _ in range(3):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await stack.enter_async_context(reaped(proc))
            children[proc.pid] = proc
        await slack.wait_for(lambda: len(posts(slack)) == 1)

        database = await asyncpg.connect(
            make_url(pg_url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            holders = {row["pid"] for row in await database.fetch(CLAIM_HOLDERS)}
        finally:
            await database.close()
        assert len(holders) == 1 and holders <= set(children)
        sender = children[holders.pop()]
        sender.kill()  # SIGKILL mid-post: its delivery job stays "doing", its claim stays
        await sender.wait()
        killed_at = time.monotonic()
        slack.hang_after_post = False

        await slack.wait_for(lambda: len(posts(slack)) >= 2)
        taken_over = time.monotonic() - killed_at
        await slack.wait_for(lambda: len({outbox_id(call) for call in posts(slack)}) == FEEDS)

    print(f"a killed sender's channel taken over {taken_over:.1f}s after the kill")
    sent = posts(slack)
    ids = [outbox_id(call) for call in sent]
    assert ids == sorted(set(ids))  # each once, oldest first, across the three processes
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= 1.0  # Slack's one post a second per channel, across processes
