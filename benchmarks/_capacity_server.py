"""The capacity benchmark's feed server: N synthetic feeds on loopback, in a process of its own.

Run by benchmarks/capacity.py as ``python -m benchmarks._capacity_server PLAN_JSON``; it prints
``port N`` once it listens and exits when its stdin closes (so it never outlives the
benchmark, however that ends).

Feed `i` is served at ``http://127.0.0.<1 + i % hosts>:<port>/f/<i>``: several loopback
addresses, because the bot limits concurrent requests per host as it would for real outlets.
Each answer carries a strong ETag (feed and version); a request whose If-None-Match names the
current one gets a 304 without a body. While publishing is on, `changing` x N feeds per
interval (among those fetched at least once, at random moments spread evenly over time) get a
new item; it is visible from that moment. Every request (arrival time, feed, status, time to
answer), every publication and the first time each new item was served are logged with
time.monotonic() (one clock for every process on Linux) and written out on request.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from array import array
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks import _capacity_items as items


@dataclass(frozen=True, slots=True)
class Plan:
    """What to serve and how it changes."""

    feeds: int
    hosts: int
    interval: float
    changing: float  # share of the feeds that get a new item per interval
    matching: float  # share of new items on the watchlist
    items: int = 20
    seed: int = 1

    def to_json(self) -> str:
        """The plan as the command-line argument of this module."""
        return json.dumps(asdict(self))

    def url(self, port: int, feed: int) -> str:
        """Where feed `feed` is served."""
        return f"http://127.0.0.{1 + feed % self.hosts}:{port}/f/{feed}"


# The logs, as columns: name -> array typecode.
COLUMNS = {
    "req_t": "d", "req_feed": "i", "req_status": "h", "req_seconds": "d",
    "pub_t": "d", "pub_feed": "i", "pub_seq": "i", "pub_matching": "b",
    "served_t": "d", "served_feed": "i", "served_seq": "i",
}  # fmt: skip


class Feeds:
    """The feeds' state and the logs."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.newest = [0] * plan.feeds  # seq of each feed's newest new item (0: none yet)
        self.served_upto = [0] * plan.feeds
        self.published: dict[int, dict[int, float]] = {}  # feed -> seq -> time.time()
        self.matching: dict[int, dict[int, bool]] = {}
        self.fetched = bytearray(plan.feeds)  # requests per feed, counted up to 2
        self.fetched_count = 0  # feeds requested at least once
        self.repolled_count = 0  # feeds requested at least twice
        self.first_request: float | None = None
        self.publishing = False
        self.rng = random.Random(plan.seed)
        self.log: dict[str, array[Any]] = {name: array(code) for name, code in COLUMNS.items()}

    def answer(self, feed: int, if_none_match: str | None) -> tuple[int, bytes, str]:
        """(status, body, ETag) for a request of `feed` now."""
        now = time.monotonic()
        self.first_request = self.first_request or now
        if self.fetched[feed] < 2:
            self.fetched[feed] += 1
            if self.fetched[feed] == 1:
                self.fetched_count += 1
            else:
                self.repolled_count += 1
        newest = self.newest[feed]
        etag = f'"{feed}-{newest}"'
        if if_none_match == etag:
            return 304, b"", etag
        body = items.rss(
            feed,
            newest,
            self.plan.items,
            self.published.get(feed, {}),
            self.matching.get(feed, {}),
            time.time(),
        )
        for seq in range(self.served_upto[feed] + 1, newest + 1):
            self.record(served_t=now, served_feed=feed, served_seq=seq)
        self.served_upto[feed] = newest
        return 200, body, etag

    def publish(self, count: int) -> None:
        """Give `count` random feeds (among those fetched once) a new item each."""
        for _ in range(count):
            for _attempt in range(20):  # early on, few feeds have been fetched
                feed = self.rng.randrange(self.plan.feeds)
                if self.fetched[feed]:
                    break
            else:
                continue
            seq = self.newest[feed] = self.newest[feed] + 1
            matching = self.rng.random() < self.plan.matching
            self.published.setdefault(feed, {})[seq] = time.time()
            self.matching.setdefault(feed, {})[seq] = matching
            self.record(pub_t=time.monotonic(), pub_feed=feed, pub_seq=seq, pub_matching=matching)

    def record(self, **values: float) -> None:
        """Append one row to the named log columns."""
        for name, value in values.items():
            self.log[name].append(value)

    def state(self) -> dict[str, object]:
        """Counts for the benchmark's progress and its wait for the first round."""
        return {
            "requests": len(self.log["req_t"]),
            "fetched": self.fetched_count,
            "repolled": self.repolled_count,
            "first_request": self.first_request,
            "published": len(self.log["pub_t"]),
        }

    def dump(self, folder: Path) -> None:
        """Write each log column to `folder/<name>.bin`."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, column in self.log.items():
            with (folder / f"{name}.bin").open("wb") as out:
                column.tofile(out)


async def publisher(feeds: Feeds) -> None:
    """Publish new items at a steady rate while publishing is on."""
    plan = feeds.plan
    per_second = plan.changing * plan.feeds / plan.interval
    tick = min(1.0, max(0.02, 1 / per_second if per_second else 1.0))
    owed, last = 0.0, time.monotonic()
    while True:
        await asyncio.sleep(tick)
        now = time.monotonic()
        if feeds.publishing:
            owed += per_second * (now - last)
            feeds.publish(int(owed))
            owed -= int(owed)
        last = now


def make_app(feeds: Feeds) -> web.Application:
    """The feeds at /f/<i> and the benchmark's control endpoints under /_control/."""

    async def feed(request: web.Request) -> web.Response:
        started = time.monotonic()
        try:
            index = int(request.match_info["index"])
            status, body, etag = feeds.answer(index, request.headers.get("If-None-Match"))
        except (ValueError, IndexError):
            return web.Response(status=404, text="no such feed")
        headers = {"ETag": etag}
        if status == 200:
            headers["Content-Type"] = "application/rss+xml; charset=utf-8"
        feeds.record(
            req_t=started,
            req_feed=index,
            req_status=status,
            req_seconds=time.monotonic() - started,
        )
        return web.Response(status=status, body=body or None, headers=headers)

    async def state(request: web.Request) -> web.Response:
        return web.json_response(feeds.state())

    async def publishing(request: web.Request) -> web.Response:
        feeds.publishing = request.query.get("on") == "1"
        return web.json_response(feeds.state())

    async def dump(request: web.Request) -> web.Response:
        feeds.dump(Path(request.query["folder"]))
        return web.json_response(feeds.state())

    app = web.Application()
    app.router.add_get("/f/{index}", feed)
    app.router.add_get("/_control/state", state)
    app.router.add_post("/_control/publishing", publishing)
    app.router.add_post("/_control/dump", dump)
    return app


async def serve(plan: Plan) -> None:
    """Serve until stdin closes."""
    feeds = Feeds(plan)
    runner = web.AppRunner(make_app(feeds), access_log=None, handler_cancellation=True)
    await runner.setup()
    port = 0
    for host in range(1, plan.hosts + 1):
        site = web.TCPSite(runner, f"127.0.0.{host}", port, backlog=1024)
        await site.start()
        port = port or runner.addresses[0][1]
    print(f"port {port}", flush=True)
    stdin_closed = asyncio.Event()
    loop = asyncio.get_running_loop()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the benchmark closed the pipe or died
        loop.call_soon_threadsafe(stdin_closed.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    task = asyncio.create_task(publisher(feeds))
    try:
        await stdin_closed.wait()
    finally:
        task.cancel()
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(Plan(**json.loads(sys.argv[1]))))
