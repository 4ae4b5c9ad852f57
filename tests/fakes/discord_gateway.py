"""A fake Discord gateway on 127.0.0.1: the websocket a bot connects to for events.

async with FakeGateway(guilds=[guild_create()]) as gateway:
    # run the bot with network=fake_api.network(gateway.port): wss://gateway.discord.gg → here
    await gateway.wait_identified()
    await gateway.dispatch("INTERACTION_CREATE", payload)

It speaks the gateway protocol's JSON text frames: HELLO (op 10), then, on IDENTIFY (op 2),
READY and one GUILD_CREATE per guild; heartbeats (op 1) are acknowledged (op 11). discord.py
asks for zlib-stream compression, but reads uncompressed text frames as they come. It serves
TLS with the fakes' certificate for gateway.discord.gg (tests/fakes/discord_hosts.py).
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import APP_ID, BOT_USER
from tests.fakes.discord_hosts import GATEWAY_URL, server_ssl

Json = dict[str, Any]


class FakeGateway:
    """Discord's gateway for one bot; see the module docstring."""

    def __init__(self, guilds: list[Json] | None = None) -> None:
        self.guilds = guilds or []
        self.identified: list[Json] = []  # IDENTIFY payloads received
        self.heartbeats = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_ssl()).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        """The loopback port that stands for gateway.discord.gg:443."""
        return self._port

    @property
    def connected(self) -> int:
        """How many bots are connected and identified now."""
        return len(self._sockets)

    async def wait_identified(self) -> Json:
        """Wait (up to 30 s) until a bot has identified and been sent READY; its IDENTIFY."""
        async with asyncio.timeout(30), self._changed:
            await self._changed.wait_for(lambda: bool(self.identified))
        return self.identified[-1]

    async def dispatch(self, event: str, data: Json) -> None:
        """Send an event (op 0) to every connected bot (one found gone is forgotten)."""
        for socket in list(self._sockets):
            try:
                await self._send_event(socket, event, data)
            except ConnectionResetError:  # its process was killed
                self._sockets.remove(socket)

    async def _send_event(self, socket: web.WebSocketResponse, event: str, data: Json) -> None:
        self._sequence += 1
        await socket.send_str(json.dumps({"op": 0, "s": self._sequence, "t": event, "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41_250}}))
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame["op"] == 1:
                self.heartbeats += 1
                await socket.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                await self._ready(socket, frame["d"])
        if socket in self._sockets:
            self._sockets.remove(socket)
        return socket

    async def _ready(self, socket: web.WebSocketResponse, identify: Json) -> None:
        ready = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": guild["id"], "unavailable": True} for guild in self.guilds],
            "session_id": "fake-session",
            "resume_gateway_url": GATEWAY_URL,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._send_event(socket, "READY", ready)
        for guild in self.guilds:
            await self._send_event(socket, "GUILD_CREATE", guild)
        self._sockets.append(socket)
        async with self._changed:
            self.identified.append(identify)
            self._changed.notify_all()
