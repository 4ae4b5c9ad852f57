"""The `nkru` command against feeds served by this test's event loop.

Commands run in this process (typer's CliRunner, in a worker thread so that the event loop keeps
serving the feeds); what only a real process shows (the installed entry point, which modules a
command imports) runs `python -m bot` in a child process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import REPO_ROOT
from tests.fakes.feed_server import FeedServer
from tests.processes import run_process

TITLES = [
    "Russia and North Korea open Tumen road bridge",
    "Lavrov meets Choe Son Hui in Moscow",
    "Мост через реку Туманную открыт для грузовиков",
]


def rss(titles: list[str], prefix: str) -> bytes:
    now = format_datetime(datetime.now(UTC), usegmt=True)
    items = "".join(
        f"<item><guid>{prefix}-{n}</guid><title>{title}</title>"
        f"<link>https://{prefix}.example/{n}</link><pubDate>{now}</pubDate></item>"
        for n, title in enumerate(titles)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{prefix}</title>{items}</channel></rss>"
    ).encode()


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass
class Nkru:
    """Runs `nkru ...` with this test's settings, without blocking the event loop."""

    cwd: Path
    env: dict[str, str]
    # One command at a time: the runner swaps sys.stdout, os.environ and the working directory.
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def __call__(self, *args: str, **env: str) -> Result:
        """The command in this process; an exception it does not handle fails the test."""
        async with self._turn:
            return await asyncio.to_thread(self._invoke, list(args), self.env | env)

    async def process(self, *args: str, **env: str) -> Result:
        """The command as a child process, `python -m bot ...` (killed if it overruns)."""
        done = await run_process(
            sys.executable, "-m", "bot", *args, cwd=self.cwd, env=self.env | env
        )
        assert "Traceback" not in done.err, done.err
        return Result(done.code, done.out, done.err)

    def _invoke(self, args: list[str], env: dict[str, str]) -> Result:
        changed: dict[str, str | None] = {k: None for k in os.environ if k not in env}
        changed |= {k: v for k, v in env.items() if os.environ.get(k) != v}
        with contextlib.chdir(self.cwd), logging_restored():
            result = CliRunner().invoke(app, args, env=changed)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Undo the logging set-up a command does (`load`: its handler, levels) when it ends."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    named = {
        name: logging.getLogger(name).level for name in ("apscheduler", "alembic", "aiohttp.access")
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, was in named.items():
            logging.getLogger(name).setLevel(was)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.add_feed("/wire.xml", rss(TITLES, "wire"))
        srv.add_feed("/second.xml", rss(["Rail freight from Khasan doubles"], "second"))
        yield srv


def nkru_in(tmp_path: Path, feed: str, columns: int = 200) -> Nkru:
    """`nkru` in `tmp_path` with its own SQLite database, one feed line and the default
    watchlist, and none of the caller's NKRU_* settings."""
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nname = "Wire"\n{feed}\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NKRU_")}
    env |= {
        "NKRU_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "NKRU_FEEDS_FILE": str(feeds),
        "NKRU_WATCHLISTS": str(REPO_ROOT / "watchlists"),
        "NKRU_LOG_LEVEL": "WARNING",
        "COLUMNS": str(columns),  # rich wraps tables at 80 columns when not on a terminal
    }
    return Nkru(tmp_path, env)


@pytest.fixture
def nkru(tmp_path: Path, server: FeedServer) -> Nkru:
    return nkru_in(tmp_path, f'url = "{server.url("/wire.xml")}"\ninterval = "15m"')


def feed_rows(table: str) -> dict[str, str]:
    """The row of each feed in a `feeds status` table, by feed name."""
    return {
        name: line
        for line in table.splitlines()
        for name in ("Wire", "Second")
        if f" {name} " in line
    }


def error_line(result: Result) -> str:
    """The single line a failing command prints on stderr."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


async def test_poll_once_then_latest_and_search(nkru: Nkru, server: FeedServer) -> None:
    polled = await nkru("poll", "--once")
    assert polled.code == 0, polled.err
    assert "poll summary" in polled.out
    row = next(line for line in polled.out.splitlines() if "Wire" in line)
    assert "fetched (flood guard: stored, not alerted)" in row
    assert [cell.strip() for cell in row.strip("│ ").split("│")][2:4] == ["3", "0"]
    assert server.hits("/wire.xml") == 1

    latest, every, two, found, cyrillic, phrase, missed = await asyncio.gather(
        nkru("latest", "-n", "5"),
        nkru("latest", "--all", "-n", "5"),
        nkru("latest", "--all", "-n", "2"),
        nkru("search", "tumen"),
        nkru("search", "МОСТУ грузовик"),  # every word, in any form, case, script
        nkru("search", '"road bridges" russia'),  # a phrase and a word
        nkru("search", "zanzibar"),
    )
    assert latest.code == 0, latest.err
    # By default the stories that matched the watchlist, as in chat; --all: every stored one.
    assert TITLES[0] in latest.out and TITLES[1] in latest.out
    assert TITLES[2] not in latest.out  # no theme of the watchlist matched it
    for title in TITLES:
        assert title in every.out
    assert "https://wire.example/0" in latest.out
    assert sum(title in two.out for title in TITLES) == 2
    assert found.code == 0
    assert TITLES[0] in found.out and TITLES[1] not in found.out
    assert "Wire ·" in found.out and "https://wire.example/0" in found.out
    assert TITLES[2] in cyrillic.out and TITLES[0] not in cyrillic.out
    assert TITLES[0] in phrase.out and TITLES[2] not in phrase.out
    assert missed.code == 0
    assert missed.out.strip() == (
        "Search: zanzibar\nNo stored article contains every word of: zanzibar"
    )

    again = await nkru("poll", "--once")  # conditional GET: nothing new, nothing re-alerted
    row = next(line for line in again.out.splitlines() if "Wire" in line)
    assert "not_modified" in row
    assert server.requests[-1].headers.get("If-None-Match")


async def test_feeds_commands(nkru: Nkru, server: FeedServer) -> None:
    listed = await nkru("feeds", "list")
    assert listed.code == 0
    assert "Wire" in listed.out and server.url("/wire.xml") in listed.out and "15m" in listed.out

    added = await nkru("feeds", "add", server.url("/second.xml"), "Second", "--interval", "2h")
    assert added.code == 0, added.err
    assert added.out.strip() == (
        f"added feed #2 Second ({server.url('/second.xml')}), polled every 7200s"
    )

    duplicate, not_http, bad_interval, polled = await asyncio.gather(
        nkru("feeds", "add", server.url("/wire.xml") + "?utm_source=x"),
        nkru("feeds", "add", "ftp://example.org/feed"),
        nkru("feeds", "add", server.url("/x.xml"), "--interval", "soon"),
        nkru("poll", "--once"),
    )
    assert error_line(duplicate) == (
        "error: feed #1 already has this URL (Wire) — see `nkru feeds list`"
    )
    assert "is not an http(s) URL" in error_line(not_http)
    assert error_line(bad_interval).startswith("error: --interval: 'soon' is not a duration")
    assert "Second" in polled.out

    disabled = await nkru("feeds", "disable", "2")
    assert disabled.out.strip() == "feed #2 Second disabled"
    status, polled = await asyncio.gather(nkru("feeds", "status"), nkru("poll", "--once"))
    assert "Second" not in polled.out and "Wire" in polled.out  # disabled: not polled
    rows = feed_rows(status.out)
    assert " ok " in rows["Wire"] and " 3 " in rows["Wire"]
    assert "disabled" in rows["Second"] and "disabled by an admin" in rows["Second"]
    assert " 1 " in rows["Second"]

    enabled = await nkru("feeds", "enable", server.url("/second.xml"))
    assert enabled.out.strip() == "feed #2 Second enabled"
    rows = feed_rows((await nkru("feeds", "status")).out)
    assert " ok " in rows["Second"] and "disabled" not in rows["Second"]

    removed = await nkru("feeds", "remove", "2")
    assert removed.out.strip() == "removed feed #2 Second"
    listed, searched, missing = await asyncio.gather(
        nkru("feeds", "list"), nkru("search", "khasan"), nkru("feeds", "remove", "2")
    )
    assert "Second" not in listed.out and "Wire" in listed.out
    assert "Rail freight from Khasan" in searched.out  # its articles stay searchable
    assert error_line(missing) == "error: no feed '2' — see `nkru feeds list` for ids and URLs"


async def test_feeds_add_refuses_bad_addresses_and_intervals_out_of_range(
    nkru: Nkru, server: FeedServer
) -> None:
    second = server.url("/second.xml")
    range_error = "is out of range: a feed's interval must be from 1 minute to 7 days (1m to 7d)"
    cases = [
        ([second, "--interval", "99999999d"], f"error: --interval: '99999999d' {range_error}"),
        ([second, "--interval", "0"], f"error: --interval: '0' {range_error}"),
        ([second, "--interval", "30s"], f"error: --interval: '30s' {range_error}"),
        (["http://exa mple.com/"], "error: 'http://exa mple.com/' contains a space or control"),
        (["http://exa_mple.com/rss"], "error: 'http://exa_mple.com/rss' has no valid host name"),
        (["example.com/rss"], "error: 'example.com/rss' is not a full URL: write it starting"),
    ]
    for args, expected in cases:
        assert error_line(await nkru("feeds", "add", *args)).startswith(expected), args

    listed = await nkru("feeds", "list")
    assert "Wire" in listed.out and second not in listed.out  # nothing was stored
    weekly = await nkru("feeds", "add", second, "--interval", "7d")
    assert weekly.out.strip().endswith("polled every 604800s")


async def test_user_errors_are_one_line_with_exit_code_2(nkru: Nkru, tmp_path: Path) -> None:
    """Bad settings, a bad feed list, a misused command: one stderr line each, no traceback."""
    broken = tmp_path / "broken.toml"
    broken.write_text('[[feed]]\nname = "X"\nurl = "gopher://x"\n', encoding="utf-8")
    weekly = tmp_path / "weekly.toml"
    weekly.write_text('[[feed]]\nname = "X"\nurl = "https://x.example/"\ninterval = "30d"\n')
    blocker = tmp_path / "file"  # a file where the database folder should be
    blocker.write_text("not a folder", encoding="utf-8")
    cases = [
        (["poll", "--once"], {"NKRU_POLL_INTERVAL": "abc"},
         "error: NKRU_POLL_INTERVAL: 'abc' is not a duration: write e.g. 90s, 15m, 2h or 3d"),
        (["latest"], {"NKRU_DATABASE_URL": "mysql://x"},
         "error: NKRU_DATABASE_URL: unsupported database 'mysql'"),
        (["feeds", "list"], {"NKRU_CONFIG": "/nonexistent/nkru.toml"},
         "error: NKRU_CONFIG: '/nonexistent/nkru.toml' does not exist"),
        (["feeds", "list"], {"NKRU_FEEDS_FILE": str(broken)},
         f"error: {broken}: feed #1: `url`: 'gopher://x' is not an http(s) URL"),
        (["feeds", "list"], {"NKRU_FEEDS_FILE": str(weekly)},
         f"error: {weekly}: feed #1 (X): `interval`: '30d' is out of range: a feed's interval"
         " must be from 1 minute to 7 days (1m to 7d)"),
        (["feeds", "list"], {"NKRU_POLL_INTERVAL": "0"},
         "error: NKRU_POLL_INTERVAL: '0' is out of range: a feed's interval must be from 1 minute"),
        (["feeds", "list"], {"NKRU_POLL_INTERVALL": "5m"},
         "error: NKRU_POLL_INTERVALL is not a setting — did you mean NKRU_POLL_INTERVAL?"),
        (["db", "upgrade"], {"NKRU_DATABASE_URL": f"sqlite:///{blocker}/sub/x.db"},
         "error: cannot open the database"),
        (["poll"], {}, "error: `nkru poll` needs --once; use `nkru run`"),
        (["poll", "--once"], {"NKRU_ROUTES": '[{"themes": ["tumen-brige"]}]'},
         "error: NKRU_ROUTES names themes the watchlist does not define: tumen-brige — use one of"),
        # A database of its own: with a watchlist already stored (the other cases run at the
        # same time), a missing file is no reason to stop — the stored version is used.
        (["poll", "--once"], {"NKRU_WATCHLISTS": str(tmp_path / "none"),
                              "NKRU_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"},
         "error: the watchlist cannot be used (NKRU_WATCHLISTS):"),
    ]  # fmt: skip
    results = await asyncio.gather(*(nkru(*args, **env) for args, env, _ in cases))
    for (args, env, expected), result in zip(cases, results, strict=True):
        assert error_line(result).startswith(expected), (args, env, result.err)
        assert result.out == "", (args, result.out)


async def test_demo(nkru: Nkru) -> None:
    result = await nkru("demo")
    assert result.code == 0, result.err
    expected = tomllib.loads((REPO_ROOT / "seeds/demo/expected.toml").read_text("utf-8"))
    assert "ALERT · tumen-bridge" in result.out  # the alert names its theme…
    assert "Tumen" in result.out.split("ALERT · tumen-bridge", 1)[1].split("tumen-bridge", 1)[1]
    for offtopic in expected["offtopic"]:  # …and off-topic items alert nothing
        assert offtopic["title"] not in result.out, offtopic
    assert "articles stored" in result.out
    assert "poll 2" in result.out
    assert ", 1 alert\n" in result.out and ", 1 alerts" not in result.out  # a feed with one
    assert not (nkru.cwd / "x.db").exists()  # the demo uses its own throw-away database


async def test_db_upgrade(nkru: Nkru) -> None:
    first = await nkru("db", "upgrade")
    assert first.code == 0, first.err
    assert "is up to date" in first.out and "x.db" in first.out
    assert (nkru.cwd / "x.db").is_file()
    second = await nkru("db", "upgrade")
    assert second.code == 0 and "is up to date" in second.out


async def test_db_that_cannot_be_opened_is_one_line(nkru: Nkru, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = await nkru("db", "upgrade", NKRU_DATABASE_URL=f"sqlite:///{blocker}/sub/x.db")
    assert error_line(result).startswith("error: cannot open the database")


HELP = [
    [],
    ["run"],
    ["poll"],
    ["demo"],
    ["latest"],
    ["search"],
    ["feeds"],
    ["feeds", "list"],
    ["feeds", "status"],
    ["feeds", "add"],
    ["feeds", "remove"],
    ["feeds", "enable"],
    ["feeds", "disable"],
    ["db"],
    ["db", "upgrade"],
]


@pytest.mark.parametrize("command", HELP, ids=lambda c: " ".join(c) or "nkru")
def test_help_for_every_command(command: list[str]) -> None:
    """In process (each subprocess costs ~1 s of imports); the real binary is checked below."""
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    docstring = {"run": "Run the bot", "poll": "--once", "feeds add": "--interval"}
    assert docstring.get(" ".join(command), "") in result.output


async def test_help_of_the_real_binary(nkru: Nkru) -> None:
    top, feeds_add = await asyncio.gather(
        nkru.process("--help"), nkru.process("feeds", "add", "--help")
    )
    assert top.code == 0 and feeds_add.code == 0
    for command in ("run", "poll", "demo", "latest", "search", "feeds", "db"):
        assert command in top.out
    assert "--interval" in feeds_add.out and "Usage:" in feeds_add.out


async def test_latest_by_theme_status_and_the_wrong_mix_of_options(
    nkru: Nkru, server: FeedServer
) -> None:
    assert (await nkru("poll", "--once")).code == 0
    bridge, option, both, status = await asyncio.gather(
        nkru("latest", "tumen-bridge"),
        nkru("latest", "--theme", "tumen-bridge"),
        nkru("latest", "--theme", "troops", "--all"),
        nkru("status"),
    )
    assert bridge.code == 0 and option.code == 0, bridge.err + option.err
    assert TITLES[0] in bridge.out and TITLES[1] not in bridge.out
    # The same answer ("(1s ago)" may tick between the two commands).
    assert re.sub(r"\(\d+s ago\)", "", bridge.out) == re.sub(r"\(\d+s ago\)", "", option.out)
    assert both.code == 2 and "give a theme or --all, not both" in both.err
    assert status.code == 0, status.err
    assert status.out.splitlines()[:2] == ["Status", "Feeds: 1 ok, 0 failing, 0 disabled"]
    assert "Outbox: 0 alerts waiting to be sent" in status.out


PLATFORM_SDKS = {"discord", "slack_bolt", "slack_sdk"}
# What `nkru --help` needs is typer and rich: the database, settings and HTTP stacks wait for a
# command that uses them.
NOT_FOR_HELP = {"sqlalchemy", "alembic", "pydantic", "aiohttp", "numpy"}
# Reading stored stories and feeds fetches and parses nothing, and finds the schema current: no
# HTTP stack (~100 ms), feed parser, numpy or Alembic.
NOT_FOR_READS = {"aiohttp", "feedparser", "numpy", "alembic"}
# `nkru ARGS…` as the entry point runs it; then, as the last line, its exit code and the
# top-level packages it imported.
PROBE = """
import json, sys
from bot.cli import main
sys.argv = ["nkru", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code or 0
else:
    code = 0
print(json.dumps({"code": code, "loaded": sorted({m.partition(".")[0] for m in sys.modules})}))
"""


async def test_commands_that_never_talk_to_a_platform_never_import_its_sdk(
    nkru: Nkru, server: FeedServer
) -> None:
    """Across the process boundary: what a command imports shows only in a fresh process."""
    assert (await nkru("poll", "--once")).code == 0  # stories for `latest` to print
    commands = [["--help"], ["latest"], ["feeds", "list"]]
    runs = await asyncio.gather(
        *(
            run_process(sys.executable, "-c", PROBE, *command, cwd=nkru.cwd, env=nkru.env)
            for command in commands
        )
    )
    loaded = {}
    for command, run in zip(commands, runs, strict=True):
        assert "Traceback" not in run.err, run.err
        *printed, last = run.out.strip().splitlines()
        report = json.loads(last)
        assert report["code"] == 0, (command, run.err)
        assert printed, command  # the command did its work
        loaded[" ".join(command)] = set(report["loaded"])
    assert TITLES[0] in runs[1].out and "Wire" in runs[2].out
    assert {command: PLATFORM_SDKS & names for command, names in loaded.items()} == {
        "--help": set(),
        "latest": set(),
        "feeds list": set(),
    }
    assert NOT_FOR_HELP & loaded["--help"] == set()
    assert NOT_FOR_READS & (loaded["latest"] | loaded["feeds list"]) == set()


async def test_server_and_user_text_is_never_read_as_markup(nkru: Nkru, server: FeedServer) -> None:
    async def hostile(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, reason="Oops [/] [bold red]x[/bold red]")

    server.add_handler("/hostile.xml", hostile)
    added = await nkru("feeds", "add", server.url("/hostile.xml"), "[/] [red]Hostile")
    assert added.code == 0, added.err
    polled = await nkru("poll", "--once")
    assert "HTTP 500 Oops [/] [bold red]x[/bold red]" in polled.out
    listed, status = await asyncio.gather(nkru("feeds", "list"), nkru("feeds", "status"))
    assert listed.code == 0 and "[/] [red]Hostile" in listed.out
    assert status.code == 0, status.err
    assert "[/] [red]Hostile" in status.out
    assert "HTTP 500 Oops [/] [bold red]x[/bold red]" in status.out


async def test_digest_prints_the_period_by_theme(nkru: Nkru) -> None:
    assert (await nkru("poll", "--once")).code == 0
    await asyncio.sleep(1.1)  # so that the last second (`--since 1s`) holds no story
    digest, empty, bad, unknown = await asyncio.gather(
        nkru("digest", "--since", "3650d"),
        nkru("digest", "--since", "1s"),
        nkru("digest", "--since", "soon"),
        nkru("digest", "--destination", "slack:C999"),
    )
    assert digest.code == 0, digest.err
    assert "DIGEST" in digest.out and "tumen-bridge" in digest.out and "summits" in digest.out
    assert TITLES[0] in digest.out and TITLES[1] in digest.out
    assert empty.code == 0 and "No new stories in this period." in empty.out
    assert error_line(bad).startswith("error: --since: 'soon' is not a duration")
    assert error_line(unknown).startswith("error: no route for 'slack:C999' in NKRU_ROUTES")


async def test_sqlite_users_never_load_the_postgresql_queue_driver() -> None:
    """psycopg (procrastinate's driver) needs libpq, which a machine running on SQLite may not
    have: the wiring imports the job queue only for a PostgreSQL database."""
    check = (
        "import sys, bot.app, storage.engine; "
        "print(sorted({'procrastinate', 'psycopg'} & set(sys.modules)))"
    )
    done = await run_process(sys.executable, "-c", check, cwd=REPO_ROOT, env=dict(os.environ))
    assert done.out.strip() == "[]", done.err


def test_poll_once_shows_feeds_done_of_all_and_the_time_left() -> None:
    """The bar used to pulse with no count: it now has a total, M/N and an estimate."""
    from rich.progress import MofNCompleteColumn, TimeRemainingColumn

    from bot.cli.main import _progress_columns

    kinds = {type(column) for column in _progress_columns()}
    assert {MofNCompleteColumn, TimeRemainingColumn} <= kinds


async def test_poll_all_once_says_how_many_feeds_before_the_first_poll(
    nkru: Nkru, server: FeedServer
) -> None:
    from bot.app import open_runtime, poll_all_once
    from bot.settings import load_settings

    heard: list[object] = []
    settings = load_settings(
        database_url=nkru.env["NKRU_DATABASE_URL"],
        feeds_file=nkru.env["NKRU_FEEDS_FILE"],
        watchlists=nkru.env["NKRU_WATCHLISTS"],
    )
    async with open_runtime(settings) as runtime:
        from bot.app import seed_feeds

        await seed_feeds(runtime)
        reports = await poll_all_once(
            runtime, lambda report: heard.append(report), on_total=lambda n: heard.append(n)
        )
    assert heard[0] == len(reports) == 1 and len(heard) == 2
