"""One capacity scenario: N feeds served, `nkru run` polling them, the figures measured."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks import _capacity_figures as figures
from benchmarks._capacity_bot import (
    ROOT,
    BenchmarkError,
    BotProcess,
    Probe,
    ProcSampler,
    ServerProcess,
    free_port,
    peak_rss_mb,
)
from benchmarks._capacity_server import Plan
from bot.settings import normalize_database_url
from tests.fakes.slack_api import FakeSlackApi

CHANNEL = "C0CAPACITY"
LOOP_PROBE_PERIOD = 0.02  # an unrouted path: aiohttp answers 404 from the loop, no database
# Set by the benchmark's SIGTERM handler besides cancelling: a cancellation that a library
# swallows in a race must not keep the run going.
STOPPING = threading.Event()
HEALTHZ_PERIOD = 1.0  # /healthz reads the database: every 20 ms would load the bot itself


@dataclass(frozen=True, slots=True)
class Scenario:
    """One run's parameters."""

    plan: Plan
    intervals: int  # length of the steady-state window, in intervals
    warmup: float  # longest wait for the warm-up (every feed polled twice)
    drain: float  # longest wait, after the window, for its items to be posted
    database_url: str | None
    nkru: Path
    env: dict[str, str] = field(default_factory=dict)
    keep: bool = False  # keep the temporary folder (to read the bot's log)
    startup_timeout: float = 120.0  # longest wait for the first request
    stop_grace: float = 10.0  # SIGTERM, then SIGKILL: a clean exit is not what is measured


@dataclass(slots=True)
class Outcome:
    """What one scenario measured."""

    scenario: Scenario
    first_request: float = 0.0  # time.monotonic() at the feed server
    startup: float | None = None
    first_round: float | None = None
    warmup: float | None = None  # first request → every feed polled twice (or the cut)
    warmup_complete: bool = False
    polls: figures.Polls = field(default_factory=figures.Polls)
    latency: figures.Latency = field(default_factory=figures.Latency)
    cpu_window: tuple[float, float] = (0.0, 0.0)  # (main, children) seconds in the window
    cpu_total: tuple[float, float] = (0.0, 0.0)
    rss: tuple[float, float] = (0.0, 0.0)  # (main VmHWM, sum of the children's) MiB
    loop_probe: Probe | None = None
    healthz: Probe | None = None
    window: figures.Window | None = None
    bot_exit: int | None = None


def progress(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"... {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


@asynccontextmanager
async def bot_database(url: str | None, folder: Path) -> AsyncIterator[str]:
    """SQLite in `folder`, or the PostgreSQL database `url` (it must be empty; emptied after)."""
    if url is None:
        yield f"sqlite+aiosqlite:///{folder / 'nkru.db'}"
        return
    url = normalize_database_url(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    except Exception as exc:
        await engine.dispose()
        raise BenchmarkError(f"--database-url: cannot connect ({exc})") from exc
    if tables:
        await engine.dispose()
        raise BenchmarkError(
            f"--database-url: the database has tables ({', '.join(sorted(tables)[:5])}…); give "
            "an empty one: the bot creates its tables and the benchmark drops them at the end"
        )
    try:
        yield url
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()


def bot_env(
    scenario: Scenario, folder: Path, db_url: str, slack: FakeSlackApi, port: int
) -> dict[str, str]:
    """The bot's environment: no NKRU_* of ours, only what this run sets."""
    return run_env(scenario.plan.interval, folder, db_url, slack, port) | scenario.env


def run_env(
    interval: float, folder: Path, db_url: str, slack: FakeSlackApi, port: int
) -> dict[str, str]:
    """A loopback `nkru run`'s environment (this benchmark's and benchmarks/scaleout.py's): no
    NKRU_* of ours, the feeds file in `folder`, alerts to the fake Slack, polls every
    `interval` seconds exactly."""
    every = str(int(interval))
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("NKRU_")}
    return inherited | {
        "PYTHONPATH": str(ROOT),
        "NKRU_DATABASE_URL": db_url,
        "NKRU_FEEDS_FILE": str(folder / "feeds.toml"),
        "NKRU_WATCHLISTS": str(ROOT / "watchlists"),
        "NKRU_ROUTES": json.dumps([{"destination": f"slack:{CHANNEL}"}]),
        "NKRU_SLACK_BOT_TOKEN": slack.bot_token,
        "NKRU_SLACK_API_URL": slack.api_url,
        "NKRU_POLL_INTERVAL": every,
        "NKRU_POLL_MIN_INTERVAL": every,  # below 60 s the default minimum would stretch it
        "NKRU_POLL_JITTER": "0",  # so a feed's due time is exactly previous poll + interval
        "NKRU_HTTP_HOST": "127.0.0.1",
        "NKRU_HTTP_PORT": str(port),
    }


def write_feed_list(plan: Plan, port: int, path: Path) -> None:
    """The feeds file the bot seeds its empty database from."""
    with path.open("w", encoding="utf-8") as out:
        for feed in range(plan.feeds):
            out.write(f'[[feed]]\nname = "Capacity {feed}"\nurl = "{plan.url(port, feed)}"\n')


class Control:
    """The feed server's control endpoints."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session, self.base = session, f"http://127.0.0.1:{port}/_control"

    async def call(self, path: str, **query: str) -> dict[str, Any]:
        """GET state, or POST publishing / dump."""
        method = "GET" if path == "state" else "POST"
        async with self.session.request(method, f"{self.base}/{path}", params=query) as resp:
            resp.raise_for_status()
            found: dict[str, Any] = await resp.json()
            return found


async def wait_until(
    bot: BotProcess, done: Callable[[], Awaitable[bool]], until: float, every: float = 0.5
) -> bool:
    """Poll `done` until it holds (True) or `until` passes (False); fail if the bot exits."""
    while True:
        if STOPPING.is_set():
            raise BenchmarkError("interrupted: every child process was stopped")
        bot.check_alive()
        if await done():
            return True
        if time.monotonic() >= until:
            return False
        await asyncio.sleep(every)


async def run_scenario(scenario: Scenario) -> Outcome:
    """Serve, run the bot, measure; every child is stopped and the folder removed."""
    plan, outcome = scenario.plan, Outcome(scenario)
    folder = Path(tempfile.mkdtemp(prefix="nkru-capacity-"))
    try:
        async with (
            ServerProcess(plan.to_json()) as server,
            FakeSlackApi() as slack,
            aiohttp.ClientSession() as session,
            bot_database(scenario.database_url, folder) as db_url,
        ):
            write_feed_list(plan, server.port, folder / "feeds.toml")
            port = free_port()
            env = bot_env(scenario, folder, db_url, slack, port)
            async with BotProcess(scenario.nkru, folder, env) as bot:
                await _measure(outcome, bot, Control(session, server.port), slack, port, folder)
                outcome.bot_exit = await bot.stop(grace=scenario.stop_grace)
            logs = figures.read_logs(folder / "log")
            posts = figures.posts_of(slack.calls)
    finally:
        if scenario.keep:
            progress(f"kept {folder} (the bot's database, output and the server's logs)")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    assert outcome.window is not None
    outcome.polls = figures.polls(logs, plan.feeds, outcome.window)
    outcome.latency = figures.latency(logs, posts, outcome.window)
    if outcome.polls.first_round_end is not None:
        outcome.first_round = outcome.polls.first_round_end - outcome.first_request
    return outcome


async def _measure(
    outcome: Outcome,
    bot: BotProcess,
    control: Control,
    slack: FakeSlackApi,
    port: int,
    folder: Path,
) -> None:
    """Start-up, first round, the steady-state window, the drain; probes throughout."""
    scenario, plan = outcome.scenario, outcome.scenario.plan
    loop_probe = Probe(f"http://127.0.0.1:{port}/capacity-loop-probe", LOOP_PROBE_PERIOD)
    healthz = Probe(f"http://127.0.0.1:{port}/healthz", HEALTHZ_PERIOD)
    outcome.loop_probe, outcome.healthz = loop_probe, healthz
    sampler = ProcSampler(bot.pid)
    running = [True]
    tasks = [
        asyncio.create_task(loop_probe.run_apart()),
        asyncio.create_task(healthz.run_apart()),
        asyncio.create_task(_sample(sampler, lambda: running[0])),
    ]
    state: dict[str, Any] = {}
    reported = [time.monotonic()]

    async def server_state(done: Callable[[], bool]) -> bool:
        state.update(await control.call("state"))
        if time.monotonic() - reported[0] >= 10:
            reported[0] = time.monotonic()
            posted = len(figures.posted_keys(figures.posts_of(slack.calls)))
            progress(
                f"{state['requests']:,} requests, {state['fetched']:,}/{plan.feeds:,} feeds "
                f"fetched ({state['repolled']:,} twice), {state['published']:,} new items "
                f"published, {posted:,} posted"
            )
        return done()

    try:
        started = await wait_until(
            bot,
            lambda: server_state(lambda: state.get("first_request") is not None),
            bot.started_at + scenario.startup_timeout,
        )
        if not started:
            raise BenchmarkError(
                f"no request reached the feed server within {scenario.startup_timeout:.0f} s of "
                "the bot's start (--startup-timeout); the end of its stderr:\n" + bot.tail()
            )
        outcome.first_request = float(state["first_request"])
        outcome.startup = outcome.first_request - bot.started_at
        progress(f"first poll {outcome.startup:.1f} s after start; warming up (every feed twice)")
        # Steady state once every feed has been polled twice: its first fetch (stored silently
        # by the flood guard) is then ingested, since the next poll is set only after it.
        outcome.warmup_complete = await wait_until(
            bot,
            lambda: server_state(lambda: state["repolled"] >= plan.feeds),
            time.monotonic() + scenario.warmup,
        )
        if not outcome.warmup_complete:
            progress(
                f"warm-up cut after {scenario.warmup:.0f} s: {state['fetched']:,} feeds fetched,"
                f" {state['repolled']:,} twice"
            )
        outcome.warmup = time.monotonic() - outcome.first_request
        window = outcome.window = figures.Window(
            time.monotonic(), plan.interval, scenario.intervals
        )
        before = sampler.cpu()
        await control.call("publishing", on="1")
        progress(f"steady state: {scenario.intervals} intervals of {plan.interval:.0f} s")
        await wait_until(bot, lambda: server_state(lambda: False), window.end)
        after = sampler.cpu()
        await control.call("publishing", on="0")
        outcome.cpu_window = (after[0] - before[0], after[1] - before[1])
        await control.call("dump", folder=str(folder / "log"))
        wanted = figures.published_keys(figures.read_logs(folder / "log"), window)
        progress(f"waiting up to {scenario.drain:.0f} s for the window's {len(wanted):,} posts")
        await wait_until(
            bot,
            lambda: server_state(
                lambda: wanted <= figures.posted_keys(figures.posts_of(slack.calls))
            ),
            time.monotonic() + scenario.drain,
        )
        outcome.cpu_total = sampler.cpu()
        outcome.rss = (peak_rss_mb(bot.pid), sum(sampler.child_peak_mb.values()))
        await control.call("dump", folder=str(folder / "log"))
    finally:
        running[0] = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _sample(sampler: ProcSampler, alive: Callable[[], bool]) -> None:
    """Sample the bot's children every second (in a thread: /proc reads block)."""
    while alive():
        with contextlib.suppress(OSError):
            await asyncio.to_thread(sampler.sample)
        await asyncio.sleep(1.0)
