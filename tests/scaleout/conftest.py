"""Several queue engines (bot.scaleout) on one real PostgreSQL database, in one test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from bot.core.delivery import DeliveryAdapter
from bot.core.feed_health import PollPolicy
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.ingest import AlertPolicy
from bot.core.poll.pipeline import PollContext
from bot.core.scheduling import ScheduleConfig
from bot.scaleout.engine import QueueEngine, WorkerConfig
from bot.scaleout.jobs import SubscribedDigests
from storage.engine import Store
from tests.conftest import database_url, reset_postgres, run_database
from tests.fakes.recording_adapter import RecordingAdapter

DEFAULTS = ScheduleConfig()


class Start(Protocol):
    """Start `n` engines delivering to `adapter` (as "rec", or under each name of `adapters`)."""

    def __call__(
        self,
        n: int,
        adapter: RecordingAdapter,
        clock: Clock,
        *,
        adapters: Callable[[], Mapping[str, DeliveryAdapter]] | None = None,
        config: ScheduleConfig = DEFAULTS,
        subscribed: Callable[[Store], SubscribedDigests] | None = None,
    ) -> Awaitable[list[QueueEngine]]: ...


FAST = WorkerConfig(concurrency=20, sweep=0.1, fetch_interval=0.2, heartbeat=1.0, graceful=5)


@dataclass
class Clock:
    """The time every engine of a test reads: real time plus what the test skipped ahead."""

    skipped: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


@pytest.fixture
async def pg_url(tmp_path: Path) -> str:
    """An empty PostgreSQL database (skipped without NKRU_TEST_DATABASE_URL)."""
    url = await run_database(database_url("postgresql", tmp_path))
    await reset_postgres(url)
    return url


@pytest.fixture
async def engines(pg_url: str) -> AsyncIterator[Start]:
    """Start `n` engines, each with its own Store, fetcher and worker; stopped at the end."""
    async with AsyncExitStack() as stack:

        async def start(
            n: int,
            adapter: RecordingAdapter,
            clock: Clock,
            *,
            adapters: Callable[[], Mapping[str, DeliveryAdapter]] | None = None,
            config: ScheduleConfig = DEFAULTS,
            subscribed: Callable[[Store], SubscribedDigests] | None = None,
        ) -> list[QueueEngine]:
            started = []
            for number in range(n):
                store = await Store.open(pg_url)
                stack.push_async_callback(store.close)
                fetcher = await stack.enter_async_context(FeedFetcher())
                ctx = PollContext(
                    store,
                    fetcher,
                    PollPolicy(flood_guard=False),
                    AlertPolicy(destinations=["rec"]),
                    clock=clock,
                )
                engine = QueueEngine(
                    pg_url,
                    ctx,
                    {"rec": adapter} if adapters is None else adapters(),
                    config,
                    FAST,
                    subscribed=None if subscribed is None else subscribed(store),
                    name=f"w{number}",
                )
                await engine.start()
                stack.push_async_callback(engine.stop)
                started.append(engine)
            return started

        yield start
