"""`nkru demo`: the real pipeline, offline, on the sample feeds bundled in seeds/demo/.

The feeds are served by a loopback HTTP server (with ETags, so the second poll exercises
conditional GET), stored in a throw-away SQLite database, and alerts print to the console.
A second poll serves seeds/demo/updates/ to show that an edited title is not a new alert.
Only articles that match a theme of the default watchlist (watchlists/) alert, with the reason.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from rich.rule import Rule
from sqlalchemy import func, select

from bot.app import Runtime, open_runtime, poll_all_once
from bot.cli.support import console, escape, load
from bot.core.delivery import deliver_due
from bot.core.poll.parse import parse_feed
from bot.core.poll.pipeline import utcnow
from bot.core.records import NewFeed
from storage.schema import articles, outbox, stories

# The repository's seeds/demo (editable installs, checkouts), else ./seeds/demo (Docker image).
_REPO_DEMO = Path(__file__).resolve().parents[1] / "seeds" / "demo"
DEMO_DIR = _REPO_DEMO if _REPO_DEMO.is_dir() else Path("seeds/demo").resolve()
_REPO_WATCHLISTS = Path(__file__).resolve().parents[1] / "watchlists"
WATCHLISTS = _REPO_WATCHLISTS if _REPO_WATCHLISTS.is_dir() else Path("watchlists").resolve()
FEED_SUFFIXES = {".xml": "application/rss+xml; charset=utf-8", ".json": "application/feed+json"}


class DemoFeedServer:
    """Serves the files of one folder at /<name>, answering 304 to a matching If-None-Match."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.base_url = ""

    def serve_from(self, folder: Path) -> None:
        """Serve files from another folder from now on (files missing there keep the old ones)."""
        self.folder = folder

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.folder / name
        if not path.is_file():
            path = DEMO_DIR / name
        if not path.is_file():
            raise web.HTTPNotFound()
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        content_type = FEED_SUFFIXES.get(path.suffix, "application/octet-stream")
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})

    @asynccontextmanager
    async def running(self) -> AsyncIterator[DemoFeedServer]:
        """Listen on 127.0.0.1 on a free port while the block runs."""
        app = web.Application()
        app.router.add_get("/{name}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            await runner.cleanup()


def demo_files() -> list[Path]:
    """The sample feed files of the first poll."""
    return sorted(p for p in DEMO_DIR.iterdir() if p.suffix in FEED_SUFFIXES)


async def run_demo() -> None:
    """Run both demo polls and print the alerts and a summary."""
    with tempfile.TemporaryDirectory(prefix="nkru-demo-") as tmp:
        settings = load(
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            flood_guard=False,  # the demo's point is to show alerts on the first poll
            alert_max_age=0,  # the sample items carry fixed dates
            # Alerts only for articles on a watchlist theme, each saying why it fired.
            routes=[{"destination": "console"}],
            watchlists=WATCHLISTS,
            # Six small feeds: a thread parses them sooner than worker processes start (~0.6 s).
            parse_workers=0,
        )
        server = DemoFeedServer(DEMO_DIR)
        async with server.running(), open_runtime(settings, console=console) as runtime:
            await _add_demo_feeds(runtime, server.base_url)
            console.print(Rule("poll 1: six sample feeds (English, Russian, Korean)"))
            await _poll_and_deliver(runtime)
            server.serve_from(DEMO_DIR / "updates")
            console.print(Rule("poll 2: one feed changed (an edited title), the rest unchanged"))
            await _poll_and_deliver(runtime)
            await _summary(runtime)


async def _add_demo_feeds(runtime: Runtime, base_url: str) -> None:
    now = utcnow()
    new = []
    for path in demo_files():
        parsed = parse_feed(path.read_bytes(), url=f"{base_url}/{path.name}", fetched_at=now)
        new.append(NewFeed(f"{base_url}/{path.name}", parsed.title or path.stem, 60, "demo"))
    async with runtime.store.transaction() as conn:
        await conn.feeds.add_missing(new, now)


async def _poll_and_deliver(runtime: Runtime) -> None:
    reports = await poll_all_once(runtime)
    await deliver_due(runtime.store, runtime.adapters, runtime.ctx.clock)
    for report in sorted(reports, key=lambda r: r.feed_id):
        console.print(
            f"  {escape(report.feed_name)}: {report.outcome}, {report.new_articles} new, "
            f"{report.queued_alerts} alert{'s' if report.queued_alerts != 1 else ''}",
            highlight=False,
        )


async def _summary(runtime: Runtime) -> None:
    async with runtime.store.transaction() as conn:
        stored = (
            await conn.connection.execute(select(func.count()).select_from(articles))
        ).scalar_one()
        story_count = (
            await conn.connection.execute(select(func.count()).select_from(stories))
        ).scalar_one()
        alerts = select(func.count()).select_from(outbox).where(outbox.c.status == "sent")
        sent = (await conn.connection.execute(alerts.where(outbox.c.kind == "new"))).scalar_one()
        folded = (
            await conn.connection.execute(alerts.where(outbox.c.kind == "update"))
        ).scalar_one()
        views = await conn.stories.latest(1000)
    console.print(Rule("summary"))
    console.print(
        f"{stored} articles stored, {story_count} stories, {sent} alerts delivered "
        f"({folded} later reports shown as 'Also reported by' on their story's alert)"
    )
    for view in views:
        if len(view.outlets) > 1:
            console.print(
                f"  one story, {len(view.outlets)} outlets: {escape(view.story.title)} "
                f"({escape(', '.join(view.outlets))})",
                highlight=False,
            )
