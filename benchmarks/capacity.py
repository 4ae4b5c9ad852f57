"""Capacity of `nkru run`: many feeds polled on schedule, new items to chat posts, from outside.

Run ``.venv/bin/python benchmarks/capacity.py --quick`` (200 feeds every 4 s, about 40 s), or
e.g. ``--feeds 1000 --interval 10`` or ``--feeds 10000 --rate 167``. Without options it runs
N = 1,000, 10,000 and 100,000 feeds at the issue's aim rate, 167 polls/s (100,000 feeds every
10 minutes), which takes hours. Progress goes to stderr, the table to stdout.

Per N, the real ``nkru run`` (the installed console script, this checkout first on
PYTHONPATH, SQLite in a temporary folder or ``--database-url``) polls N feeds served from
another process (benchmarks/_capacity_server.py): ~20 items each, ETag/304, on 100 loopback
addresses (the bot limits requests per host). Once every feed has been fetched once (the flood
guard stores first fetches silently), the steady-state window opens: for ``--intervals``
intervals, ``--changing`` of the feeds per interval get a new item (at random moments; the
server records when), which the default watchlist matches, and every matched alert is routed
to a fake Slack Web API (tests/fakes/slack_api.py) that timestamps each post.

Figures (aims from the issue):
* start-up to first poll: process start → the first request at the feed server.
* polls achieved ÷ scheduled: requests per feed in the window, at most one per interval,
  ÷ N x intervals (≥ 0.99).
* due-to-fetch lag: arrival of a request − (arrival of the feed's previous request +
  interval): the bot schedules a feed's next poll at its poll's clock reading + the interval
  (jitter set to 0 so due is exact). p95 ≤ 5 s.
* new item → chat post, from its fetch: first post naming the item − the first 200 that
  carried it: the bot's own latency (parse, store, match, outbox, Slack). p95 ≤ 5 s. From its
  publication it also includes the wait for the next poll (up to an interval). An item never
  posted counts as infinitely late.
* largest stall: the bot's own loop-lag probe (bot.loop_watch: a 20 ms timer, how late it
  fires), read from /healthz, which is asked every second (its worst answer time is printed
  too, as an informative figure): the largest since the HTTP listener opened, and the largest
  in the window (the watch keeps stalls of 50 ms or more). ≤ 100 ms. Beside it, the slowest
  answer of an HTTP probe in a process of its own (so the benchmark's own work cannot delay
  it): GET of an unrouted path on the bot's listener (NKRU_HTTP_PORT) every 20 ms, answered
  from the event loop without touching the database (a redirect to the web panel's sign-in
  page, not followed). It also counts what is not the loop: the probe's own process waiting
  for a core, the kernel's hand-over of the connection.
* CPU per poll: utime + stime from /proc/<pid>/stat of the main process (and its children,
  the parser workers, sampled every second), ÷ requests at the server.
* peak RSS: VmHWM of the main process, and the sum of the children's.
* near-identical titles: in process (benchmarks/_capacity_near.py), ingest time of 10,000
  near-identical items ÷ 10,000 distinct ones (≤ 2).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._capacity_bot import BenchmarkError, nkru_script
from benchmarks._capacity_near import NearResult, run_near_identical
from benchmarks._capacity_report import machine, print_table
from benchmarks._capacity_run import STOPPING, Outcome, Scenario, progress, run_scenario
from benchmarks._capacity_server import Plan

AIM_RATE = 100_000 / 600  # the scenario: 100,000 feeds every 10 minutes
# --quick: small enough for well under a minute (start-up and warm-up take ~15 s of it).
QUICK_FEEDS, QUICK_INTERVAL, QUICK_WINDOW, QUICK_DRAIN, QUICK_GRACE = 200, 4, 12, 5.0, 3.0


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200 feeds at 4 s, 1,000 items")
    parser.add_argument("--feeds", default="1000,10000,100000", help="N, comma-separated")
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument("--interval", type=int, help="poll interval in seconds, for every N")
    timing.add_argument(
        "--rate",
        type=float,
        default=AIM_RATE,
        help="polls/s: interval = N / rate, rounded to whole seconds (default 166.7)",
    )
    parser.add_argument(
        "--changing", type=float, default=0.1, help="share of feeds changed per interval"
    )
    parser.add_argument(
        "--matching", type=float, default=1.0, help="share of new items on the watchlist"
    )
    parser.add_argument(
        "--intervals", type=int, help="window length in intervals (default ≥ 3, ≥ 30 s)"
    )
    parser.add_argument(
        "--hosts", type=int, default=100, help="loopback addresses serving feeds (≤ 250)"
    )
    parser.add_argument("--warmup", type=float, help="longest warm-up: every feed polled twice (s)")
    parser.add_argument("--startup-timeout", type=float, help="longest wait for the first poll (s)")
    parser.add_argument("--drain", type=float, help="longest wait for the window's posts (s)")
    parser.add_argument(
        "--near-identical", type=int, help="items per set (10,000; --quick 1,000); 0 skips"
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of SQLite")
    parser.add_argument("--nkru", help="the nkru console script (default: beside this Python)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NKRU_X=VALUE", help="more bot settings"
    )
    return parser.parse_args()


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """One scenario per N, as the options say."""
    try:
        counts = [int(n.replace("_", "")) for n in args.feeds.split(",") if n.strip()]
    except ValueError:
        raise BenchmarkError(f"--feeds {args.feeds!r}: write numbers, e.g. 1000,10000") from None
    extra = dict(item.split("=", 1) for item in args.env if "=" in item)
    if bad := [item for item in args.env if "=" not in item or not item.startswith("NKRU_")]:
        raise BenchmarkError(f"--env {bad[0]!r}: write NKRU_SETTING=value")
    if not 0 <= args.changing <= 1 or not 0 <= args.matching <= 1:
        raise BenchmarkError("--changing and --matching are shares between 0 and 1")
    if min(counts, default=0) < 1 or (args.interval or 1) < 1 or args.rate <= 0:
        raise BenchmarkError("--feeds, --interval and --rate must be positive")
    if args.intervals is not None and args.intervals < 1:
        raise BenchmarkError("--intervals must be at least 1")
    script = nkru_script(args.nkru)
    if args.quick:
        counts, args.interval = [QUICK_FEEDS], args.interval or QUICK_INTERVAL
    made = []
    for feeds in counts:
        interval = args.interval or max(1, round(feeds / args.rate))
        shortest = QUICK_WINDOW if args.quick else 30
        intervals = args.intervals or max(3, math.ceil(shortest / interval))
        plan = Plan(
            feeds, max(1, min(args.hosts, 250, feeds)), interval, args.changing, args.matching
        )
        warmup = args.warmup or 60 + feeds * 0.05
        drain = args.drain if args.drain is not None else interval + 30.0
        drain = QUICK_DRAIN if args.quick and args.drain is None else drain
        made.append(
            Scenario(
                plan,
                intervals,
                warmup,
                drain,
                args.database_url,
                script,
                extra,
                keep=args.keep,
                startup_timeout=args.startup_timeout or 120 + feeds * 0.01,
                stop_grace=QUICK_GRACE if args.quick else 10.0,
            )
        )
    return made


async def main_async(
    args: argparse.Namespace, failures: list[str]
) -> tuple[list[Outcome], NearResult | None]:
    """Every scenario, then the near-identical titles; SIGTERM ends it like Ctrl+C. A scenario
    that fails (the bot exits early, never polls) is added to `failures` and the next runs."""
    task = asyncio.current_task()
    assert task is not None

    def stop() -> None:
        progress("SIGTERM: stopping the children")
        STOPPING.set()
        task.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    outcomes = []
    for scenario in scenarios(args):
        plan = scenario.plan
        progress(f"N = {plan.feeds:,} feeds every {plan.interval:.0f} s on {plan.hosts} hosts")
        try:
            outcomes.append(await run_scenario(scenario))
        except BenchmarkError as exc:
            if STOPPING.is_set():
                raise
            progress(f"N = {plan.feeds:,} failed: {exc}")
            failures.append(f"N = {plan.feeds:,}: {exc}")
    near = None
    count = args.near_identical
    if count is None:
        count = 1_000 if args.quick else 10_000
    if count > 0:
        progress(f"near-identical titles: {count:,} items per set")
        with tempfile.TemporaryDirectory(prefix="nkru-capacity-near-") as tmp:
            near = await run_near_identical(count, Path(tmp))
    return outcomes, near


def main() -> None:
    """Entry point."""
    args = parse_args()
    header = machine("PostgreSQL" if args.database_url else "sqlite")
    header.append(
        (
            "scenario",
            f"{args.changing:.0%} of the feeds get a new item per interval, {args.matching:.0%} "
            f"of them on the watchlist; alerts to one Slack channel; jitter 0",
        )
    )
    failures: list[str] = []
    try:
        outcomes, near = asyncio.run(main_async(args, failures))
    except BenchmarkError as exc:
        sys.exit(f"error: {exc}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("interrupted: every child process was stopped")
    print_table(header, outcomes, near)
    for failure in failures:
        print(f"\nfailed: {failure}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
