"""A loopback feed server for tests: real HTTP on 127.0.0.1, routes changeable while running.

async with FeedServer() as server:
    server.add_feed("/feed.xml", RSS_BYTES)
    result = await fetcher.fetch(FetchRequest(server.url("/feed.xml")))
    assert server.hits("/feed.xml") == 1
"""

from __future__ import annotations

import gzip as gzip_module
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Self

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Deterministic Last-Modified values: version n of a feed was "modified" n hours after this.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received: its path and a case-insensitive copy of its headers."""

    path: str
    headers: CIMultiDictProxy[str]


@dataclass(slots=True)
class _Feed:
    """A served document and how to serve it."""

    body: bytes
    content_type: str
    etag: bool
    last_modified: bool
    gzip: bool
    headers: dict[str, str]
    version: int = 0

    def etag_value(self) -> str:
        """A strong ETag derived from the body, so a new body gets a new ETag."""
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def last_modified_value(self) -> str:
        """An HTTP-date that moves forward with each set_body."""
        return format_datetime(_EPOCH + timedelta(hours=self.version), usegmt=True)


class FeedServer:
    """aiohttp server on 127.0.0.1 (random port) serving feeds, redirects and custom handlers."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._feeds: dict[str, _Feed] = {}
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        # One catch-all route: aiohttp freezes its router at startup, ours stays editable.
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # Cancel handlers whose client went away, and do not wait long for them at shutdown,
        # so slow/hanging handlers never slow the test suite down.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._port

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self._port}{path}"

    def add_feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: bool = True,
        last_modified: bool = True,
        gzip: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve `body` at `path`, with validators that answer conditional requests with 304."""
        self._feeds[path] = _Feed(body, content_type, etag, last_modified, gzip, headers or {})
        self._routes[path] = self._serve_feed

    def set_body(self, path: str, body: bytes) -> None:
        """Change a feed's body (which changes its ETag and Last-Modified)."""
        feed = self._feeds[path]
        feed.body = body
        feed.version += 1

    def add_redirect(self, path: str, target_path: str, status: int = 301) -> None:
        """Redirect `path` to `target_path` (a path is sent as a relative Location)."""

        async def redirect(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": target_path})

        self._routes[path] = redirect

    def add_status(
        self, path: str, status: int, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        """Answer `path` with a fixed status, headers and body."""

        async def fixed(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers=headers, body=body)

        self._routes[path] = fixed

    def add_handler(self, path: str, handler: Handler) -> None:
        """Answer `path` with a custom aiohttp handler (slow, broken, hostile servers...)."""
        self._routes[path] = handler

    def hits(self, path: str) -> int:
        """How many requests `path` has received."""
        return sum(1 for r in self.requests if r.path == path)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(request.path, CIMultiDictProxy(CIMultiDict(request.headers)))
        )
        handler = self._routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such route in FeedServer")
        return await handler(request)

    async def _serve_feed(self, request: web.Request) -> web.StreamResponse:
        feed = self._feeds[request.path]
        headers = dict(feed.headers)
        if feed.etag:
            headers["ETag"] = feed.etag_value()
        if feed.last_modified:
            headers["Last-Modified"] = feed.last_modified_value()
        if _not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        body = feed.body
        if feed.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = feed.content_type
        return web.Response(body=body, headers=headers)


def _not_modified(request: web.Request, feed: _Feed) -> bool:
    """RFC 9110 evaluation: If-None-Match wins; If-Modified-Since only when it is absent."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return feed.etag and ("*" in tags or feed.etag_value() in tags)
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or not feed.last_modified:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return _EPOCH + timedelta(hours=feed.version) <= since
