"""HTTP fetching of feeds: conditional, bounded, polite, and never raising for network trouble.

`FeedFetcher.fetch` turns every network or HTTP problem into a `FetchResult` with outcome
FAILED and a one-line `error` that tells an operator what to do.  Bugs (anything that is not a
network/HTTP/URL problem) are logged with a traceback and reported as FAILED too, so one broken
feed can never stop the poller; cancellation is never swallowed.

`fetch(request, guarded=True)` is for feeds added from chat: it uses a second session whose
connector resolves host names through `bot.core.feed_safety`'s guard, and checks literal IP
hosts on every hop, so such a feed can only reach public addresses (see that package).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import math
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Self

import aiohttp
from yarl import URL

from bot.core.feed_safety import AddressRefused, GuardedResolver, NetworkGuard
from bot.core.models import FetchOutcome, FetchRequest, FetchResult

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "nkru-monitor/0.1 (+https://github.com/nkru-monitor; news monitoring bot)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RATE_LIMIT_STATUSES = frozenset({429, 503})
_CHUNK_SIZE = 64 * 1024
_MAX_ERROR_CHARS = 600
_MAX_DETAIL_CHARS = 160

UrlGuard = Callable[[str], Awaitable[None]]


class FetchError(Exception):
    """A fetch that cannot go on; `str(exc)` is the one-line, actionable message.

    URL guards raise it (or any exception) to refuse a URL.  `http_status` is set when the
    failure came after a response arrived (a body too large or empty).
    """

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclasses.dataclass(frozen=True, slots=True)
class _Redirect:
    """A hop's answer that says 'go there instead'."""

    target: str


class FeedFetcher:
    """Polls feed URLs over HTTP(S) with conditional GETs, size limits and concurrency limits."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_body_bytes: int = 10 * 1024 * 1024,
        max_redirects: int = 5,
        global_limit: int = 20,
        per_host_limit: int = 2,
        url_guard: UrlGuard | None = None,
        network_guard: NetworkGuard | None = None,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._user_agent = user_agent
        self._connect_timeout = connect_timeout
        self._total_timeout = total_timeout
        # aiohttp's `total` covers connecting, sending and reading the whole body of one hop.
        self._timeout = aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout)
        self._max_body_bytes = max_body_bytes
        self._max_redirects = max_redirects
        self._global = asyncio.Semaphore(global_limit)
        self._per_host_limit = per_host_limit
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._url_guard = url_guard
        # Guarded fetches always have a guard: without one configured, only public addresses.
        self._network_guard = network_guard or NetworkGuard()
        self._guarded_session: aiohttp.ClientSession | None = None
        self._guarded_resolver: GuardedResolver | None = None

    async def __aenter__(self) -> Self:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this fetcher created it, and the guarded session."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._guarded_session is not None:
            await self._guarded_session.close()
            self._guarded_session = None
        if self._guarded_resolver is not None:
            await self._guarded_resolver.close()  # a connector never closes a resolver it got
            self._guarded_resolver = None

    async def fetch(self, request: FetchRequest, *, guarded: bool = False) -> FetchResult:
        """Poll one feed; always returns a FetchResult (elapsed includes waiting for a slot).

        `guarded` fetches (feeds added from chat) may only connect to addresses the network
        guard accepts; a refusal is a FAILED result whose error says what and why.
        """
        started = time.monotonic()
        try:
            result = await self._follow(request, guarded)
        except Exception as exc:  # a bug must not stop the poller; it is logged loudly instead
            logger.exception("unexpected error while fetching %s", request.url)
            result = _failed(
                request,
                f"unexpected error while fetching {request.url} ({type(exc).__name__}:"
                f" {_short(exc)})"
                " — this is a bug in nkru-monitor, see the logs",
            )
        return dataclasses.replace(result, elapsed=time.monotonic() - started)

    async def _follow(self, request: FetchRequest, guarded: bool) -> FetchResult:
        """Run hops, following redirects by hand so every target passes the URL guard."""
        url = request.url
        for _ in range(self._max_redirects + 1):
            try:
                answer = await self._hop(request, url, guarded)
            except FetchError as exc:
                return _failed(request, str(exc), final_url=url, http_status=exc.http_status)
            except AddressRefused as exc:  # before connecting: nothing was sent to that address
                return _failed(request, exc.describe(url), final_url=url)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                return _failed(request, self._describe(exc, url), final_url=url)
            if isinstance(answer, FetchResult):
                return answer
            url = answer.target
        return _failed(
            request,
            f"too many redirects (>{self._max_redirects}) starting at {request.url}, last hop"
            f" to {url} — the site redirects in a loop or too often; open the URL in a browser"
            " and set the feed URL to the address it ends up at",
            final_url=url,
        )

    async def _hop(self, request: FetchRequest, url: str, guarded: bool) -> FetchResult | _Redirect:
        """Request one URL (one redirect hop) and interpret its response."""
        parsed = _check_url(url)
        await self._guard(url)
        if guarded:  # literal IPs skip the resolver, so they are checked here
            self._network_guard.check_host(parsed.host or "")
        # Host slot first, then the global one, so requests queued behind a busy host do not
        # hold global slots that other hosts could use.
        async with self._host_slot(parsed.host or ""), self._global:
            session = self._get_guarded_session() if guarded else self._get_session()
            async with session.get(
                parsed,
                headers=self._headers(request),
                allow_redirects=False,
                timeout=self._timeout,
                auto_decompress=True,  # even on a borrowed session: the limit is on decoded bytes
            ) as resp:
                return await self._interpret(request, url, resp)

    async def _guard(self, url: str) -> None:
        """Ask the URL guard; any exception from it means 'refused' (fail closed)."""
        if self._url_guard is None:
            return
        try:
            await self._url_guard(url)
        except Exception as exc:
            raise FetchError(f"URL {url} refused: {_short(exc)}") from exc

    async def _interpret(
        self, request: FetchRequest, url: str, resp: aiohttp.ClientResponse
    ) -> FetchResult | _Redirect:
        """Turn one HTTP response into a result, or a redirect to follow."""
        if resp.status in REDIRECT_STATUSES:
            return _Redirect(_redirect_target(url, resp))
        if resp.status == HTTPStatus.NOT_MODIFIED:
            return _not_modified(request, url, resp)
        if not 200 <= resp.status < 300:
            return _http_failure(request, url, resp)
        body = await self._read_body(url, resp)
        return _fetched(request, url, resp, body)

    async def _read_body(self, url: str, resp: aiohttp.ClientResponse) -> bytes:
        """Read the decoded body in chunks, stopping as soon as it exceeds the limit."""
        limit = self._max_body_bytes
        announced = resp.content_length
        # With Content-Encoding this is the compressed size: over the limit still means too big.
        if announced is not None and announced > limit:
            raise FetchError(
                self._too_big(url, f"announces {_size(announced)}"), http_status=resp.status
            )
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK_SIZE):
            body += chunk
            if len(body) > limit:
                raise FetchError(self._too_big(url, "sent more than that"), http_status=resp.status)
        if not body:
            raise FetchError(
                f"empty response body (HTTP {resp.status} with no content) from {url}"
                " — the server publishes nothing there; check the feed URL",
                http_status=resp.status,
            )
        return bytes(body)

    def _too_big(self, url: str, detail: str) -> str:
        """Message for a body over max_body_bytes."""
        return (
            f"body exceeds the {_size(self._max_body_bytes)} limit (max_body_bytes) from {url}:"
            f" it {detail} — raise NKRU_FETCH_MAX_BODY_BYTES or remove the feed"
        )

    def _headers(self, request: FetchRequest) -> dict[str, str]:
        """Request headers, including the conditional-GET validators we remembered."""
        headers = {
            "User-Agent": self._user_agent,
            "Accept": ACCEPT,
            # Only what aiohttp can always decode: no br/zstd surprises from optional packages.
            "Accept-Encoding": "gzip, deflate",
        }
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        return headers

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        """The semaphore limiting concurrent requests to one host."""
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self._per_host_limit)
        return slot

    def _get_session(self) -> aiohttp.ClientSession:
        """The session to use, created on first need when none was passed in."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _get_guarded_session(self) -> aiohttp.ClientSession:
        """The session for guarded fetches: its connector resolves through the network guard."""
        if self._guarded_session is None:
            self._guarded_resolver = self._network_guard.guarded_resolver()
            # No DNS cache and no kept-alive connections: each guarded fetch resolves, checks
            # and connects afresh (polls are minutes apart, so this costs nothing), and a name
            # moved to a private address is refused on the very next poll.
            connector = aiohttp.TCPConnector(
                resolver=self._guarded_resolver, use_dns_cache=False, force_close=True
            )
            self._guarded_session = aiohttp.ClientSession(
                timeout=self._timeout, connector=connector
            )
        return self._guarded_session

    def _describe(self, exc: BaseException, url: str) -> str:
        """A one-line, actionable message for a network-level failure."""
        message = _describe_connect(exc, url, self._connect_timeout)
        return message or _describe_transfer(exc, url, self._total_timeout)


def _describe_connect(exc: BaseException, url: str, connect_timeout: float) -> str | None:
    """Describe failures that happen before any response arrives, or None if not one."""
    host = URL(url).host or url
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return (
            f"cannot resolve host {host} (DNS lookup failed)"
            " — check the URL or the machine's network"
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return (
            f"TLS certificate of {host} is not valid ({exc.certificate_error}) — the site's"
            " certificate is broken or the clock is wrong; contact the site or remove the feed"
        )
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError | aiohttp.ServerFingerprintMismatch):
        return (
            f"TLS/SSL handshake with {host} failed ({_short(_os_cause(exc))})"
            " — the site's HTTPS setup is broken"
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return (
            f"connecting to {host} timed out after {connect_timeout:g} s (connect_timeout)"
            " — the host is down or blocking us; raise NKRU_FETCH_CONNECT_TIMEOUT if it is slow"
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        reason = os.strerror(cause.errno) if cause.errno else _short(cause)
        return (
            f"cannot connect to {exc.host}:{exc.port} ({reason}) — the server is down or the"
            " URL's host/port is wrong"
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid URL {url!r} ({_short(exc)}) — fix the feed URL"
    if isinstance(exc, ValueError):
        return f"cannot build a request for {url} ({_short(exc)}) — check the feed URL"
    return None


def _describe_transfer(exc: BaseException, url: str, total_timeout: float) -> str:
    """Describe failures while sending the request or reading the response."""
    host = URL(url).host or url
    if isinstance(exc, TimeoutError):  # includes aiohttp.ServerTimeoutError
        return (
            f"no complete response from {url} within {total_timeout:g} s (total_timeout)"
            " — the server is too slow; raise NKRU_FETCH_TOTAL_TIMEOUT or try later"
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return (
            f"server {host} closed the connection without a complete response"
            " — usually temporary; polling will retry"
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return (
            f"response body from {url} was cut off ({_short(exc)})"
            " — the connection dropped mid-transfer; usually temporary"
        )
    if isinstance(exc, aiohttp.ClientResponseError):
        return (
            f"malformed HTTP response from {host} ({_short(exc.message)})"
            " — the server is misbehaving"
        )
    if isinstance(exc, OSError):
        return f"network error talking to {host} ({_short(exc)}) — usually temporary"
    return f"HTTP client error for {url} ({type(exc).__name__}: {_short(exc)})"


def _os_cause(exc: BaseException) -> BaseException:
    """The OS/SSL error under aiohttp's wrapper, whose text repeats host and port."""
    return exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc


def _check_url(url: str) -> URL:
    """Parse a URL we are about to request, refusing anything that is not absolute http(s)."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise FetchError(f"invalid URL {url!r} ({_short(exc)}) — fix the feed URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(
            f"unsupported URL scheme {parsed.scheme or 'none'!r} in {url!r}"
            " — feed URLs must start with http:// or https://"
        )
    if not parsed.host:
        raise FetchError(f"invalid URL {url!r} (no host name) — fix the feed URL")
    return parsed


def _redirect_target(url: str, resp: aiohttp.ClientResponse) -> str:
    """The absolute URL a redirect points to."""
    location = resp.headers.get("Location")
    if not location:
        raise FetchError(
            f"HTTP {resp.status} redirect without a Location header from {url}"
            " — the server is misconfigured; check the feed URL in a browser"
        )
    try:
        return str(URL(url).join(URL(location)))
    except ValueError as exc:
        raise FetchError(
            f"invalid redirect target {location!r} from {url} ({_short(exc)})"
            " — the server is misconfigured"
        ) from exc


def _not_modified(request: FetchRequest, url: str, resp: aiohttp.ClientResponse) -> FetchResult:
    """HTTP 304: keep the validators we had unless the server sent fresh ones."""
    return FetchResult(
        outcome=FetchOutcome.NOT_MODIFIED,
        url=request.url,
        final_url=url,
        http_status=resp.status,
        etag=resp.headers.get("ETag") or request.etag,
        last_modified=resp.headers.get("Last-Modified") or request.last_modified,
        body_hash=request.body_hash,
        max_age=parse_max_age(resp.headers.get("Cache-Control")),
    )


def _fetched(
    request: FetchRequest, url: str, resp: aiohttp.ClientResponse, body: bytes
) -> FetchResult:
    """A 2xx with a body: FETCHED, or UNCHANGED when the body hash matches the last one."""
    body_hash = hashlib.sha256(body).hexdigest()
    unchanged = body_hash == request.body_hash
    return FetchResult(
        outcome=FetchOutcome.UNCHANGED if unchanged else FetchOutcome.FETCHED,
        url=request.url,
        final_url=url,
        http_status=resp.status,
        body=None if unchanged else body,
        content_type=resp.headers.get("Content-Type"),
        etag=resp.headers.get("ETag"),
        last_modified=resp.headers.get("Last-Modified"),
        body_hash=body_hash,
        max_age=parse_max_age(resp.headers.get("Cache-Control")),
    )


def _http_failure(request: FetchRequest, url: str, resp: aiohttp.ClientResponse) -> FetchResult:
    """A non-2xx, non-redirect, non-304 status; the body is never read."""
    retry_after = None
    if resp.status in RATE_LIMIT_STATUSES:
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    return FetchResult(
        outcome=FetchOutcome.FAILED,
        url=request.url,
        final_url=url,
        http_status=resp.status,
        content_type=resp.headers.get("Content-Type"),
        retry_after=retry_after,
        error=_one_line(
            f"HTTP {resp.status} {_reason(resp)} from {url}"
            f" — {_status_hint(resp.status, retry_after)}"
        ),
    )


def _reason(resp: aiohttp.ClientResponse) -> str:
    """The reason phrase, falling back to the standard one."""
    if resp.reason:
        return resp.reason
    try:
        return HTTPStatus(resp.status).phrase
    except ValueError:
        return "(unknown status)"


def _status_hint(status: int, retry_after: float | None) -> str:
    """What an operator should do about an HTTP error status."""
    if status in RATE_LIMIT_STATUSES:
        wait = "no Retry-After" if retry_after is None else f"it asked for {retry_after:g} s"
        return f"the server is rate limiting or overloaded ({wait}); polling will back off"
    if status in (401, 403):
        return "the site refuses the bot; check whether the feed needs a login or blocks bots"
    if status in (404, 410):
        return "check the feed URL (the feed may have moved or been removed)"
    if status >= 500:
        return "server error, usually temporary; polling will retry with back-off"
    return "check the feed URL"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    # Rounded up: waiting a fraction longer than asked is fine, shorter is not.
    return float(max(0, math.ceil((when - (now or datetime.now(UTC))).total_seconds())))


def parse_max_age(value: str | None) -> float | None:
    """The Cache-Control max-age in seconds, or None when absent or malformed."""
    if not value:
        return None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            argument = argument.strip().strip('"')
            return float(argument) if argument.isdigit() else None
    return None


def _failed(
    request: FetchRequest,
    error: str,
    *,
    final_url: str | None = None,
    http_status: int | None = None,
) -> FetchResult:
    """A FAILED result carrying the message and what little else is known."""
    return FetchResult(
        outcome=FetchOutcome.FAILED,
        url=request.url,
        final_url=final_url,
        http_status=http_status,
        error=_one_line(error),
    )


def _one_line(text: str) -> str:
    """Collapse whitespace and bound the length so errors fit in one status line."""
    text = " ".join(text.split())
    if len(text) > _MAX_ERROR_CHARS:
        return text[: _MAX_ERROR_CHARS - 1] + "…"
    return text


def _short(detail: object) -> str:
    """A library's exception text, shortened so the actionable advice after it survives."""
    text = " ".join(str(detail).split()) or type(detail).__name__
    if len(text) > _MAX_DETAIL_CHARS:
        return text[: _MAX_DETAIL_CHARS - 1] + "…"
    return text


def _size(n: int) -> str:
    """A human size: '10 MB', '512 KB', '100 bytes'."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} bytes"
