"""Scale-out on PostgreSQL: 1, 2 and 3 `nkru run` processes sharing one database's job queue.

Run ``.venv/bin/python benchmarks/scaleout.py --quick`` (about 3 minutes), or without options
for the issue's scenario (200 feeds, 3 workers, 10 minutes of polling: about an hour in all).
Progress goes to stderr, the table to stdout. ``--database-url`` names a PostgreSQL server
(any database on it: the benchmark creates and drops its own, ``nkru_scaleout_bench``).

Each run starts from an empty database: the feed server of the capacity benchmark in its own
process (benchmarks/_capacity_server.py: ETag/304, new items published at random moments,
every request logged), a fake Slack Web API in this process (tests/fakes/slack_api.py), and N
real ``nkru run`` processes (the installed console script, this checkout first on PYTHONPATH;
the first seeds the feed list, the others join once it polls). After a warm-up (every feed
polled twice) the window opens for ``--intervals`` poll intervals.

* **steady** (N = 1, 2, 3): ``--changing`` of the feeds per interval get a new item the default
  watchlist matches, each alert routed to one Slack channel. Figures: polls per feed per
  interval (requests in the window ÷ feeds x intervals; 1.00 means each feed once per
  interval however many processes run), duplicate posts (an item posted more than once), lost
  alerts (a matching item published in the window and never posted after the drain), polls/s.
* **parse-heavy** (N = 1, 2): every feed gets a new off-watchlist item every interval, so
  every poll is a 200 whose 20 items are parsed and stored, and the interval is short enough
  that one process cannot keep up: polls/s achieved, and the 2 ÷ 1 ratio. Parsing runs in
  each process's thread (NKRU_PARSE_WORKERS=0): adding a process is what adds a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from benchmarks import _capacity_figures as figures
from benchmarks import _capacity_items as items
from benchmarks._capacity_bot import (
    BenchmarkError,
    BotProcess,
    ServerProcess,
    cpu_seconds,
    machine_busy_seconds,
    named_cpu_seconds,
    nkru_script,
)
from benchmarks._capacity_run import Control, progress, run_env, write_feed_list
from benchmarks._capacity_server import Plan
from tests.fakes.slack_api import FakeSlackApi

DATABASE = "nkru_scaleout_bench"


@dataclass(frozen=True, slots=True)
class Run:
    """One measurement: `workers` processes on `plan` for `intervals` intervals."""

    name: str
    workers: int
    plan: Plan
    intervals: int
    drain: float
    warmup: float  # at most this long (seconds) for every feed to be polled twice
    nkru: Path
    server_url: str  # any database on the PostgreSQL server; ours is created beside it
    keep: bool = False


@dataclass(slots=True)
class Result:
    """What one run measured."""

    run: Run
    per_feed_interval: float = 0.0
    polls_per_second: float = 0.0
    parsed_per_second: float = 0.0  # 200 answers (full bodies parsed) per second
    lag_p50: float | None = None  # due-to-fetch lag (s): each poll's wait past its due time
    published: int = 0
    duplicates: int = 0
    lost: int = 0
    # Cores busy in the window, on average: the workers, PostgreSQL's processes, the feed
    # server, and the whole machine (all of it, this benchmark and anything else included).
    cores: dict[str, float] = field(default_factory=dict)


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """An empty database of our own on the server (dropped at the end); its SQLAlchemy URL."""
    admin_url = make_url(server_url).set(drivername="postgresql")
    try:
        admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchmarkError(f"--database-url: cannot connect ({exc})") from exc
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        ours = make_url(server_url).set(drivername="postgresql+asyncpg", database=DATABASE)
        yield ours.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.close()


def worker_env(run: Run, folder: Path, db_url: str, slack: FakeSlackApi) -> dict[str, str]:
    """Every worker's environment: no NKRU_* of ours, only what this run sets."""
    # Parsing in each process's thread: a process is a core. Port 0: each its own.
    return run_env(run.plan.interval, folder, db_url, slack, 0) | {"NKRU_PARSE_WORKERS": "0"}


async def measure(run: Run) -> Result:
    """Serve, start the workers, warm up, measure the window, drain; everything stopped after."""
    plan, result = run.plan, Result(run)
    folder = Path(tempfile.mkdtemp(prefix="nkru-scaleout-"))
    try:
        async with AsyncExitStack() as stack:
            server = await stack.enter_async_context(ServerProcess(plan.to_json()))
            slack = await stack.enter_async_context(FakeSlackApi())
            session = await stack.enter_async_context(aiohttp.ClientSession())
            db_url = await stack.enter_async_context(fresh_database(run.server_url))
            control = Control(session, server.port)
            write_feed_list(plan, server.port, folder / "feeds.toml")
            env = worker_env(run, folder, db_url, slack)
            workers = []
            for number in range(run.workers):
                home = folder / f"worker{number}"
                home.mkdir()
                bot = await stack.enter_async_context(BotProcess(run.nkru, home, env))
                workers.append(bot)
                if number == 0:  # it seeds the feed list; the others join once it polls
                    await until(workers, control, lambda s: s["first_request"] is not None, 90)
            progress(f"{run.name}, {run.workers} worker(s): warming up (every feed twice)")
            await until(workers, control, lambda s: s["repolled"] >= plan.feeds, run.warmup)
            window = figures.Window(time.monotonic(), plan.interval, run.intervals)
            assert server.proc is not None
            cpu = CpuSample.take(workers, server.proc.pid)
            await control.call("publishing", on="1")
            progress(f"window: {run.intervals} intervals of {plan.interval:g} s")
            await until(workers, control, lambda s: False, window.end - time.monotonic())
            result.cores = CpuSample.take(workers, server.proc.pid).cores_since(cpu)
            await control.call("publishing", on="0")
            await control.call("dump", folder=str(folder / "log"))
            wanted = figures.published_keys(figures.read_logs(folder / "log"), window)

            def posted(_: dict[str, Any]) -> bool:
                return wanted <= figures.posted_keys(figures.posts_of(slack.calls))

            await until(workers, control, posted, run.drain)
            for bot in workers:
                await bot.stop(grace=30)
            await control.call("dump", folder=str(folder / "log"))
            logs = figures.read_logs(folder / "log")
            calls = list(slack.calls)
    finally:
        if run.keep:
            progress(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    polls = figures.polls(logs, plan.feeds, window)
    seconds = plan.interval * run.intervals
    result.per_feed_interval = polls.in_window / polls.scheduled
    result.polls_per_second = polls.in_window / seconds
    result.parsed_per_second = polls.statuses[200] / seconds
    result.lag_p50 = figures.percentile(polls.lags, 0.5, polls.never_polled)
    new_posts = Counter(key for call in calls for key in items_posted(call))
    result.published = len(wanted)
    result.duplicates = sum(count - 1 for count in new_posts.values() if count > 1)
    result.lost = len(wanted - set(new_posts))
    return result


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds so far of the workers (parsing in a thread: each one process), of every
    PostgreSQL process, of the feed server, and of the machine."""

    at: float
    workers: float
    postgres: dict[int, float]
    feed_server: float
    machine: float

    @classmethod
    def take(cls, workers: list[BotProcess], server_pid: int) -> CpuSample:
        return cls(
            time.monotonic(),
            sum(cpu_seconds(bot.pid) for bot in workers),
            named_cpu_seconds("postgres"),
            cpu_seconds(server_pid),
            machine_busy_seconds(),
        )

    def cores_since(self, earlier: CpuSample) -> dict[str, float]:
        """Cores busy on average between `earlier` and this sample (a PostgreSQL process
        started meanwhile counts from 0; one that ended is left out)."""
        seconds = self.at - earlier.at
        postgres = sum(
            spent - earlier.postgres.get(pid, 0.0) for pid, spent in self.postgres.items()
        )
        return {
            "nkru": (self.workers - earlier.workers) / seconds,
            "postgres": postgres / seconds,
            "feeds": (self.feed_server - earlier.feed_server) / seconds,
            "machine": (self.machine - earlier.machine) / seconds,
        }


def items_posted(call: Any) -> set[tuple[int, int]]:
    """The items a chat.postMessage call names as new (its text and blocks both name each)."""
    if call.method != "chat.postMessage":
        return set()
    text = json.dumps([call.args.get("text"), call.args.get("blocks")], ensure_ascii=False)
    return {(int(m.group(1)), int(m.group(2))) for m in items.CODE_RE.finditer(text)}


async def until(
    workers: list[BotProcess],
    control: Control,
    done: Callable[[dict[str, Any]], bool],
    seconds: float,
) -> bool:
    """Poll the feed server's state until `done(state)` or `seconds` pass; fail if a worker
    exits."""
    deadline = time.monotonic() + seconds
    while True:
        for bot in workers:
            bot.check_alive()
        if done(await control.call("state")):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.5)


def table(results: list[Result]) -> None:
    """The figures, one line per run, and the parse-heavy ratio."""
    print(
        f"{'scenario':<12} {'workers':>7} {'feeds':>6} {'interval':>8} {'polls/feed/int':>14} "
        f"{'lag p50':>7} {'polls/s':>8} {'parsed/s':>8} {'alerts':>6} {'dup posts':>9} "
        f"{'lost':>5} {'cores: nkru / PG / feeds / all':>30}"
    )
    for r in results:
        plan = r.run.plan
        lag = "-" if r.lag_p50 is None else f"{r.lag_p50:.2f}s"
        print(
            f"{r.run.name:<12} {r.run.workers:>7} {plan.feeds:>6} {plan.interval:>7g}s "
            f"{r.per_feed_interval:>14.2f} {lag:>7} {r.polls_per_second:>8.1f} "
            f"{r.parsed_per_second:>8.1f}"
            f" {r.published:>6} {r.duplicates:>9} {r.lost:>5} {cores(r):>30}"
        )
    heavy = {r.run.workers: r.parsed_per_second for r in results if r.run.name == "parse-heavy"}
    if heavy.get(1) and 2 in heavy:
        print(f"parse-heavy throughput, 2 workers ÷ 1 worker: {heavy[2] / heavy[1]:.2f}")


def cores(result: Result) -> str:
    """The window's cores busy: the workers / PostgreSQL / the feed server / the machine."""
    found = result.cores
    if not found:
        return "-"
    return " / ".join(f"{found[part]:.2f}" for part in ("nkru", "postgres", "feeds", "machine"))


def runs(args: argparse.Namespace) -> list[Run]:
    """The steady runs for 1-3 workers, then the parse-heavy pair."""
    nkru = nkru_script(args.nkru)
    if args.quick:
        steady = Plan(feeds=100, hosts=20, interval=6, changing=0.05, matching=1.0)
        heavy = Plan(feeds=300, hosts=20, interval=2, changing=1.0, matching=0.0)
        steady_intervals, heavy_intervals, heavy_warmup = 3, 5, 8.0
    else:
        steady = Plan(
            feeds=args.feeds, hosts=50, interval=args.interval, changing=0.05, matching=1.0
        )
        heavy = Plan(feeds=1000, hosts=50, interval=4, changing=1.0, matching=0.0)
        steady_intervals, heavy_intervals, heavy_warmup = args.intervals, 10, 30.0
    url, keep = args.database_url, args.keep
    found = [
        Run("steady", n, steady, steady_intervals, 60, 3 * steady.interval + 10, nkru, url, keep)
        for n in args.workers
    ]
    # Parse-heavy: more polls are due than one process can make, so warm-up never completes;
    # a short one gets the chains going, then the window measures the throughput.
    found += [
        Run("parse-heavy", n, heavy, heavy_intervals, 0, heavy_warmup, nkru, url, keep)
        for n in (1, 2)
    ]
    return found


async def main(args: argparse.Namespace) -> None:
    results = []
    for run in runs(args):
        results.append(await measure(run))
        last = results[-1]
        progress(
            f"{run.name}, {run.workers} worker(s): {last.per_feed_interval:.2f} polls per feed "
            f"per interval, {last.polls_per_second:.1f} polls/s, {last.duplicates} duplicate "
            f"posts, {last.lost} lost of {last.published}"
        )
    table(results)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs, about 3 minutes")
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="a database on the PostgreSQL server to use (its own is created beside it)",
    )
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--interval", type=float, default=60.0, help="poll interval, seconds")
    parser.add_argument("--intervals", type=int, default=10, help="intervals in the window")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--nkru", help="the nkru console script (default: beside this Python)")
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders")
    return parser.parse_args()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(main(arguments()))
    except BenchmarkError as exc:
        sys.exit(f"scaleout: {exc}")
