"""Feed safety: chat-added feeds reach only public addresses, on every hop and every poll.

Fetches are real (FeedFetcher against the loopback FeedServer); host names are resolved by
`StaticResolver`, plugged into the guard the way aiohttp's own resolvers are, so no test needs
real DNS. Where a test must reach the loopback server "as if public", the guard allows
127.0.0.1/32 — the addresses it refuses are then other ones (10.0.0.1, 169.254.169.254…).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from ipaddress import ip_address

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.core.feed_safety import (
    NetworkGuard,
    ResolverFactory,
    needs_guard,
    parse_networks,
    why_not_public,
)
from bot.core.models import FeedStatus, FetchOutcome, FetchRequest, FetchResult
from bot.core.poll.fetch import FeedFetcher
from bot.core.poll.pipeline import PollContext, poll_feed, utcnow
from bot.core.records import NewFeed
from storage.engine import Store
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.fakes.feed_server import FeedServer

LOOPBACK = parse_networks(["127.0.0.1/32"], "test")
ADVICE = "the operator can allow a network with NKRU_CHAT_FEED_ALLOW_NETWORKS"


class StaticResolver(AbstractResolver):
    """Resolves test host names from a table (changeable, as DNS changes); others fail."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(socket.EAI_NONAME, f"test DNS has no {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        """Nothing to release."""


def guard(
    dns: dict[str, list[str]] | StaticResolver | None = None, allow: str = ""
) -> NetworkGuard:
    """A guard resolving through the test table, allowing the given comma-separated networks."""
    resolver = dns if isinstance(dns, StaticResolver) else StaticResolver(dns or {})
    factory: ResolverFactory = lambda: resolver  # noqa: E731
    return NetworkGuard(parse_networks([n for n in allow.split(",") if n], "test"), factory)


# The four ways in: a loopback literal, the metadata address, a name that resolves to a
# private address, and a public feed that redirects inward (127.0.0.1 stands in for a public
# host there, so only that case allows it).
PRIVATE_WAYS_IN = [
    pytest.param(
        "http://127.0.0.1/feed.xml", guard(), "is 127.0.0.1, a loopback address", id="loopback"
    ),
    pytest.param(
        "http://169.254.169.254/latest/meta-data/",
        guard(),
        "is 169.254.169.254, a cloud metadata address",
        id="metadata",
    ),
    pytest.param(
        "http://intranet.example/rss",
        guard({"intranet.example": ["10.0.0.1"]}),
        "resolves to 10.0.0.1, a private address",
        id="name-to-private",
    ),
    pytest.param(
        "http://public.example:{port}/moved",
        guard({"public.example": ["127.0.0.1"]}, allow="127.0.0.1/32"),
        "http://10.0.0.1/feed.xml is 10.0.0.1, a private address",
        id="redirect-inward",
    ),
]


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.add_feed("/feed.xml", rss(ITEMS))
        yield server


async def guarded_fetch(network_guard: NetworkGuard, url: str) -> FetchResult:
    async with FeedFetcher(network_guard=network_guard) as fetcher:
        return await fetcher.fetch(FetchRequest(url), guarded=True)


# --- which addresses are public ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a unique-local address"),
        ("fec0::1", "a site-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("::", "the unspecified address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("::ffff:10.0.0.1", "a private address"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("240.0.0.1", "a private address"),  # reserved, listed as private by Python
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("::ffff:93.184.216.34", None),
        ("64:ff9b::5db8:d822", None),  # NAT64 of a public address
        ("2002:5db8:d822::1", None),  # 6to4 of a public address
    ],
)
def test_why_an_address_is_not_public(address: str, reason: str | None) -> None:
    assert why_not_public(ip_address(address)) == reason


def test_allowed_networks_open_private_addresses_but_never_metadata() -> None:
    allowing = guard(allow="10.20.0.0/16,169.254.0.0/16,fd00::/8")

    assert allowing.refusal(ip_address("10.20.3.4")) is None
    assert allowing.refusal(ip_address("::ffff:10.20.3.4")) is None  # mapped form too
    assert allowing.refusal(ip_address("10.21.0.1")) == "a private address"
    assert allowing.refusal(ip_address("169.254.1.1")) is None
    assert allowing.refusal(ip_address("169.254.169.254")) == "a cloud metadata address"
    assert allowing.refusal(ip_address("fd00:ec2::254")) == "a cloud metadata address"


def test_a_bad_network_names_the_setting() -> None:
    with pytest.raises(ValueError, match=r"NKRU_X: '10\.0\.0\.300/8' is not a network"):
        parse_networks(["10.0.0.0/8", "10.0.0.300/8"], "NKRU_X")
    assert [str(n) for n in parse_networks(["10.20.0.5/16"], "NKRU_X")] == ["10.20.0.0/16"]


def test_only_operator_origins_are_trusted() -> None:
    assert not needs_guard("seed") and not needs_guard("cli") and not needs_guard("demo")
    assert needs_guard("chat") and needs_guard("something-new") and needs_guard(None)


def test_by_default_the_guard_resolves_with_aiohttps_resolver() -> None:
    assert NetworkGuard().resolver is DefaultResolver


# --- guarded fetches ------------------------------------------------------------------------


async def test_loopback_literal_is_refused_before_connecting(feed_server: FeedServer) -> None:
    url = feed_server.url("/feed.xml")

    result = await guarded_fetch(guard(), url)

    assert result.outcome is FetchOutcome.FAILED
    assert result.error == (
        f"refused: {url} is 127.0.0.1, a loopback address; chat-added feeds may only reach"
        f" public addresses — {ADVICE}"
    )
    assert feed_server.hits("/feed.xml") == 0


async def test_the_same_url_unguarded_is_fetched(feed_server: FeedServer) -> None:
    async with FeedFetcher(network_guard=guard()) as fetcher:
        result = await fetcher.fetch(FetchRequest(feed_server.url("/feed.xml")))
    assert result.outcome is FetchOutcome.FETCHED  # the operator's feeds are not guarded


async def test_metadata_literal_is_refused() -> None:
    result = await guarded_fetch(guard(allow="169.254.0.0/16"), "http://169.254.169.254/latest/")

    assert result.error is not None
    assert "169.254.169.254, a cloud metadata address" in result.error
    assert "cloud metadata addresses stay closed whatever is allowed" in result.error


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    dns = StaticResolver({"intranet.example": ["10.0.0.1"]})

    result = await guarded_fetch(guard(dns), "http://intranet.example/feed")

    assert result.error == (
        "refused: http://intranet.example/feed resolves to 10.0.0.1, a private address;"
        f" chat-added feeds may only reach public addresses — {ADVICE}"
    )
    assert dns.asked == ["intranet.example"]


async def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    dns = {"mixed.example": ["93.184.216.34", "fd12::1"]}

    result = await guarded_fetch(guard(dns), "https://mixed.example/feed")

    assert (
        result.error is not None and "resolves to fd12::1, a unique-local address" in result.error
    )


async def test_an_allowed_address_is_fetched_through_the_guard(feed_server: FeedServer) -> None:
    dns = {"wire.example": ["127.0.0.1"]}
    url = f"http://wire.example:{feed_server.port}/feed.xml"

    result = await guarded_fetch(guard(dns, allow="127.0.0.1/32"), url)

    assert result.outcome is FetchOutcome.FETCHED
    assert result.body is not None and b"Lavrov visits Pyongyang" in result.body


@pytest.mark.parametrize(
    ("target", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data/", "is 169.254.169.254, a cloud metadata"),
        ("http://10.0.0.1/admin", "is 10.0.0.1, a private address"),
        ("http://internal.example/", "resolves to 10.0.0.1, a private address"),
        ("http://[::ffff:7f00:2]/", "is ::ffff:7f00:2, a loopback address"),
    ],
)
async def test_a_public_feed_redirecting_inward_is_refused_on_that_hop(
    feed_server: FeedServer, target: str, refused: str
) -> None:
    feed_server.add_redirect("/moved", target, status=302)
    dns = StaticResolver({"public.example": ["127.0.0.1"], "internal.example": ["10.0.0.1"]})
    start = f"http://public.example:{feed_server.port}/moved"

    result = await guarded_fetch(guard(dns, allow="127.0.0.1/32"), start)

    assert result.outcome is FetchOutcome.FAILED and result.final_url == target
    assert result.error is not None and result.error.startswith(f"refused: {target} {refused}")
    assert feed_server.hits("/moved") == 1  # the first hop was allowed and answered


# --- scheduled polls --------------------------------------------------------------------------


async def add_feed(store: Store, url: str, origin: str) -> int:
    async with store.transaction() as conn:
        feed = await conn.feeds.add(NewFeed(url, origin, 600, origin), utcnow())
    return feed.id


async def test_a_chat_feed_moved_to_a_private_address_fails_while_operator_feeds_work(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.add_feed("/operator.xml", rss(ITEMS, title="Operator Wire"))
    dns = StaticResolver({"wire.example": ["127.0.0.1"]})
    chat_id = await add_feed(store, f"http://wire.example:{feed_server.port}/feed.xml", "chat")
    operator_id = await add_feed(store, feed_server.url("/operator.xml"), "cli")

    async with FeedFetcher(network_guard=guard(dns, allow="127.0.0.1/32")) as fetcher:
        ctx = PollContext(store, fetcher)
        first = await poll_feed(ctx, chat_id)
        dns.table["wire.example"] = ["10.0.0.1"]  # DNS now points inside
        second = await poll_feed(ctx, chat_id)
        operator = await poll_feed(ctx, operator_id)

    assert first.outcome == "fetched" and first.new_articles == len(ITEMS)
    assert second.outcome == "failed"
    assert second.error is not None and "resolves to 10.0.0.1, a private address" in second.error
    assert operator.outcome == "fetched"  # loopback, but the operator's: not guarded
    async with store.transaction() as conn:
        chat_feed = await conn.feeds.get(chat_id)
    assert chat_feed is not None and chat_feed.status is FeedStatus.FAILING
    assert chat_feed.last_error == second.error
    assert feed_server.hits("/feed.xml") == 1  # the refused poll never connected
