"""deliver_due against real storage (both backends) with a scripted in-test adapter."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core.delivery import DeliveryAdapter, DeliveryError, RetryPolicy, deliver_due
from bot.core.models import Alert, DeliveryReceipt, NewArticle
from bot.core.records import NewFeed
from storage import outbox as outbox_repo
from storage.engine import Store
from storage.schema import articles, outbox

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Step = BaseException | DeliveryReceipt | None


@dataclass
class ScriptedAdapter:
    """Implements DeliveryAdapter; answers each call with the next scripted step.

    A step is an exception to raise, a receipt to return, or None for a default receipt.
    Once the script runs out it keeps repeating its last step.
    """

    script: list[Step] = field(default_factory=list)
    calls: list[Alert] = field(default_factory=list)

    async def send(self, alert: Alert) -> DeliveryReceipt:
        self.calls.append(alert)
        step = self.script.pop(0) if len(self.script) > 1 else (self.script or [None])[0]
        if isinstance(step, BaseException):
            raise step
        return step or DeliveryReceipt(f"msg-{alert.outbox_id}")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Row:
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    remote_id: str | None
    sent_at: datetime | None


async def row(store: Store, outbox_id: int) -> Row:
    stmt = select(
        outbox.c.status,
        outbox.c.attempts,
        outbox.c.next_attempt_at,
        outbox.c.last_error,
        outbox.c.remote_id,
        outbox.c.sent_at,
    ).where(outbox.c.id == outbox_id)
    async with store.transaction() as conn:
        return Row(*(await conn.connection.execute(stmt)).one())


class Stories:
    """Builds stories, their articles and outbox entries straight through the repositories."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.feed_id = 0
        self.serial = 0

    async def story(self, title: str, outlets: list[str], url: str | None = None) -> int:
        """A story whose lead article is from outlets[0]; returns the story id."""
        async with self.store.transaction() as conn:
            if not self.feed_id:
                feed = await conn.feeds.add(NewFeed("https://wire.example/rss", "Wire", 600), NOW)
                self.feed_id = feed.id
            story_id = 0
            for number, outlet in enumerate(outlets):
                self.serial += 1
                new = NewArticle(
                    feed_id=self.feed_id,
                    item_key=f"k-{self.serial}",
                    guid=None,
                    url=url if number == 0 else f"https://{outlet.lower()}.example/{self.serial}",
                    title=title if number == 0 else f"{title} ({outlet})",
                    summary=f"Summary by {outlet}.",
                    published_at=NOW - timedelta(minutes=30),
                    fetched_at=NOW + timedelta(seconds=number),
                    content_hash=f"h-{self.serial}",
                    source_name=outlet,
                )
                [article] = await conn.articles.insert_new([new])
                if number == 0:
                    story_id = await conn.stories.create(
                        title=title,
                        lead_article_id=article.id,
                        seen_at=NOW,
                        signature=b"\x00" * 512,
                    )
                await conn.articles.set_story(article.id, story_id)
        return story_id

    async def queue(
        self, story_id: int, kind: str = "new", destination: str = "fake", at: datetime = NOW
    ) -> int:
        """Queue one entry: a "new" one for the lead article, an "update" for the newest."""
        order = articles.c.id.asc() if kind == "new" else articles.c.id.desc()
        async with self.store.transaction() as conn:
            rows = await conn.connection.execute(
                select(articles.c.id).where(articles.c.story_id == story_id).order_by(order)
            )
            article_id = rows.scalars().first()
            assert article_id is not None
            entry = outbox_repo.OutboxEntry(destination, kind, story_id, article_id)
            assert await conn.outbox.enqueue([entry], at) == 1
            found = await conn.connection.execute(
                select(outbox.c.id).where(
                    outbox.c.article_id == article_id, outbox.c.destination == destination
                )
            )
            return int(found.scalar_one())


@pytest.fixture
def stories(store: Store) -> Stories:
    return Stories(store)


async def deliver(
    store: Store,
    adapter: DeliveryAdapter,
    clock: Callable[[], datetime],
    policy: RetryPolicy | None = None,
) -> tuple[int, int, int]:
    report = await deliver_due(store, {"fake": adapter}, clock, policy or RetryPolicy())
    return report.sent, report.retrying, report.dead


# --- outcomes ---------------------------------------------------------------------------------


async def test_success_records_sent_and_remote_id(store: Store, stories: Stories) -> None:
    story_id = await stories.story("Lavrov in Pyongyang", ["Wire"], "https://wire.example/1")
    entry = await stories.queue(story_id)
    adapter = ScriptedAdapter([DeliveryReceipt("1234567890")])
    clock = Clock()

    assert await deliver(store, adapter, clock) == (1, 0, 0)

    [alert] = adapter.calls
    assert (alert.outbox_id, alert.kind, alert.story_id) == (entry, "new", story_id)
    assert (alert.title, alert.url, alert.source_name) == (
        "Lavrov in Pyongyang",
        "https://wire.example/1",
        "Wire",
    )
    saved = await row(store, entry)
    assert (saved.status, saved.remote_id, saved.attempts, saved.sent_at) == (
        "sent",
        "1234567890",
        1,
        NOW,
    )
    clock.advance(3600)
    assert await deliver(store, adapter, clock) == (0, 0, 0)
    assert len(adapter.calls) == 1  # never sent twice


async def test_retry_after_is_the_next_attempt_time(store: Store, stories: Stories) -> None:
    entry = await stories.queue(await stories.story("Rail freight", ["Wire"]))
    adapter = ScriptedAdapter([DeliveryError("rate limited", retry_after=120), None])
    clock = Clock()

    assert await deliver(store, adapter, clock) == (0, 1, 0)
    saved = await row(store, entry)
    assert (saved.status, saved.attempts, saved.last_error) == ("pending", 1, "rate limited")
    assert saved.next_attempt_at == NOW + timedelta(seconds=120)

    clock.advance(119)
    assert await deliver(store, adapter, clock) == (0, 0, 0)
    assert len(adapter.calls) == 1
    clock.advance(1)
    assert await deliver(store, adapter, clock) == (1, 0, 0)
    assert (await row(store, entry)).status == "sent"
    assert (await row(store, entry)).attempts == 2


async def test_adapter_crash_is_retried_with_backoff_and_worker_goes_on(
    store: Store, stories: Stories, caplog: pytest.LogCaptureFixture
) -> None:
    first = await stories.queue(await stories.story("First story", ["Wire"]))
    second = await stories.queue(await stories.story("Second story", ["Wire"]))
    adapter = ScriptedAdapter([RuntimeError("socket exploded"), None])
    policy = RetryPolicy(max_attempts=5, backoff_base=10, backoff_cap=600)

    assert await deliver(store, adapter, Clock(), policy) == (1, 1, 0)

    assert [a.outbox_id for a in adapter.calls] == [first, second]
    crashed = await row(store, first)
    assert crashed.status == "pending" and crashed.attempts == 1
    assert crashed.last_error == "adapter error: RuntimeError('socket exploded')"
    assert NOW + timedelta(seconds=5) <= crashed.next_attempt_at <= NOW + timedelta(seconds=10)
    assert (await row(store, second)).status == "sent"
    assert "adapter fake crashed on alert" in caplog.text
    assert "RuntimeError: socket exploded" in caplog.text  # with its traceback


async def test_permanent_error_is_dead_and_not_retried(store: Store, stories: Stories) -> None:
    entry = await stories.queue(await stories.story("Story", ["Wire"]))
    adapter = ScriptedAdapter([DeliveryError("channel not found", permanent=True)])
    clock = Clock()

    assert await deliver(store, adapter, clock) == (0, 0, 1)
    clock.advance(86400 * 30)
    assert await deliver(store, adapter, clock) == (0, 0, 0)

    assert len(adapter.calls) == 1
    saved = await row(store, entry)
    assert (saved.status, saved.attempts, saved.last_error) == ("dead", 1, "channel not found")


async def test_gives_up_after_max_attempts(store: Store, stories: Stories) -> None:
    entry = await stories.queue(await stories.story("Story", ["Wire"]))
    adapter = ScriptedAdapter([DeliveryError("HTTP 502 from the platform")])
    policy = RetryPolicy(max_attempts=3, backoff_base=1, backoff_cap=10)
    clock = Clock()
    outcomes = []
    for _ in range(6):
        outcomes.append(await deliver(store, adapter, clock, policy))
        clock.advance(60)

    assert outcomes == [(0, 1, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert len(adapter.calls) == 3
    saved = await row(store, entry)
    assert (saved.status, saved.attempts) == ("dead", 3)


async def test_destination_without_adapter_is_dead_with_a_clear_message(
    store: Store, stories: Stories
) -> None:
    entry = await stories.queue(await stories.story("Story", ["Wire"]), destination="slack:C0123")
    adapter = ScriptedAdapter()

    assert await deliver(store, adapter, Clock()) == (0, 0, 1)

    assert adapter.calls == []
    saved = await row(store, entry)
    assert saved.status == "dead"
    assert saved.last_error == (
        "no adapter for destination 'slack:C0123' — set its token or remove it from "
        "NKRU_DESTINATIONS"
    )


async def test_destination_channel_picks_the_adapter(store: Store, stories: Stories) -> None:
    entry = await stories.queue(await stories.story("Story", ["Wire"]), destination="fake:C42")
    adapter = ScriptedAdapter()
    assert await deliver(store, adapter, Clock()) == (1, 0, 0)
    assert adapter.calls[0].destination == "fake:C42"
    assert (await row(store, entry)).status == "sent"


# --- updates of a story -----------------------------------------------------------------------


async def test_update_queued_before_first_post_is_superseded(
    store: Store, stories: Stories
) -> None:
    story_id = await stories.story("Air defence deal", ["Wire", "Herald"])
    new = await stories.queue(story_id, "new")  # both queued before anything was sent
    update = await stories.queue(story_id, "update", at=NOW + timedelta(seconds=1))
    adapter = ScriptedAdapter()
    clock = Clock(NOW + timedelta(seconds=2))

    assert await deliver(store, adapter, clock) == (2, 0, 0)

    [sent] = adapter.calls  # the update was marked sent without calling the adapter
    assert (sent.outbox_id, sent.kind) == (new, "new")
    assert sent.also_reported_by == ["Herald"]  # the first post already names every outlet
    assert (await row(store, update)).status == "sent"


async def test_update_after_first_post_edits_it(store: Store, stories: Stories) -> None:
    story_id = await stories.story("Air defence deal", ["Wire"])
    await stories.queue(story_id, "new")
    adapter = ScriptedAdapter([DeliveryReceipt("discord-111"), DeliveryReceipt("discord-111")])
    clock = Clock()
    assert await deliver(store, adapter, clock) == (1, 0, 0)

    clock.advance(600)  # another outlet reports the story later
    async with store.transaction() as conn:
        [article] = await conn.articles.insert_new([
                NewArticle(
                    feed_id=stories.feed_id, item_key="late", guid=None,
                    url="https://herald.example/late", title="Deal signed", summary="",
                    published_at=clock.now, fetched_at=clock.now, content_hash="late",
                    source_name="Herald",
                )
            ],
        )  # fmt: skip
        await conn.articles.set_story(article.id, story_id)
        entry = outbox_repo.OutboxEntry("fake", "update", story_id, article.id)
        await conn.outbox.enqueue([entry], clock.now)
    assert await deliver(store, adapter, clock) == (1, 0, 0)

    update = adapter.calls[-1]
    assert (update.kind, update.remote_id, update.superseded) == ("update", "discord-111", False)
    assert update.title == "Air defence deal"  # the story's lead article
    assert update.also_reported_by == ["Herald"]


# --- the console adapter ----------------------------------------------------------------------


def console_adapter() -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    return ConsoleAdapter(Console(file=out, width=100)), out


async def test_console_shows_markup_literally_with_link_and_outlets() -> None:
    adapter, out = console_adapter()
    alert = Alert(
        outbox_id=7,
        destination="console",
        kind="new",
        story_id=3,
        title="[bold red]x[/] @everyone <b>alert</b>: Russia and North Korea sign fuel deal",
        url="https://wire.example/2026/11/fuel-deal",
        summary="Deliveries [link=https://evil.example]click[/link] grow.",
        source_name="World Briefs",
        published_at=datetime(2026, 11, 19, 8, 20, tzinfo=UTC),
        also_reported_by=["Pacific Dispatch", "Border Monitor"],
    )

    receipt = await adapter.send(alert)

    text = out.getvalue()
    assert receipt.remote_id == "console-7"
    assert "[bold red]x[/] @everyone <b>alert</b>: Russia and North Korea sign fuel deal" in text
    assert "[link=https://evil.example]click[/link]" in text
    assert "https://wire.example/2026/11/fuel-deal" in text
    assert "Also reported by: Pacific Dispatch, Border Monitor" in text
    assert "ALERT · story #3" in text
    assert "World Briefs · 2026-11-19 08:20 UTC" in text
    assert "\x1b[" not in text  # no terminal codes into a plain file


async def test_console_update_through_deliver_due(store: Store, stories: Stories) -> None:
    story_id = await stories.story(
        "[bold red]x[/] @everyone", ["Wire", "Herald", "Ekho"], "https://wire.example/x"
    )
    await stories.queue(story_id, "update")  # an update whose story has no "new" post here
    adapter, out = console_adapter()

    report = await deliver_due(store, {"console": adapter}, Clock())
    assert report.sent == 0 and report.dead == 1  # "fake" destination: no console adapter

    entry = await stories.queue(story_id, "update", destination="console")
    report = await deliver_due(store, {"console": adapter}, Clock())

    assert report.sent == 1
    text = out.getvalue()
    assert "UPDATE · story #" in text and "[bold red]x[/] @everyone" in text
    assert "https://wire.example/x" in text
    assert "Also reported by: Herald, Ekho" in text
    assert (await row(store, entry)).remote_id == f"console-{entry}"
