"""Shared fixtures: a fresh Store on SQLite and, when configured, on real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.fetch import FeedFetcher
from bot.settings import normalize_database_url
from storage.engine import Store
from tests.fakes.feed_server import FeedServer

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
PG_URL_VARIABLE = "NKRU_TEST_DATABASE_URL"


async def reset_postgres(url: str) -> None:
    """Drop everything in the test database so each test starts from an empty schema."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def database_url(backend: str, tmp_path: Path) -> str:
    """A database URL for the backend, skipping when PostgreSQL is not configured."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    return normalize_database_url(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    url = database_url(request.param, tmp_path)
    if request.param == "postgresql":
        await reset_postgres(url)
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A migrated Store on each backend."""
    opened = await Store.open(store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    """A loopback feed server."""
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    """A real fetcher with default limits."""
    async with FeedFetcher() as f:
        yield f
