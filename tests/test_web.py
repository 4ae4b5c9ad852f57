"""The HTTP listener: /healthz answers from the real database, 503 when it is gone."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.web import bound_port, build_web_app, start_http
from storage.engine import Store
from tests.storage.holding import write_held_open
from tests.test_loop_watch import hold_the_loop

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def test_healthz_reports_feeds_and_backlog(store: Store) -> None:
    app = build_web_app(store, {"console": object(), "slack": object()}, lambda: NOW)
    runner = await start_http(app, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            body = await response.json()
    finally:
        await runner.cleanup()
    assert body["ok"] is True
    assert body["adapters"] == ["console", "slack"]
    assert body["time"] == NOW.isoformat()
    assert body["outbox"] == {}
    assert body["loop"]["since"] is not None


async def test_healthz_reports_a_stall_of_the_event_loop(store: Store) -> None:
    # Everything the listener answers waits while the loop is held: /healthz says how long
    # it was held at worst, and when.
    app = build_web_app(store, {"console": object()}, lambda: NOW)
    runner = await start_http(app, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
        await asyncio.sleep(0.05)  # the watch ticks
        hold_the_loop(0.3)
        await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            loop = (await response.json())["loop"]
    finally:
        await runner.cleanup()
    assert loop["largest_stall_ms"] >= 250  # held 300 ms; a tick was due within 20 ms
    assert loop["recent_stalls"][-1]["ms"] == loop["largest_stall_ms"]
    assert loop["largest_stall_at"] == loop["recent_stalls"][-1]["at"]


async def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    store = await Store.open(f"sqlite+aiosqlite:///{folder / 'nkru.db'}")
    app = build_web_app(store, {"console": object()}, lambda: NOW)
    runner = await start_http(app, "127.0.0.1", 0)
    await store.close()
    shutil.rmtree(folder)  # the next connection cannot open the database file
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 503
            body = await response.json()
            assert (body["ok"], body["error"]) == (False, "database unreachable")
            assert body["loop"]["since"] is not None  # the loop is still watched
    finally:
        await runner.cleanup()


async def test_healthz_answers_while_a_write_holds_the_database(store: Store) -> None:
    # Under load the writes of polls queue one after another (on SQLite one at a time); a
    # probe must not wait behind them (it waited up to 3 s at 10,000 feeds).
    app = build_web_app(store, {"console": object()}, lambda: NOW)
    runner = await start_http(app, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/healthz"
        async with (
            write_held_open(store, "https://wire.example/rss"),
            aiohttp.ClientSession() as session,
        ):
            # Before the write commits: the deadline only keeps a failure from hanging.
            response = await asyncio.wait_for(session.get(url), timeout=20)
            assert response.status == 200
            assert (await response.json())["feeds"] == {}  # the write is not committed yet
            response.release()
    finally:
        await runner.cleanup()
