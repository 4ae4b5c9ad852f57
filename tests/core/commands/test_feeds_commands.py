"""`/nkru feeds …` through the real CommandService, fetcher, parser and store (both backends).

Feeds are served by the loopback FeedServer; host names resolve through the test resolver of
tests/core/test_feed_safety.py. The "strict" desk guards like a default install (public
addresses only); the "allowing" one also allows 127.0.0.1/32, so the loopback server can stand
in for a public feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.core.commands.model import Caller, Invocation, Reply, ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.feed_probe import ChatFeeds
from bot.core.models import FeedStatus, PollState
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.pipeline import PollContext, poll_feed
from bot.core.records import AuditEntry, NewFeed
from storage.engine import Store
from tests.core.commands.conftest import NOW
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.core.test_feed_safety import StaticResolver, guard
from tests.fakes.feed_server import FeedServer

BOSS = Caller("slack", "U0BOSS", "boss")
ANA = Caller("slack", "U0ANA", "ana")  # not an admin
POLICY = AdminPolicy(slack_user_ids=frozenset({"U0BOSS"}))
YONHAP = "https://www.yna.co.kr/rss/northkorea.xml"


@dataclass
class Desk:
    """A CommandService with the chat feed service, over a store and a feed server."""

    store: Store
    server: FeedServer
    dns: StaticResolver
    fetcher: FeedFetcher
    service: CommandService

    async def run(self, text: str, caller: Caller = BOSS) -> Reply:
        """`/nkru <text>` typed in slack:C1."""
        return await self.service.handle(Invocation.from_text(caller, "slack:C1", text))

    async def feeds(self) -> list[tuple[str, str, str]]:
        """(url, name, origin) of every stored feed."""
        async with self.store.transaction() as conn:
            stored = await conn.feeds.list_all()
            return [(f.url, f.name, await conn.feeds.origin_of(f.id) or "") for f in stored]

    async def audit(self) -> list[AuditEntry]:
        """The audit log, newest first."""
        async with self.store.transaction() as conn:
            return await conn.audit.recent()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.add_feed("/feed.xml", rss(ITEMS))
        yield srv


@asynccontextmanager
async def open_desk(
    store: Store,
    server: FeedServer,
    *,
    allow: str = "",
    flood_guard: bool = True,
    max_body_bytes: int = 10 * 1024 * 1024,
) -> AsyncIterator[Desk]:
    dns = StaticResolver({"public.example": ["127.0.0.1"], "intranet.example": ["10.0.0.1"]})
    network_guard = guard(dns, allow=allow)
    async with FeedFetcher(network_guard=network_guard, max_body_bytes=max_body_bytes) as fetcher:
        chat_feeds = ChatFeeds(fetcher, 1800, flood_guard)
        service = CommandService(
            store, ThemeCatalog, (), lambda: NOW, admin=POLICY, services=[chat_feeds]
        )
        yield Desk(store, server, dns, fetcher, service)


@pytest.fixture
async def strict(store: Store, server: FeedServer) -> AsyncIterator[Desk]:
    async with open_desk(store, server) as desk:
        yield desk


@pytest.fixture
async def allowing(store: Store, server: FeedServer) -> AsyncIterator[Desk]:
    async with open_desk(store, server, allow="127.0.0.1/32") as desk:
        yield desk


async def assert_refused(desk: Desk, url: str, why: str) -> None:
    """`feeds add <url>` is refused privately with `why`, audited, and nothing is stored."""
    reply = await desk.run(f"feeds add {url}")

    assert reply.error and reply.ephemeral and reply.title == "Feed not added"
    assert len(reply.lines) == 1 and why in reply.lines[0], reply.lines
    assert await desk.feeds() == []
    [entry] = await desk.audit()
    assert (entry.action, entry.outcome, entry.detail) == ("feeds add", "refused", reply.lines[0])
    assert entry.user_id == "U0BOSS"


# --- refused ----------------------------------------------------------------------------------


async def test_a_non_admin_cannot_add_a_feed(allowing: Desk) -> None:
    reply = await allowing.run(f"feeds add {allowing.server.url('/feed.xml')}", caller=ANA)

    assert reply.error and reply.ephemeral
    assert reply.lines[0].startswith("Only admins can feeds add.")
    assert await allowing.feeds() == [] and allowing.server.hits("/feed.xml") == 0
    [entry] = await allowing.audit()
    assert (entry.user_id, entry.outcome, entry.detail) == ("U0ANA", "refused", "not an admin")


async def test_loopback_is_refused(strict: Desk) -> None:
    url = strict.server.url("/feed.xml")
    await assert_refused(strict, url, f"refused: {url} is 127.0.0.1, a loopback address;")
    assert strict.server.hits("/feed.xml") == 0
    assert "NKRU_CHAT_FEED_ALLOW_NETWORKS" in (await strict.audit())[0].detail


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "is 169.254.169.254, a cloud metadata"),
        ("http://intranet.example/rss", "resolves to 10.0.0.1, a private address"),
        ("http://[fd00:ec2::254]/latest/", "is fd00:ec2::254, a cloud metadata address"),
        ("ftp://ftp.example/feed.xml", "is not an http(s) URL — only http:// and https://"),
        ("file:///etc/passwd", "'file:///etc/passwd' is not an http(s) URL"),
        ("http://exa_mple.com/rss", "'http://exa_mple.com/rss' has no valid host name"),
        ("http://news..example/rss", "has no valid host name ('news..example')"),
        ("www.example.com/rss", "'www.example.com/rss' is not a full URL: write it starting"),
        ("http://example.com:99999/rss", "is not a valid URL: check the host and the port"),
    ],
)
async def test_unsafe_urls_are_refused(strict: Desk, url: str, why: str) -> None:
    await assert_refused(strict, url, why)


async def test_a_public_feed_redirecting_to_a_private_address_is_refused(allowing: Desk) -> None:
    allowing.server.add_redirect("/moved", "http://10.0.0.1/feed.xml", status=302)
    url = f"http://public.example:{allowing.server.port}/moved"

    await assert_refused(allowing, url, "refused: http://10.0.0.1/feed.xml is 10.0.0.1, a private")
    assert allowing.server.hits("/moved") == 1


async def test_a_duplicate_is_refused_with_a_pointer_and_not_fetched(allowing: Desk) -> None:
    async with allowing.store.transaction() as conn:
        seeded = await conn.feeds.add(NewFeed(YONHAP, "Yonhap", 1800, "seed"), NOW)

    reply = await allowing.run(
        "feeds add HTTPS://WWW.YNA.CO.KR/rss/northkorea.xml?utm_source=chat#top"
    )

    assert reply.error and reply.lines == (f"already watched as #{seeded.id} Yonhap ({YONHAP})",)
    assert allowing.dns.asked == []  # refused before any fetch
    assert len(await allowing.feeds()) == 1


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/page.html", "not a feed: the server returned an HTML page (text/html"),
        ("/missing.xml", "HTTP 404 Not Found from"),
    ],
)
async def test_what_is_not_a_feed_is_refused(allowing: Desk, path: str, why: str) -> None:
    page = b"<!doctype html><html><body>Front page</body></html>"
    allowing.server.add_status("/page.html", 200, {"Content-Type": "text/html"}, page)
    await assert_refused(allowing, allowing.server.url(path), why)


async def test_a_feed_over_the_size_limit_is_refused(store: Store, server: FeedServer) -> None:
    async with open_desk(store, server, allow="127.0.0.1/32", max_body_bytes=200) as desk:
        await assert_refused(desk, server.url("/feed.xml"), "body exceeds the 200 bytes limit")


# --- accepted ---------------------------------------------------------------------------------


async def test_a_good_feed_is_fetched_once_then_added_and_the_poll_holds_back_its_items(
    allowing: Desk,
) -> None:
    url = allowing.server.url("/feed.xml")

    reply = await allowing.run(f"feeds add {url}")

    assert not reply.error and not reply.ephemeral  # posted in the channel
    [(stored_url, name, origin)] = await allowing.feeds()
    assert (stored_url, name, origin) == (url, "Test Wire", "chat")  # named by its title
    assert reply.title == f"Added feed #1 Test Wire ({url}) (by boss)"
    assert reply.lines[0] == (
        "It has 2 items now; the flood guard holds them back: the first poll stores them"
        " without alerting, and alerts start with items published after that."
    )
    assert reply.lines[1] == "Polled every 30m; the first poll comes within about a minute."
    assert allowing.server.hits("/feed.xml") == 1
    [entry] = await allowing.audit()
    assert (entry.action, entry.target, entry.outcome) == ("feeds add", f"#1 {url}", "ok")
    report = await poll_feed(PollContext(allowing.store, allowing.fetcher), 1)
    assert (report.new_articles, report.flood_guarded, report.queued_alerts) == (2, True, 0)


async def test_the_name_given_and_a_redirect_are_reported(allowing: Desk) -> None:
    allowing.server.add_redirect("/rss", "/feed.xml")
    url = allowing.server.url("/rss")

    reply = await allowing.run(f"feeds add {url} Korea  Wire")

    assert reply.title.startswith("Added feed #1 Korea Wire (")
    assert f"It redirects to {allowing.server.url('/feed.xml')}." in reply.lines
    assert [name for _, name, _ in await allowing.feeds()] == ["Korea Wire"]


@pytest.mark.parametrize(
    ("words", "name", "every", "seconds"),
    [
        ("Korea Wire every 15m", "Korea Wire", "15m", 900),
        ("every 2h", "Test Wire", "2h", 7200),
        ("Wire EVERY 7d", "Wire", "7d", 604800),
        ("Wire every 1m", "Wire", "1m", 60),
    ],
)
async def test_every_sets_the_new_feeds_interval(
    allowing: Desk, words: str, name: str, every: str, seconds: int
) -> None:
    reply = await allowing.run(f"feeds add {allowing.server.url('/feed.xml')} {words}")

    assert not reply.error, reply
    assert reply.lines[1] == f"Polled every {every}; the first poll comes within about a minute."
    async with allowing.store.transaction() as conn:
        [feed] = await conn.feeds.list_all()
    assert (feed.name, feed.interval_seconds) == (name, seconds)


OUT_OF_RANGE = "is out of range: a feed's interval must be from 1 minute to 7 days (1m to 7d)"


@pytest.mark.parametrize(
    ("every", "why"),
    [
        ("0", f"every: '0' {OUT_OF_RANGE}"),
        ("30s", f"every: '30s' {OUT_OF_RANGE}"),
        ("8d", f"every: '8d' {OUT_OF_RANGE}"),
        ("99999999d", f"every: '99999999d' {OUT_OF_RANGE}"),
        ("9" * 400, f"every: '{'9' * 79}…' {OUT_OF_RANGE}"),
        ("soon", "every: 'soon' is not a duration: write e.g. 90s, 15m, 2h or 3d"),
    ],
)
async def test_an_interval_out_of_range_or_unreadable_is_a_usage_error(
    allowing: Desk, every: str, why: str
) -> None:
    reply = await allowing.run(f"feeds add {allowing.server.url('/feed.xml')} Wire every {every}")

    assert reply.error and reply.ephemeral and reply.title == why
    assert await allowing.feeds() == [] and allowing.server.hits("/feed.xml") == 0


async def test_without_the_flood_guard_the_reply_says_items_may_alert(
    store: Store, server: FeedServer
) -> None:
    async with open_desk(store, server, allow="127.0.0.1/32", flood_guard=False) as desk:
        reply = await desk.run(f"feeds add {server.url('/feed.xml')}")
    assert "the flood guard is off (NKRU_FLOOD_GUARD=false)" in reply.lines[0]


async def test_without_the_chat_feed_service_adding_is_explained(store: Store) -> None:
    service = CommandService(store, ThemeCatalog, (), lambda: NOW, admin=POLICY)

    reply = await service.handle(Invocation.from_text(BOSS, "slack:C1", "feeds add https://a.b/"))

    assert reply.error and reply.title == "Feeds cannot be added from chat here"


# --- list, status, remove, enable, disable ----------------------------------------------------


async def seed_three(desk: Desk) -> None:
    """#1 ok with a parse warning, #2 failing, #3 disabled."""
    async with desk.store.transaction() as conn:
        for n in (1, 2, 3):
            await conn.feeds.add(NewFeed(f"https://f{n}.example/rss", f"F{n}", 900), NOW)
        ok = PollState(NOW, NOW, FeedStatus.OK, 0, "character encoding: odd", None, new_items=4)
        await conn.feeds.record_poll(1, ok)
        since = NOW - timedelta(hours=2)
        failing = PollState(NOW, NOW, FeedStatus.FAILING, 3, "HTTP 503 from f2", since)
        await conn.feeds.record_poll(2, failing)
        await conn.feeds.set_enabled(3, False, NOW)


async def test_anyone_can_list_the_feeds(strict: Desk) -> None:
    await seed_three(strict)

    reply = await strict.run("feeds list", caller=ANA)

    assert reply.ephemeral and reply.title == "Feeds (3)"
    assert reply.lines == (
        "#1 F1 — https://f1.example/rss (every 15m)",
        "#2 F2 — https://f2.example/rss (every 15m)",
        "#3 F3 — https://f3.example/rss (every 15m, disabled)",
    )
    assert (await strict.run("feeds", caller=ANA)).lines == reply.lines


async def test_anyone_can_see_each_feeds_health(strict: Desk) -> None:
    await seed_three(strict)

    reply = await strict.run("feeds status", caller=ANA)

    assert reply.ephemeral and reply.title == "Feed status: 1 ok, 1 failing, 1 disabled"
    last = "last poll 2026-11-20 12:00 UTC (0s ago)"
    assert reply.lines == (
        f"#1 F1: ok · {last} · 4 items · warning: character encoding: odd",
        f"#2 F2: failing since 2026-11-20 10:00 UTC · {last} · 0 items"
        " · last error: HTTP 503 from f2",
        "#3 F3: disabled · last poll never · 0 items · disabled by an admin",
    )


async def test_an_admin_removes_disables_and_enables_feeds_and_each_is_audited(
    strict: Desk,
) -> None:
    await seed_three(strict)

    removed = await strict.run("feeds remove https://F1.example/rss?utm_medium=x")
    disabled = await strict.run("feeds disable #2")
    again = await strict.run("feeds disable 2")
    enabled = await strict.run("feeds enable 3")

    assert removed.title == "Removed feed #1 F1 (https://f1.example/rss) (by boss)"
    assert removed.lines == ("Its stored articles stay searchable.",) and not removed.ephemeral
    assert disabled.title == "Disabled feed #2 F2 (https://f2.example/rss) (by boss)"
    assert disabled.lines == ("It is no longer polled; turn it back on with /nkru feeds enable 2",)
    assert again.ephemeral and again.title.endswith("is already disabled")
    assert enabled.title == "Enabled feed #3 F3 (https://f3.example/rss) (by boss)"
    async with strict.store.transaction() as conn:
        feeds = {f.id: f for f in await conn.feeds.list_all()}
    assert set(feeds) == {2, 3} and not feeds[2].enabled
    assert feeds[3].enabled and feeds[3].status is FeedStatus.OK
    assert [(e.action, e.target, e.outcome) for e in reversed(await strict.audit())] == [
        ("feeds remove", "#1 https://f1.example/rss", "ok"),
        ("feeds disable", "#2 https://f2.example/rss", "ok"),
        ("feeds enable", "#3 https://f3.example/rss", "ok"),
    ]


@pytest.mark.parametrize("text", ["feeds remove 1", "feeds disable 1", "feeds enable 3"])
async def test_a_non_admin_changes_nothing(strict: Desk, text: str) -> None:
    await seed_three(strict)

    reply = await strict.run(text, caller=ANA)

    assert reply.error and reply.ephemeral and reply.title == "Not allowed"
    async with strict.store.transaction() as conn:
        feeds = await conn.feeds.list_all()
    assert [(f.id, f.enabled) for f in feeds] == [(1, True), (2, True), (3, False)]
    [entry] = await strict.audit()
    assert entry.outcome == "refused" and entry.action == " ".join(text.split()[:2])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds frobnicate", "unknown feeds action 'frobnicate'"),
        ("feeds add", "feeds add needs the feed's URL, e.g. feeds add https://… Yonhap"),
        ("feeds remove", "feeds remove needs one feed id or URL (see /nkru feeds list)"),
        ("feeds status now", "feeds status takes nothing after it"),
        ("feeds enable 42", "no feed '42'"),
        ("feeds add https://a.example/ " + "x" * 101, "the feed name is too long"),
    ],
)
async def test_mistakes_get_usage_errors(strict: Desk, text: str, message: str) -> None:
    reply = await strict.run(text)

    assert reply.error and reply.ephemeral
    assert reply.title.startswith(message)
    assert reply.lines[-1].startswith("usage: /nkru feeds list | status | add <url> [name]")
