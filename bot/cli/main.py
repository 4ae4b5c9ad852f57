"""The `nkru` command: run the bot, poll once, the demo, and queries on what is stored."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.audit import audit
from bot.cli.feeds import feeds_app
from bot.cli.news import latest, search, status
from bot.cli.support import (
    UserError,
    console,
    escape,
    fail,
    load,
    logging_in_background,
    one_line_errors,
    run_async,
)
from bot.cli.watchlist import match, watchlist_app
from bot.cli.web import web_login

if TYPE_CHECKING:
    from rich.progress import ProgressColumn
    from rich.table import Table

    from bot.app import Runtime
    from bot.core.poll.pipeline import PollReport
    from bot.core.routing import Route
    from bot.settings import Settings

app = typer.Typer(
    help="nkru-monitor: follows North Korea–Russia news and alerts your team.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")
app.add_typer(watchlist_app, name="watchlist")
app.command("match")(match)
app.command("audit")(audit)
app.command("web-login")(web_login)


@app.command()
@run_async
async def run() -> None:
    """Run the bot: poll feeds on schedule and deliver alerts until Ctrl+C / SIGTERM."""
    from bot.app import open_runtime, run_until_stopped, seed_feeds

    # Imported here, not at the top: the chat stack (discord.py, slack-bolt) takes seconds to
    # import, and only the commands that talk to a chat platform (run, poll) should pay for it.
    from bot.chat import chat_platforms

    settings = load()
    with logging_in_background():
        async with open_runtime(settings, chat=chat_platforms("serve")) as runtime:
            # What start-up made so far lives as long as the process: frozen, a full collection
            # never walks it (as `run_until_stopped` does again once the scheduler is up), here
            # before seeding a feed list, whose allocations would start one while the HTTP
            # listener is already answering.
            gc.freeze()
            await seed_feeds(runtime)
            console.print(_started(runtime), highlight=False)
            await run_until_stopped(runtime)


def _started(runtime: Runtime) -> str:
    """One line on what this process serves."""
    chat = runtime.chat
    outputs = ", ".join(sorted(runtime.adapters))
    if chat.listening:
        heard = "; commands: " + ", ".join(chat.listening)
    elif set(runtime.adapters) == {"console"}:
        heard = " (no chat tokens set: alerts print here)"
    else:
        heard = ""
    http = (
        f"; http://{runtime.settings.http_host}:{chat.http_port}/healthz" if chat.http_port else ""
    )
    return (
        f"nkru-monitor: database {escape(_shown(runtime.settings.database_url))}, "
        f"alerts to {escape(outputs)}{escape(heard)}{escape(http)}. Ctrl+C stops."
    )


@app.command()
@run_async
async def poll(
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once, then exit")] = False,
) -> None:
    """Poll every enabled feed once, deliver the alerts found, print a summary."""
    if not once:
        raise UserError("`nkru poll` needs --once; use `nkru run` to keep polling on schedule")
    from rich.progress import Progress

    from bot.app import open_runtime, poll_all_once, seed_feeds

    # Here as in `run`: polling delivers to the chat platforms, whose stack is slow to import.
    from bot.chat import chat_platforms

    settings = load()
    async with open_runtime(settings, chat=chat_platforms("send")) as runtime:
        await seed_feeds(runtime)
        with Progress(*_progress_columns(), console=console, transient=True) as progress:
            task = progress.add_task("polling feeds", total=None)

            def advance(_report: PollReport) -> None:
                progress.advance(task)

            def feeds(total: int) -> None:
                progress.update(task, total=total)

            reports = await poll_all_once(runtime, advance, on_total=feeds)
        # One pass claims a batch: go on until nothing due is left (retries wait their time).
        while await _deliver_batch(runtime):
            pass
    console.print(_poll_table(reports))


def _progress_columns() -> tuple[ProgressColumn, ...]:
    """Spinner, bar, "12/40 feeds" and the time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("feeds, about"),
        TimeRemainingColumn(),
        TextColumn("left"),
    )


async def _deliver_batch(runtime: Runtime) -> bool:
    """Send one batch of the due alerts; whether there was any."""
    from bot.core.delivery import deliver_due

    report = await deliver_due(
        runtime.store, runtime.adapters, runtime.ctx.clock, routes=runtime.ctx.alert_policy.routes
    )
    return report.sent + report.retrying + report.dead + report.held + report.muted > 0


def _poll_table(reports: list[PollReport]) -> Table:
    from rich.table import Table

    table = Table("feed", "result", "new", "alerts", "problem", title="poll summary")
    for report in sorted(reports, key=lambda r: r.feed_id):
        result = report.outcome + (
            " (flood guard: stored, not alerted)" if report.flood_guarded else ""
        )
        table.add_row(
            escape(report.feed_name),
            result,
            str(report.new_articles),
            str(report.queued_alerts),
            escape(report.error or report.warning or ""),
        )
    return table


@app.command()
def demo() -> None:
    """Offline demo: serve the bundled sample feeds on loopback and run the real pipeline."""
    from bot.demo import run_demo

    run_async(run_demo)()


app.command("latest")(latest)
app.command("search")(search)
app.command("status")(status)


@app.command()
@run_async
async def digest(
    since: Annotated[str, typer.Option("--since", help="Period covered: 24h, 3d, 90m…")] = "24h",
    destination: Annotated[
        str | None,
        typer.Option("--destination", help="Use this destination's route (themes, min score)"),
    ] = None,
) -> None:
    """Print a digest now: the period's stories grouped by theme, best first."""
    from bot.adapters.console.adapter import render_digest
    from bot.app import open_runtime
    from bot.core.digest import build_digest
    from bot.core.durations import parse_duration
    from bot.core.poll.pipeline import utcnow

    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise UserError(f"--since: {exc}") from None
    settings = load()
    route = _digest_route(settings, destination)
    async with open_runtime(settings) as runtime:
        now = utcnow()
        built = await build_digest(runtime.store, route, now - timedelta(seconds=period), now=now)
    console.print(render_digest(built))


def _digest_route(settings: Settings, destination: str | None) -> Route:
    """The route a digest follows: the destination's (a digest route first), else the first
    digest route, else the first route."""
    from bot.core.routing import Route

    routes = sorted(settings.routes, key=lambda r: r.mode != "digest")
    if destination is not None:
        routes = [r for r in routes if r.destination == destination]
        if not routes:
            known = ", ".join(sorted({r.destination for r in settings.routes})) or "none"
            raise UserError(f"no route for {destination!r} in NKRU_ROUTES (routes: {known})")
    return routes[0].route() if routes else Route("console")


@db_app.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """Apply database migrations (also done automatically on start)."""
    from storage.engine import Store

    settings = load()
    store = await Store.open(settings.database_url)
    await store.close()
    console.print(f"database {escape(_shown(settings.database_url))} is up to date")


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except Exception as exc:
        if isinstance(exc, one_line_errors()):
            fail(str(exc))
        raise
