"""A forward HTTP proxy on 127.0.0.1 that only tunnels (CONNECT) to the hosts it is given.

async with FakeProxy({"discord.com": api_port}) as proxy:
    # run the bot with NKRU_DISCORD_PROXY=proxy.url
    assert proxy.tunnels == ["discord.com:443"]

Like a corporate proxy: `CONNECT host:443`, optionally with `Proxy-Authorization: Basic …`
(407 without it), answered `200 Connection established`, then bytes both ways; the TLS inside
is between the client and the fake. Other hosts, ports and methods get 403.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Self


class FakeProxy:
    """See the module docstring."""

    def __init__(self, ports: Mapping[str, int], *, login: tuple[str, str] | None = None) -> None:
        self.ports = dict(ports)  # host → the loopback port its tunnels lead to
        self.login = login
        self.tunnels: list[str] = []  # "host:port" of every tunnel opened
        self.refused: list[str] = []  # request lines answered 403 or 407
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        """What NKRU_DISCORD_PROXY should say (with the login, if one is required)."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        user = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"http://{user}127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._tunnel(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        method, target, _ = request_line.split(" ", 2)
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or port != "443" or host not in self.ports:
            self.refused.append(request_line)
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        if self.login and headers.get("proxy-authorization") != _basic(*self.login):
            self.refused.append(request_line)
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="fake"\r\nContent-Length: 0\r\n\r\n'
            )
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ports[host])
        self.tunnels.append(target)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await _pipe_both(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy bytes both ways until either side closes, then stop both."""
    copies = [
        asyncio.create_task(_copy(reader, up_writer)),
        asyncio.create_task(_copy(up_reader, writer)),
    ]
    try:
        await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for copy in copies:
            copy.cancel()
        await asyncio.gather(*copies, return_exceptions=True)


async def _copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            target.write(chunk)
            await target.drain()
