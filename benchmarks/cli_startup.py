"""How long an `nkru` command takes as a whole process, against the bare interpreter.

Run: .venv/bin/python benchmarks/cli_startup.py [--rounds 15]

Times, from outside, whole processes of:

* `nkru --help`, `nkru latest` and `nkru feeds list` (the console script installed next to
  this interpreter, else `python -m bot`), on a temporary SQLite database seeded through the
  real ingest with a feed and 200 synthetic articles (stories matched against the bundled
  watchlist), migrated before the first round;
* `python -c "import <libraries>"`: the libraries `nkru latest` and `nkru feeds list` cannot
  do without (SQLAlchemy's asyncio engine, pydantic-settings, typer, rich), our code aside;
* `python -c "import typer"`: what any typer CLI costs before it does anything;
* `python -c pass`: the bare interpreter.

The commands run interleaved, round-robin (each round starts one further along the list), so a
busy machine slows them all alike; every run must exit 0. For each: min, median and max wall
time, and the median of its per-round ratios to the bare interpreter, to `import typer` and to
the libraries' floor.
The table goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._synthetic import SEED, headlines  # noqa: E402
from bot.core.models import NewArticle  # noqa: E402
from bot.core.poll.ingest import AlertPolicy, ingest  # noqa: E402
from bot.core.records import NewFeed  # noqa: E402
from bot.core.story_cache import StoryCache  # noqa: E402
from bot.core.theme_hits import WatchlistMatcher  # noqa: E402
from bot.settings import normalize_database_url  # noqa: E402
from storage.engine import Store  # noqa: E402

ARTICLES = 200
FEED_URL = "http://127.0.0.1:9/wire.xml"  # never fetched: nothing here polls
BARE, TYPER = "python -c pass", "python -c 'import typer'"
# What a command that reads the database cannot do without, whatever our code does: SQLAlchemy's
# asyncio engine (it imports the ORM), the settings (pydantic-settings), typer and rich's tables.
LIBRARIES = "sqlalchemy.ext.asyncio, pydantic_settings, typer, rich.table"
FLOOR = "python -c 'import <libraries>'"


def nkru() -> list[str]:
    """The installed `nkru` console script next to this interpreter, else `python -m bot`."""
    script = Path(sys.executable).with_name("nkru")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot"]


def commands() -> dict[str, list[str]]:
    """What is timed, by the name the table shows."""
    cli = nkru()
    return {
        "nkru --help": [*cli, "--help"],
        "nkru latest": [*cli, "latest"],
        "nkru feeds list": [*cli, "feeds", "list"],
        FLOOR: [sys.executable, "-c", f"import {LIBRARIES}"],
        TYPER: [sys.executable, "-c", "import typer"],
        BARE: [sys.executable, "-c", "pass"],
    }


def environment(folder: Path) -> dict[str, str]:
    """The caller's environment without NKRU_* settings, plus a database and feeds of its own."""
    feeds = folder / "feeds.toml"
    feeds.write_text(f'[[feed]]\nname = "Wire"\nurl = "{FEED_URL}"\n', "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NKRU_")}
    return env | {
        "NKRU_DATABASE_URL": f"sqlite:///{folder / 'nkru.db'}",
        "NKRU_FEEDS_FILE": str(feeds),
        "NKRU_WATCHLISTS": str(ROOT / "watchlists"),
        "NKRU_LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
    }


def article(feed_id: int, n: int, text: tuple[str, str], now: datetime) -> NewArticle:
    """The n-th synthetic article, published n minutes ago."""
    title, summary = text
    return NewArticle(
        feed_id=feed_id,
        item_key=f"item-{n}",
        guid=f"item-{n}",
        url=f"https://wire.example/{n}",
        title=title,
        summary=summary,
        published_at=now - timedelta(minutes=n),
        fetched_at=now,
        content_hash=f"h{n}",
        source_name="Wire",
    )


async def seed(url: str) -> None:
    """A feed and ARTICLES synthetic articles through the real ingest (themes matched)."""
    now = datetime.now(UTC)
    store = await Store.open(normalize_database_url(url))
    try:
        async with store.transaction() as conn:
            feed = await conn.feeds.add(NewFeed(FEED_URL, "Wire", 900), now)
        matcher = WatchlistMatcher.load(ROOT / "watchlists")
        texts = headlines(ARTICLES, SEED)
        articles = [article(feed.id, n, text, now) for n, text in enumerate(texts)]
        async with store.transaction() as conn:
            await ingest(
                conn,
                articles,
                now,
                AlertPolicy(destinations=()),
                cache=StoryCache(),
                matcher=matcher,
            )
    finally:
        await store.close()


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one whole process; it must exit 0."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def measure(rounds: int, env: dict[str, str], cwd: Path) -> dict[str, list[float]]:
    """Every command once per round, the order rotated by one each round; one warm-up round."""
    todo = commands()
    names = list(todo)
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up: disk caches, .pyc files
        run_once(todo[name], env, cwd)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(run_once(todo[name], env, cwd))
        print(f"round {index + 1}/{rounds}", file=sys.stderr)
    return times


def table(times: dict[str, list[float]]) -> str:
    """Min/median/max in milliseconds and the median per-round ratio to each reference."""

    def ratio(name: str, reference: str) -> float:
        return statistics.median(a / b for a, b in zip(times[name], times[reference], strict=True))

    rounds = len(times[BARE])
    lines = [
        f"whole-process wall time, {rounds} rounds interleaved (ms); ratios: median per round",
        f"{'command':<32}{'min':>8}{'median':>8}{'max':>8}{'x bare':>9}{'x typer':>9}"
        f"{'x floor':>9}",
    ]
    for name, values in times.items():
        low, mid, high = (1000 * v for v in (min(values), statistics.median(values), max(values)))
        lines.append(
            f"{name:<32}{low:>8.0f}{mid:>8.0f}{high:>8.0f}"
            f"{ratio(name, BARE):>9.1f}{ratio(name, TYPER):>9.1f}{ratio(name, FLOOR):>9.1f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Seed a database, time the commands, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nkru-startup-") as tmp:
        folder = Path(tmp)
        env = environment(folder)
        asyncio.run(seed(env["NKRU_DATABASE_URL"]))
        print(table(measure(args.rounds, env, folder)))


if __name__ == "__main__":
    main()
