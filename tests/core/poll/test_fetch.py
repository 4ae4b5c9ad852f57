"""FeedFetcher against a real loopback HTTP server, plus the pure polling policy."""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from bot.core.models import FetchOutcome, FetchRequest, FetchResult
from bot.core.poll.fetch import (
    DEFAULT_USER_AGENT,
    FeedFetcher,
    FetchError,
    parse_max_age,
    parse_retry_after,
)
from bot.core.polling_policy import (
    failure_backoff,
    next_interval,
    retry_after_delay,
    should_disable,
)
from tests.fakes.feed_server import FeedServer, Handler

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Pyongyang and Moscow</title><link>https://example.org/a</link></item>
</channel></rss>"""
MB = 1024 * 1024


async def fetch(fetcher: FeedFetcher, url: str, **kwargs: str | None) -> FetchResult:
    return await fetcher.fetch(FetchRequest(url, **kwargs))


def assert_failed(result: FetchResult, *needles: str) -> None:
    assert result.outcome is FetchOutcome.FAILED, result
    assert result.error is not None
    assert "\n" not in result.error
    assert result.body is None
    for needle in needles:
        assert needle in result.error, result.error


# --- conditional GET and change detection ---------------------------------------------------


async def test_etag_then_304(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS)
    first = await fetch(fetcher, server.url("/feed.xml"))
    assert first.outcome is FetchOutcome.FETCHED
    assert first.body == RSS
    assert first.http_status == 200
    assert first.etag and first.last_modified
    assert first.body_hash == hashlib.sha256(RSS).hexdigest()
    assert first.final_url == server.url("/feed.xml")
    assert first.elapsed > 0

    second = await fetch(
        fetcher, server.url("/feed.xml"), etag=first.etag, body_hash=first.body_hash
    )
    assert second.outcome is FetchOutcome.NOT_MODIFIED
    assert second.http_status == 304
    assert second.body is None
    assert second.etag == first.etag
    assert second.body_hash == first.body_hash
    assert server.requests[-1].headers["If-None-Match"] == first.etag


async def test_last_modified_round_trip(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS, etag=False)
    first = await fetch(fetcher, server.url("/feed.xml"))
    assert first.outcome is FetchOutcome.FETCHED
    assert first.etag is None and first.last_modified

    second = await fetch(fetcher, server.url("/feed.xml"), last_modified=first.last_modified)
    assert second.outcome is FetchOutcome.NOT_MODIFIED
    assert second.last_modified == first.last_modified
    assert server.requests[-1].headers["If-Modified-Since"] == first.last_modified


async def test_changed_body_is_fetched_again(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS)
    first = await fetch(fetcher, server.url("/feed.xml"))
    server.set_body("/feed.xml", RSS.replace(b"Moscow", b"Vladivostok"))
    second = await fetch(
        fetcher, server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified
    )
    assert second.outcome is FetchOutcome.FETCHED
    assert second.body is not None and b"Vladivostok" in second.body
    assert second.etag != first.etag


async def test_same_body_without_validators_is_unchanged(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_feed("/feed.xml", RSS, etag=False, last_modified=False)
    first = await fetch(fetcher, server.url("/feed.xml"))
    second = await fetch(fetcher, server.url("/feed.xml"), body_hash=first.body_hash)
    assert second.outcome is FetchOutcome.UNCHANGED
    assert second.http_status == 200
    assert second.body is None
    assert second.body_hash == first.body_hash
    assert server.hits("/feed.xml") == 2


async def test_gzip_body_is_decoded(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS, gzip=True)
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert result.outcome is FetchOutcome.FETCHED
    assert result.body == RSS
    assert result.body_hash == hashlib.sha256(RSS).hexdigest()  # hash of the decoded bytes
    assert server.requests[-1].headers["Accept-Encoding"] == "gzip, deflate"


async def test_sends_user_agent_and_accept(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS)
    await fetch(fetcher, server.url("/feed.xml"))
    headers = server.requests[-1].headers
    assert headers["User-Agent"] == DEFAULT_USER_AGENT
    assert "application/rss+xml" in headers["Accept"]
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


async def test_custom_user_agent(server: FeedServer) -> None:
    server.add_feed("/feed.xml", RSS)
    async with FeedFetcher(user_agent="test-agent/1") as fetcher:
        await fetch(fetcher, server.url("/feed.xml"))
    assert server.requests[-1].headers["User-Agent"] == "test-agent/1"


async def test_cache_control_max_age(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS, headers={"Cache-Control": "public, max-age=600"})
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert result.max_age == 600.0


async def test_html_instead_of_xml_is_fetched(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed", b"<html><body>Not a feed</body></html>", content_type="text/html")
    result = await fetch(fetcher, server.url("/feed"))
    assert result.outcome is FetchOutcome.FETCHED  # the parser decides what this is
    assert result.content_type == "text/html"


async def test_empty_200_fails(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_status("/feed.xml", 200)
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, "empty response body (HTTP 200 with no content)")
    assert result.http_status == 200


# --- HTTP errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        (404, "HTTP 404 Not Found from"),
        (410, "HTTP 410 Gone from"),
        (403, "refuses the bot"),
        (500, "HTTP 500 Internal Server Error from"),
    ],
)
async def test_http_error_status(
    server: FeedServer, fetcher: FeedFetcher, status: int, needle: str
) -> None:
    server.add_status("/feed.xml", status, body=b"<html>error page</html>")
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, needle, server.url("/feed.xml"))
    assert result.http_status == status
    assert result.retry_after is None


async def test_404_message_is_actionable(server: FeedServer, fetcher: FeedFetcher) -> None:
    result = await fetch(fetcher, server.url("/missing.xml"))
    assert result.error == (
        f"HTTP 404 Not Found from {server.url('/missing.xml')} — check the feed URL"
        " (the feed may have moved or been removed)"
    )


async def test_429_retry_after_seconds(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_status("/feed.xml", 429, headers={"Retry-After": "120"})
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, "HTTP 429", "120 s")
    assert result.http_status == 429
    assert result.retry_after == 120.0


async def test_429_retry_after_http_date(server: FeedServer, fetcher: FeedFetcher) -> None:
    when = datetime.now(UTC) + timedelta(seconds=300)
    server.add_status("/feed.xml", 429, headers={"Retry-After": format_datetime(when, True)})
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, "HTTP 429")
    assert result.retry_after is not None
    assert 295 <= result.retry_after <= 300


async def test_503_with_and_without_retry_after(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_status("/a", 503, headers={"Retry-After": "30"})
    server.add_status("/b", 503)
    with_header = await fetch(fetcher, server.url("/a"))
    without = await fetch(fetcher, server.url("/b"))
    assert_failed(with_header, "HTTP 503 Service Unavailable")
    assert with_header.retry_after == 30.0
    assert_failed(without, "no Retry-After")
    assert without.retry_after is None


# --- timeouts and broken connections --------------------------------------------------------


async def test_total_timeout_waiting_for_headers(server: FeedServer) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(body=RSS)

    server.add_handler("/slow", slow)
    async with FeedFetcher(total_timeout=0.2) as fetcher:
        result = await fetch(fetcher, server.url("/slow"))
    assert_failed(result, "within 0.2 s (total_timeout)", "NKRU_FETCH_TOTAL_TIMEOUT")
    assert result.elapsed < 0.9


async def test_total_timeout_covers_a_slow_body(server: FeedServer) -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(20):  # headers arrive at once, then one byte every 0.1 s
            await response.write(b"<")
            await asyncio.sleep(0.1)
        return response

    server.add_handler("/drip", drip)
    async with FeedFetcher(total_timeout=0.3) as fetcher:
        result = await fetch(fetcher, server.url("/drip"))
    assert_failed(result, "(total_timeout)")
    assert result.elapsed < 1.0


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full, so new connections hang in the SYN stage."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, listener]:
        sock.close()


async def test_connect_timeout(unaccepting_port: int) -> None:
    async with FeedFetcher(connect_timeout=0.2, total_timeout=5) as fetcher:
        result = await fetch(fetcher, f"http://127.0.0.1:{unaccepting_port}/feed")
    assert_failed(result, "connecting to 127.0.0.1 timed out after 0.2 s (connect_timeout)")
    assert result.elapsed < 1.0


async def test_connection_dropped_mid_body(server: FeedServer, fetcher: FeedFetcher) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(RSS) * 10)})
        await response.prepare(request)
        await response.write(RSS)
        assert request.transport is not None
        request.transport.close()
        return response

    server.add_handler("/drop", drop)
    result = await fetch(fetcher, server.url("/drop"))
    assert_failed(result, "cut off", "usually temporary")


async def test_server_closing_without_response(fetcher: FeedFetcher) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    raw = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    async with raw:
        result = await fetch(fetcher, f"http://127.0.0.1:{port}/feed")
    assert_failed(result, "closed the connection without a complete response")


async def test_unresolvable_host(fetcher: FeedFetcher) -> None:
    result = await fetch(fetcher, "http://nkru-test.invalid/feed")
    assert_failed(result, "cannot resolve host nkru-test.invalid (DNS lookup failed)")


async def test_connection_refused(fetcher: FeedFetcher) -> None:
    with socket.socket() as probe:  # bind then close: nothing listens on this port afterwards
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await fetch(fetcher, f"http://127.0.0.1:{port}/feed")
    assert_failed(result, f"cannot connect to 127.0.0.1:{port} (Connection refused)")


async def test_tls_to_plain_http_server_fails(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_feed("/feed.xml", RSS)
    result = await fetch(fetcher, server.url("/feed.xml").replace("http://", "https://"))
    assert_failed(result, "TLS/SSL handshake with 127.0.0.1 failed ([SSL")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.org/feed.xml", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("example.org/feed.xml", "unsupported URL scheme 'none'"),
        ("http:///feed.xml", "no host name"),
        ("http://[::1/feed", "invalid URL"),
    ],
)
async def test_invalid_urls(fetcher: FeedFetcher, url: str, needle: str) -> None:
    assert_failed(await fetch(fetcher, url), needle)


# --- size limits ----------------------------------------------------------------------------


async def test_body_over_limit_announced_by_content_length(server: FeedServer) -> None:
    server.add_feed("/big.xml", b"x" * (2 * MB))
    async with FeedFetcher(max_body_bytes=MB) as fetcher:
        result = await fetch(fetcher, server.url("/big.xml"))
    assert_failed(result, "body exceeds the 1 MB limit (max_body_bytes)", "announces 2 MB")
    assert "NKRU_FETCH_MAX_BODY_BYTES" in (result.error or "")
    assert result.http_status == 200


async def test_body_over_limit_chunked(server: FeedServer) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()  # no Content-Length: chunked transfer encoding
        await response.prepare(request)
        try:
            for _ in range(160):  # would be 10 MB
                await response.write(b"x" * 65536)
                sent += 65536
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    server.add_handler("/endless", endless)
    async with FeedFetcher(max_body_bytes=MB) as fetcher:
        result = await fetch(fetcher, server.url("/endless"))
    assert_failed(result, "body exceeds the 1 MB limit", "sent more than that")
    await asyncio.sleep(0.05)
    assert sent < 8 * MB


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """50 MB of zeros, gzip-compressed to about 50 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    parts = [compressor.compress(zeros) for _ in range(50)]
    return b"".join([*parts, compressor.flush()])


async def test_gzip_bomb_is_stopped(server: FeedServer, gzip_bomb: bytes) -> None:
    async def bomb(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=gzip_bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    server.add_handler("/bomb.xml", bomb)
    assert len(gzip_bomb) < MB  # Content-Length alone cannot catch it
    async with FeedFetcher(max_body_bytes=MB) as fetcher:
        tracemalloc.start()
        try:
            result = await fetch(fetcher, server.url("/bomb.xml"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert_failed(result, "body exceeds the 1 MB limit", "sent more than that")
    assert peak < 8 * MB, f"peak Python allocations {peak / MB:.1f} MB"


# --- redirects and the URL guard ------------------------------------------------------------


async def test_redirect_chain_of_three(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_redirect("/r1", "/r2", status=301)
    server.add_redirect("/r2", server.url("/r3"), status=302)  # absolute Location too
    server.add_redirect("/r3", "/feed.xml", status=308)
    server.add_feed("/feed.xml", RSS)
    result = await fetch(fetcher, server.url("/r1"))
    assert result.outcome is FetchOutcome.FETCHED
    assert result.body == RSS
    assert result.url == server.url("/r1")
    assert result.final_url == server.url("/feed.xml")
    assert [r.path for r in server.requests] == ["/r1", "/r2", "/r3", "/feed.xml"]


async def test_redirect_loop_fails(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_redirect("/a", "/b")
    server.add_redirect("/b", "/a")
    result = await fetch(fetcher, server.url("/a"))
    assert_failed(result, "too many redirects (>5)", server.url("/a"))
    assert len(server.requests) == 6  # the first request plus five redirects, then stop


async def test_redirect_without_location(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.add_status("/moved", 302)
    assert_failed(await fetch(fetcher, server.url("/moved")), "without a Location header")


async def test_redirect_to_other_scheme_is_refused(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.add_redirect("/feed", "file:///etc/passwd")
    assert_failed(await fetch(fetcher, server.url("/feed")), "unsupported URL scheme 'file'")


async def test_url_guard_sees_every_hop_and_can_refuse(server: FeedServer) -> None:
    seen: list[str] = []

    async def guard(url: str) -> None:
        seen.append(url)
        if "internal" in url:
            raise FetchError("private address 10.0.0.1 is not allowed")

    server.add_redirect("/feed", "/next")
    server.add_redirect("/next", "/internal")
    server.add_feed("/internal", RSS)
    async with FeedFetcher(url_guard=guard) as fetcher:
        result = await fetch(fetcher, server.url("/feed"))
    assert_failed(result, f"URL {server.url('/internal')} refused", "10.0.0.1 is not allowed")
    assert result.final_url == server.url("/internal")
    assert seen == [server.url("/feed"), server.url("/next"), server.url("/internal")]
    assert server.hits("/internal") == 0  # refused before any request went out


async def test_url_guard_failing_with_any_exception_refuses(server: FeedServer) -> None:
    async def broken_guard(url: str) -> None:
        raise OSError("resolver exploded")

    server.add_feed("/feed.xml", RSS)
    async with FeedFetcher(url_guard=broken_guard) as fetcher:
        result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, "refused: resolver exploded")
    assert server.hits("/feed.xml") == 0


# --- concurrency and session ownership ------------------------------------------------------


def counting_handler() -> tuple[Handler, dict[str, int]]:
    """A slow handler that records how many requests were in flight at once."""
    stats = {"active": 0, "peak": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        stats["active"] += 1
        stats["peak"] = max(stats["peak"], stats["active"])
        try:
            await asyncio.sleep(0.1)
        finally:
            stats["active"] -= 1
        return web.Response(body=RSS)

    return handler, stats


async def test_per_host_limit(server: FeedServer) -> None:
    handler, stats = counting_handler()
    server.add_handler("/feed.xml", handler)
    async with FeedFetcher(per_host_limit=2, global_limit=20) as fetcher:
        results = await asyncio.gather(*(fetch(fetcher, server.url("/feed.xml")) for _ in range(6)))
    assert all(r.outcome is FetchOutcome.FETCHED for r in results)
    assert stats["peak"] == 2


async def test_per_host_limit_is_per_host(server: FeedServer) -> None:
    handler, stats = counting_handler()
    server.add_handler("/feed.xml", handler)
    urls = [server.url("/feed.xml"), f"http://localhost:{server.port}/feed.xml"] * 3
    async with FeedFetcher(per_host_limit=1, global_limit=20) as fetcher:
        results = await asyncio.gather(*(fetch(fetcher, url) for url in urls))
    assert all(r.outcome is FetchOutcome.FETCHED for r in results)
    assert stats["peak"] == 2  # one per host name


async def test_global_limit(server: FeedServer) -> None:
    handler, stats = counting_handler()
    server.add_handler("/feed.xml", handler)
    async with FeedFetcher(per_host_limit=10, global_limit=1) as fetcher:
        await asyncio.gather(*(fetch(fetcher, server.url("/feed.xml")) for _ in range(3)))
    assert stats["peak"] == 1


async def test_borrowed_session_is_not_closed(server: FeedServer) -> None:
    server.add_feed("/feed.xml", RSS, gzip=True)
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with FeedFetcher(session=session) as fetcher:
            result = await fetch(fetcher, server.url("/feed.xml"))
        assert not session.closed
    assert result.outcome is FetchOutcome.FETCHED
    assert result.body == RSS  # decoded even though the session would not decode by default


async def test_cancellation_is_not_swallowed(server: FeedServer, fetcher: FeedFetcher) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(body=RSS)

    server.add_handler("/slow", slow)
    task = asyncio.create_task(fetch(fetcher, server.url("/slow")))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_bug_becomes_a_failed_result(
    server: FeedServer,
    fetcher: FeedFetcher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object) -> FetchResult:
        raise KeyError("oops")

    monkeypatch.setattr("bot.core.poll.fetch._fetched", broken)
    server.add_feed("/feed.xml", RSS)
    result = await fetch(fetcher, server.url("/feed.xml"))
    assert_failed(result, "unexpected error", "KeyError", "bug in nkru-monitor")
    assert "unexpected error while fetching" in caplog.text


# --- header parsing -------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("90", now=now) == 90.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Wed, 01 May 2024 12:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after(None) is None


def test_parse_max_age() -> None:
    assert parse_max_age("public, max-age=300") == 300.0
    assert parse_max_age('Max-Age="60", must-revalidate') == 60.0
    assert parse_max_age("no-cache") is None
    assert parse_max_age("max-age=soon") is None
    assert parse_max_age(None) is None


# --- polling policy -------------------------------------------------------------------------


def test_failure_backoff_grows_and_stays_within_bounds() -> None:
    rng = random.Random(42)
    for failures in range(0, 40):
        for _ in range(20):
            delay = failure_backoff(failures, base=60, cap=3600, rng=rng)
            assert 30 <= delay <= 3600
    ceilings = [60, 120, 240, 480]
    for failures, ceiling in enumerate(ceilings, start=1):
        delays = [failure_backoff(failures, base=60, cap=3600, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
    assert failure_backoff(10_000, base=60, cap=3600, rng=rng) >= 1800  # no overflow


def test_failure_backoff_is_jittered() -> None:
    rng = random.Random(1)
    delays = {failure_backoff(5, base=60, cap=3600, rng=rng) for _ in range(10)}
    assert len(delays) == 10


def test_failure_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="base"):
        failure_backoff(1, base=0, cap=10)
    with pytest.raises(ValueError, match="cap"):
        failure_backoff(1, base=60, cap=10)


def test_next_interval() -> None:
    bounds = {"minimum": 60.0, "maximum": 7200.0}
    assert next_interval(900, max_age=None, ttl_minutes=None, **bounds) == 900
    assert next_interval(900, max_age=60, ttl_minutes=None, **bounds) == 900  # not more often
    assert next_interval(900, max_age=1800, ttl_minutes=None, **bounds) == 1800
    assert next_interval(900, max_age=None, ttl_minutes=60, **bounds) == 3600
    assert next_interval(900, max_age=1800, ttl_minutes=60, **bounds) == 3600
    assert next_interval(900, max_age=None, ttl_minutes=10080, **bounds) == 7200  # capped
    assert next_interval(10, max_age=0, ttl_minutes=0, **bounds) == 60  # never below minimum
    assert next_interval(99999, max_age=None, ttl_minutes=None, **bounds) == 7200
    with pytest.raises(ValueError):
        next_interval(900, max_age=None, ttl_minutes=None, minimum=10, maximum=5)


def test_retry_after_delay() -> None:
    assert retry_after_delay(None, fallback=300, cap=3600) == 300
    assert retry_after_delay(1200, fallback=300, cap=3600) == 1200
    assert retry_after_delay(0, fallback=300, cap=3600) == 300  # "Retry-After: 0" is no hurry
    assert retry_after_delay(86400 * 3, fallback=300, cap=3600) == 3600


def test_should_disable() -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    week = timedelta(days=7)
    assert not should_disable(None, now, week)
    assert not should_disable(now - timedelta(days=6), now, week)
    assert should_disable(now - week, now, week)
    assert should_disable(now - timedelta(days=30), now, week)
