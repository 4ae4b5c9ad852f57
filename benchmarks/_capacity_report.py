"""The capacity benchmark's table: the machine, then one column per N with each figure's aim."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
from pathlib import Path

from benchmarks._capacity_figures import percentile
from benchmarks._capacity_near import NearResult
from benchmarks._capacity_run import Outcome


def machine(database: str) -> list[tuple[str, str]]:
    """CPU, cores, load average at start, versions."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    try:
        load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} logical, {usable} usable"),
        ("load average at start", f"{load} (1/5/15 min)"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("database", database if database != "sqlite" else f"SQLite {sqlite3.sqlite_version}"),
    ]


def _s(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return "never" if math.isinf(value) else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:,.0f} ms"


def _verdict(value: float | None, limit: float, *, at_least: bool = False) -> str:
    if value is None:
        return ""
    return " ok" if (value >= limit if at_least else value <= limit) else " MISSED"


def _quantiles(values: list[float], missing: int = 0) -> tuple[float | None, float | None]:
    return percentile(values, 0.5, missing), percentile(values, 0.95, missing)


def rows(outcome: Outcome) -> dict[str, str]:
    """Each figure of one scenario, by row label."""
    plan, polls, lat = outcome.scenario.plan, outcome.polls, outcome.latency
    window = outcome.window
    ratio = polls.achieved / polls.scheduled if polls.scheduled else None
    lag50, lag95 = _quantiles(polls.lags, polls.never_polled)
    fetch50, fetch95 = _quantiles(lat.from_fetch, lat.missing)
    pub50, pub95 = _quantiles(lat.from_publication, lat.missing)
    probe, healthz = outcome.loop_probe, outcome.healthz
    worst = probe.worst() if probe else None
    stall = worst[1] if worst else None
    started = outcome.first_request - (outcome.startup or 0.0)  # the bot's start
    when = f" (at {worst[0] - started:.0f} s)" if worst else ""
    worst_steady = probe.worst(window.start, window.end) if probe and window else None
    steady = worst_steady[1] if worst_steady else None
    worst_health = healthz.worst() if healthz else None
    watched = healthz.worst_loop_stall() if healthz else None
    watched_steady = (
        healthz.worst_loop_stall(window.start, window.end) if healthz and window else None
    )
    watched_when = f" (at {watched[0] - started:.0f} s)" if watched else ""
    # The watch keeps stalls of 50 ms or more: none in the window means none that long.
    steady_watched = watched_steady[1] if watched_steady else None
    cpu_main, cpu_children = outcome.cpu_window
    total_main, total_children = outcome.cpu_total
    per = polls.in_window or 1
    server95 = percentile(polls.server_seconds, 0.95)
    scheduled = plan.feeds / plan.interval
    warmup = f"{_s(outcome.first_round, 1)} / {_s(outcome.warmup, 1)} s"
    warmup += "" if outcome.warmup_complete else " (cut short)"
    return {
        "interval; polls scheduled": f"{plan.interval:.0f} s; {scheduled:,.1f}/s",
        "start-up to first poll": f"{_s(outcome.startup, 1)} s"
        + (_verdict(outcome.startup, 10.0) if plan.feeds >= 100_000 else ""),
        "every feed polled once / twice after": warmup,
        "polls achieved ÷ scheduled": f"{_s(ratio, 3)} ({polls.achieved:,}/{polls.scheduled:,})"
        + _verdict(ratio, 0.99, at_least=True),
        "due-to-fetch lag p50 / p95": f"{_s(lag50)} / {_s(lag95)} s" + _verdict(lag95, 5.0),
        "  max lag; polls due / never made": f"{_s(max(polls.lags, default=None))} s; "
        f"{len(polls.lags) + polls.never_polled:,} / {polls.never_polled:,}",
        "new item → post p50 / p95 (from its fetch)": f"{_s(fetch50)} / {_s(fetch95)} s"
        + _verdict(fetch95, 5.0),
        "  from its publication (incl. wait for poll)": f"{_s(pub50)} / {_s(pub95)} s",
        "  items posted / published in window": f"{lat.posted:,}/{lat.published:,}"
        + (f" ({lat.as_update} only as an edit)" if lat.as_update else ""),
        "largest stall (bot's loop watch) run / steady": f"{_ms(watched[1] if watched else None)}"
        f"{watched_when} / {_ms(steady_watched) if steady_watched else '< 50 ms'}"
        + _verdict(watched[1] if watched else None, 0.1),
        "  slowest answer of the HTTP probe run / steady": f"{_ms(stall)}{when} / {_ms(steady)}",
        "  worst /healthz answer (every 1 s)": _ms(worst_health[1] if worst_health else None),
        "main CPU per poll steady / whole run": f"{cpu_main / per * 1000:.2f} / "
        f"{total_main / (polls.total or 1) * 1000:.2f} ms",
        "children CPU per poll steady / whole run": f"{cpu_children / per * 1000:.2f} / "
        f"{total_children / (polls.total or 1) * 1000:.2f} ms",
        "peak RSS main / children (sum)": f"{outcome.rss[0]:,.0f} / {outcome.rss[1]:,.0f} MiB",
        "bot's exit code (SIGTERM, -9: killed)": str(outcome.bot_exit),
        "answers in window: 200 / 304": f"{polls.statuses[200]:,} / {polls.statuses[304]:,}",
        "  feed server time per answer p95": _ms(server95),
    }


AIMS = {
    "start-up to first poll": "≤ 10 s with 100,000 feeds",
    "polls achieved ÷ scheduled": "≥ 0.99",
    "due-to-fetch lag p50 / p95": "p95 ≤ 5 s",
    "new item → post p50 / p95 (from its fetch)": "p95 ≤ 5 s",
    "largest stall (bot's loop watch) run / steady": "≤ 100 ms",
}


def print_table(
    header: list[tuple[str, str]], outcomes: list[Outcome], near: NearResult | None
) -> None:
    """The whole report on stdout."""
    width = max(len(label) for label, _ in header) + 2
    for label, value in header:
        print(f"{label:<{width}}{value}")
    if outcomes:
        table = [rows(outcome) for outcome in outcomes]
        labels = list(table[0])
        first = max(len(label) for label in labels) + 2
        columns = [max(len(r[label]) for label in labels) + 2 for r in table]
        title = "".join(
            f"{f'N = {o.scenario.plan.feeds:,}':>{w}}"
            for o, w in zip(outcomes, columns, strict=True)
        )
        print()
        print(f"{'':<{first}}{title}   aim")
        for label in labels:
            cells = "".join(f"{r[label]:>{w}}" for r, w in zip(table, columns, strict=True))
            print(f"{label:<{first}}{cells}   {AIMS.get(label, '')}".rstrip())
    if near is not None:
        print()
        print(
            f"near-identical titles: {near.count:,} near-identical items {near.near.seconds:.2f} s"
            f" ÷ {near.count:,} distinct {near.distinct.seconds:.2f} s = {near.ratio:.2f}"
            f"{_verdict(near.ratio, 2.0)}   aim ≤ 2"
        )
        print(
            f"  stories: near-identical {near.near.new_stories:,} new + {near.near.joined:,} joined"
            f", {near.near.alerts:,} alerts queued (edits); distinct {near.distinct.new_stories:,}"
            f" new, {near.distinct.alerts:,} alerts queued"
        )
