"""The capacity benchmark's figures, computed from the feed server's logs and the chat posts.

Times are time.monotonic() readings from the benchmark, the feed server and the fake chat API:
on Linux one clock for every process, so they compare directly.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import _capacity_items as items
from benchmarks._capacity_server import COLUMNS


def read_logs(folder: Path) -> dict[str, array[Any]]:
    """The columns the feed server dumped into `folder`."""
    logs: dict[str, array[Any]] = {}
    for name, code in COLUMNS.items():
        column: array[Any] = array(code)
        data = (folder / f"{name}.bin").read_bytes()
        column.frombytes(data)
        logs[name] = column
    return logs


def percentile(values: list[float], q: float, missing: int = 0) -> float | None:
    """The q-quantile (nearest rank), counting `missing` values as infinitely late."""
    ordered = sorted(values) + [math.inf] * missing
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(slots=True)
class Window:
    """The steady-state measurement: `intervals` intervals from `start`."""

    start: float
    interval: float
    intervals: int

    @property
    def end(self) -> float:
        """When the window closes."""
        return self.start + self.interval * self.intervals


@dataclass(slots=True)
class Polls:
    """Requests at the feed server."""

    achieved: int = 0
    scheduled: int = 0
    in_window: int = 0
    total: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)  # of the polls due in the window
    never_polled: int = 0  # polls due in the window that never came (lag: infinite)
    first_round_end: float | None = None  # when the last feed was first fetched
    server_seconds: list[float] = field(default_factory=list)


def polls(logs: dict[str, array[Any]], feeds: int, window: Window) -> Polls:
    """Polls achieved per feed per interval, and each due poll's lag.

    A feed's due time is its previous request's arrival + the interval: the bot sets the next
    poll to the poll's own clock reading (taken when the response is in) + the interval, and
    the server sees the request a moment after it is sent. Every poll due in the window has a
    lag: the next request's arrival − due, even when that request came after the window, and
    infinity when it never came before the run ended (a stuck feed is not on time). Achieved
    counts each feed's requests in the window, at most one per interval of it.
    """
    found = Polls(scheduled=feeds * window.intervals)
    order = sorted(range(len(logs["req_t"])), key=logs["req_t"].__getitem__)
    previous: dict[int, float] = {}
    counts: Counter[int] = Counter()
    for index in order:
        at, feed = logs["req_t"][index], logs["req_feed"][index]
        found.total += 1
        if feed not in previous and len(previous) == feeds - 1:
            found.first_round_end = at
        if feed in previous and window.start <= previous[feed] + window.interval < window.end:
            found.lags.append(at - (previous[feed] + window.interval))
        if window.start <= at < window.end:
            counts[feed] += 1
            found.statuses[logs["req_status"][index]] += 1
            found.server_seconds.append(logs["req_seconds"][index])
        previous[feed] = at
    found.never_polled = sum(
        1 for at in previous.values() if window.start <= at + window.interval < window.end
    )
    found.in_window = sum(counts.values())
    found.achieved = sum(min(count, window.intervals) for count in counts.values())
    return found


@dataclass(slots=True)
class Post:
    """A call to the fake chat API that names a new item."""

    at: float
    feed: int
    seq: int
    method: str


def posts_of(calls: list[Any]) -> list[Post]:
    """The chat.postMessage and chat.update calls, with the item each one names."""
    found = []
    for call in calls:
        if call.method not in {"chat.postMessage", "chat.update"}:
            continue
        text = json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)
        for match in items.CODE_RE.finditer(text):
            found.append(Post(call.at, int(match.group(1)), int(match.group(2)), call.method))
    return found


@dataclass(slots=True)
class Latency:
    """New item → chat post, for the matching items published in the window."""

    published: int = 0
    posted: int = 0
    as_update: int = 0  # reached the chat only as an edit of another story's post
    from_publication: list[float] = field(default_factory=list)
    from_fetch: list[float] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Items never posted before the run ended."""
        return self.published - self.posted


def latency(logs: dict[str, array[Any]], posts: list[Post], window: Window) -> Latency:
    """From publication and from the first 200 that carried it, to its first post."""
    first_post: dict[tuple[int, int], float] = {}
    updated: set[tuple[int, int]] = set()
    for post in posts:
        key = (post.feed, post.seq)
        if post.method == "chat.postMessage":
            first_post[key] = min(first_post.get(key, math.inf), post.at)
        else:
            updated.add(key)
    served = {
        (feed, seq): at
        for at, feed, seq in zip(
            logs["served_t"], logs["served_feed"], logs["served_seq"], strict=True
        )
    }
    found = Latency()
    columns = (logs["pub_t"], logs["pub_feed"], logs["pub_seq"], logs["pub_matching"])
    for at, feed, seq, matching in zip(*columns, strict=True):
        if not matching or not window.start <= at < window.end:
            continue
        found.published += 1
        key = (feed, seq)
        if key not in first_post:
            found.as_update += key in updated
            continue
        found.posted += 1
        found.from_publication.append(first_post[key] - at)
        if key in served:
            found.from_fetch.append(first_post[key] - served[key])
    return found


def posted_keys(posts: list[Post]) -> set[tuple[int, int]]:
    """The items posted as new alerts so far."""
    return {(p.feed, p.seq) for p in posts if p.method == "chat.postMessage"}


def published_keys(logs: dict[str, array[Any]], window: Window) -> set[tuple[int, int]]:
    """The matching items published in the window."""
    columns = (logs["pub_t"], logs["pub_feed"], logs["pub_seq"], logs["pub_matching"])
    return {
        (feed, seq)
        for at, feed, seq, matching in zip(*columns, strict=True)
        if matching and window.start <= at < window.end
    }
