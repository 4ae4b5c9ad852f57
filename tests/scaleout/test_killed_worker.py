"""A worker killed with kill -9 mid-poll: another worker finishes its job within a minute."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from aiohttp import web

from bot.core.records import NewFeed
from storage.engine import Store
from tests.conftest import REPO_ROOT
from tests.fakes.feed_server import FeedServer
from tests.fakes.recording_adapter import RecordingAdapter
from tests.fakes.waiting import wait_until
from tests.processes import reaped
from tests.scaleout.conftest import Clock, Start

pytestmark = pytest.mark.postgres
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><guid>k-1</guid><title>Rail link reopens between Khasan and Tumangang</title>
<link>https://wire.example/k1</link></item></channel></rss>"""


async def test_the_jobs_of_a_killed_worker_are_finished_by_another(
    pg_url: str, server: FeedServer, engines: Start
) -> None:
    fetching = asyncio.Event()
    requests = 0

    async def first_hangs(request: web.Request) -> web.StreamResponse:
        nonlocal requests
        requests += 1
        if requests == 1:  # the child's poll: it is killed while waiting here
            fetching.set()
            await asyncio.Event().wait()
        return web.Response(body=RSS, content_type="application/rss+xml")

    server.add_handler("/wire.xml", first_hangs)
    store = await Store.open(pg_url)
    try:
        async with store.transaction() as tx:
            await tx.feeds.add(NewFeed(server.url("/wire.xml"), "wire", 60), Clock()())
    finally:
        await store.close()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.queue_worker", pg_url, cwd=REPO_ROOT,
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with reaped(child):
        await asyncio.wait_for(fetching.wait(), 60)
        child.kill()  # SIGKILL: no shutdown, its job stays "doing"
        await child.wait()
    killed_at = time.monotonic()

    adapter = RecordingAdapter()
    await engines(1, adapter, Clock())
    await wait_until(lambda: len(adapter.sent) == 1, seconds=60)
    assert requests == 2
    assert adapter.sent[0].title.startswith("Rail link reopens")
    print(f"killed worker's poll finished by another {time.monotonic() - killed_at:.1f}s later")
