"""Shared fixtures: a fresh Store on SQLite and, when configured, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.poll.fetch import FeedFetcher
from bot.settings import normalize_database_url
from storage.engine import Store
from tests.fakes.feed_server import FeedServer

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
REAL_FEEDS = CORPUS / "real-feeds"
PG_URL_VARIABLE = "NKRU_TEST_DATABASE_URL"


def real_feed_bodies() -> list[tuple[str, bytes]]:
    """(file name, body) of every feed in ../shared/corpus/real-feeds, gzip undone as an
    HTTP client does for Content-Encoding: gzip; skips the test where the corpus is absent."""
    if not REAL_FEEDS.is_dir():
        pytest.skip(f"corpus not found at {REAL_FEEDS} (it lives next to the repo, in ../shared)")
    bodies = []
    for path in sorted(REAL_FEEDS.iterdir()):
        if path.is_file() and path.suffix != ".tsv":
            body = path.read_bytes()
            bodies.append((path.name, gzip.decompress(body) if path.suffix == ".gz" else body))
    return bodies


# Each test run gets a database of its own on the configured server, created on first use and
# dropped at the end: two runs sharing one server (a developer's and CI's, or two worktrees)
# never drop each other's tables. Without the right to create databases, the configured one is
# used as it is.
_RUN_DATABASE = f"nkru_test_{os.getpid()}"
_created: dict[str, str] = {}  # configured URL -> this run's URL


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def run_database(url: str) -> str:
    """This run's own database on the server of `url` (created once per run)."""
    if url not in _created:
        try:
            await _admin(url, f'DROP DATABASE IF EXISTS "{_RUN_DATABASE}"')
            await _admin(url, f'CREATE DATABASE "{_RUN_DATABASE}"')
        except DBAPIError:
            _created[url] = url  # no CREATEDB right: share the configured database
        else:
            _created[url] = make_url(url).set(database=_RUN_DATABASE).render_as_string(False)
    return _created[url]


@pytest.fixture(scope="session", autouse=True)
def drop_run_databases() -> Iterator[None]:
    """Drop the databases this run created."""
    yield
    for configured, own in _created.items():
        if own != configured:
            statement = f'DROP DATABASE IF EXISTS "{_RUN_DATABASE}" WITH (FORCE)'
            asyncio.run(_admin(configured, statement))


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
        url = await run_database(url)
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
