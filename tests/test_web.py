"""The HTTP listener: /healthz answers from the real database, 503 when it is gone."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.web import bound_port, build_web_app, start_http
from storage.engine import Store

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
            assert await response.json() == {"ok": False, "error": "database unreachable"}
    finally:
        await runner.cleanup()
