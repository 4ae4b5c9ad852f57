"""A fake Slack on loopback: the Web API methods the bot uses, response_url, and Socket Mode.

async with FakeSlackApi() as slack:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.fail("chat.postMessage", error="channel_not_found")
    ...
    assert slack.calls_to("chat.postMessage")[0].args["channel"] == "C0123"

Every call is recorded as slack_sdk sent it (JSON, form or query), with its raw body. Messages
are checked against Block Kit's limits and refused like Slack does (`invalid_blocks`,
`msg_too_long`), so a renderer that oversteps fails its tests. Failures can be scripted per
method (429 with a whole-second Retry-After, 500 pages, any Slack error code).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_IMAGE_URL = 3000
MAX_IMAGE_ALT = 2000
TEXT_TYPES = {"plain_text", "mrkdwn"}


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API request: method, arguments as sent, raw body, bearer token."""

    method: str
    args: dict[str, Any]
    raw: str
    token: str | None
    content_type: str
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass(frozen=True, slots=True)
class ResponsePost:
    """One message posted to a response_url."""

    key: str
    body: dict[str, Any]
    raw: str


@dataclass(slots=True)
class Scripted:
    """A scripted failure for the next call(s) of a method."""

    status: int = 200
    error: str = "internal_error"
    retry_after: int | None = None
    html: str | None = None  # a non-JSON body (e.g. a load balancer's 500 page)
    extra: dict[str, Any] = field(default_factory=dict)


def block_problems(blocks: Any, where: str = "blocks") -> list[str]:
    """What Slack would reject in a list of blocks (empty when it is valid)."""
    if not isinstance(blocks, list):
        return [f"{where}: must be a list"]
    problems = (
        [f"{where}: {len(blocks)} blocks, max {MAX_BLOCKS}"] if len(blocks) > MAX_BLOCKS else []
    )
    for index, block in enumerate(blocks):
        problems += _block_problems(block, f"{where}[{index}]")
    return problems


def _block_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: not an object"]
    kind = block.get("type")
    if len(str(block.get("block_id", ""))) > 255:
        return [f"{where}.block_id: over 255"]
    if kind == "section":
        problems: list[str] = []
        if "text" in block:
            problems += _text_problems(block["text"], f"{where}.text", MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if len(fields) > 10:
            problems.append(f"{where}.fields: over 10")
        for n, item in enumerate(fields):
            problems += _text_problems(item, f"{where}.fields[{n}]", MAX_FIELD_TEXT)
        if "text" not in block and not fields:
            problems.append(f"{where}: needs text or fields")
        if "accessory" in block:
            problems += _image_problems(block["accessory"], f"{where}.accessory")
        return problems
    if kind == "header":
        return _text_problems(block.get("text"), f"{where}.text", MAX_HEADER_TEXT, plain_only=True)
    if kind == "context":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= 10:
            return [f"{where}.elements: {len(elements)}, must be 1-10"]
        return [
            p
            for n, e in enumerate(elements)
            for p in _text_problems(e, f"{where}.elements[{n}]", MAX_SECTION_TEXT)
        ]
    if kind == "divider":
        return []
    return [f"{where}: unsupported block type {kind!r}"]


def _image_problems(element: Any, where: str) -> list[str]:
    """An image element: an http(s) image_url and a plain alt_text, within Slack's limits."""
    if not isinstance(element, dict) or element.get("type") != "image":
        return [f"{where}: only image accessories are expected"]
    url, alt = element.get("image_url"), element.get("alt_text")
    problems = []
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
        problems.append(f"{where}.image_url: not an http(s) URL")
    elif len(url) > MAX_IMAGE_URL or any(ch.isspace() for ch in url):
        problems.append(f"{where}.image_url: over {MAX_IMAGE_URL} or has spaces")
    if not isinstance(alt, str) or not 0 < len(alt) <= MAX_IMAGE_ALT:
        problems.append(f"{where}.alt_text: must be 1-{MAX_IMAGE_ALT} characters")
    return problems


def _text_problems(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
        return [f"{where}: not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: text must be a non-empty string"]
    if len(text) > limit:
        return [f"{where}: {len(text)} characters, max {limit}"]
    return []


def message_problems(args: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(error code, details) if Slack would refuse this message, else None."""
    text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
    if not text and not blocks and not attachments:
        return "no_text", []
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return "msg_too_long", [f"text: {len(text)} characters"]
    problems = block_problems(blocks) if blocks is not None else []
    if attachments is not None:
        if len(attachments) > MAX_ATTACHMENTS:
            return "too_many_attachments", []
        for n, attachment in enumerate(attachments):
            problems += block_problems(attachment.get("blocks", []), f"attachments[{n}].blocks")
    return ("invalid_blocks", problems) if problems else None


class FakeSlackApi:
    """Slack's Web API, response_url and Socket Mode, served on 127.0.0.1 (random port)."""

    def __init__(
        self, bot_token: str = "xoxb-test-token", app_token: str = "xapp-test-token"
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[ApiCall] = []
        self.responses: list[ResponsePost] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel → oldest first
        self.missing_channels: set[str] = set()  # answered with channel_not_found
        self.socket_messages: list[dict[str, Any]] = []  # what Socket Mode clients sent
        self.response_status = 200  # what response_url answers
        self.usergroups: dict[str, list[str]] = {}  # user-group id → member user ids
        self.users: dict[str, dict[str, Any]] = {}  # user id → users.info "user" object
        # Store posts but never answer them: the sender dies between sending and recording.
        self.hang_after_post = False
        self._scripts: dict[str, list[Scripted]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.wait_timeout = 5.0
        self._changed = asyncio.Condition()  # notified whenever anything arrives

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
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

    # --- what tests use -------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The base_url for AsyncWebClient."""
        return f"{self.base}/api/"

    def response_url(self, key: str = "r1") -> str:
        """A response_url whose posts are recorded under `key`."""
        return f"{self.base}/respond/{key}"

    def calls_to(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def fail(self, method: str, *, times: int = 1, **script: Any) -> None:
        """Make the next `times` calls of `method` fail as scripted (see Scripted)."""
        self._scripts.setdefault(method, []).extend(Scripted(**script) for _ in range(times))

    def seed_message(
        self,
        channel: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        thread_ts: str | None = None,
    ) -> str:
        """Put an existing message in a channel or thread (e.g. one posted before a crash)."""
        args = {"text": text, "metadata": metadata, "thread_ts": thread_ts}
        return str(self._store(channel, args)["ts"])

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait (up to `wait_timeout`) until `predicate()` holds after something arrived."""
        async with asyncio.timeout(self.wait_timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def send_envelope(self, payload: dict[str, Any], kind: str = "slash_commands") -> str:
        """Push a Socket Mode envelope to the connected client; its envelope_id."""
        await self.wait_for(lambda: bool(self._sockets))
        envelope_id = f"env-{next(self._ts)}"
        message = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
        }
        await self._sockets[-1].send_json(message)
        return envelope_id

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        """The acknowledgements the client sent for an envelope."""
        return [m for m in self.socket_messages if m.get("envelope_id") == envelope_id]

    # --- the Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        raw = await request.text()
        call = ApiCall(
            method, _arguments(request, raw), raw, _bearer(request), request.content_type
        )
        self.calls.append(call)
        response = self._answer(call)
        await self._notify()
        if self.hang_after_post and method == "chat.postMessage":
            await asyncio.Event().wait()  # until the client goes away and aiohttp cancels us
        return response

    def _answer(self, call: ApiCall) -> web.Response:
        if scripts := self._scripts.get(call.method):
            return _scripted(scripts.pop(0))
        expected = self.app_token if call.method == "apps.connections.open" else self.bot_token
        if call.token != expected:
            return _error("invalid_auth" if call.token else "not_authed")
        handler = self._methods().get(call.method)
        return handler(call.args) if handler else _error("unknown_method")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], web.Response]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "apps.connections.open": self._connections_open,
            "usergroups.list": self._usergroups_list,
            "users.info": self._users_info,
        }

    def _usergroups_list(self, args: dict[str, Any]) -> web.Response:
        with_users = str(args.get("include_users", "")).lower() in {"1", "true"}
        groups = [
            {"id": group_id, "handle": group_id.lower()} | ({"users": users} if with_users else {})
            for group_id, users in self.usergroups.items()
        ]
        return _ok(usergroups=groups)

    def _users_info(self, args: dict[str, Any]) -> web.Response:
        user_id = str(args.get("user", ""))
        if user_id not in self.users:
            return _error("user_not_found")
        return _ok(user={"id": user_id, "is_admin": False, "is_owner": False} | self.users[user_id])

    def _auth_test(self, args: dict[str, Any]) -> web.Response:
        return _ok(
            url="https://nkru-test.slack.com/",
            team="nkru",
            user="nkru",
            team_id="T0TEST",
            user_id="U0BOT",
            bot_id="B0BOT",
        )

    def _post_message(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel", ""))
        if refusal := self._refuse(channel, args):
            return refusal
        parent = str(args.get("thread_ts") or "")
        if parent and not self._top_level(channel, parent):
            return _error("thread_not_found")
        stored = self._store(channel, args)
        return _ok(channel=channel, ts=stored["ts"], message=stored)

    def _top_level(self, channel: str, ts: str) -> dict[str, Any] | None:
        found = (m for m in self.messages.get(channel, []) if m["ts"] == ts)
        message = next(found, None)
        return message if message is not None and message.get("thread_ts", ts) == ts else None

    def thread(self, channel: str, parent: str) -> list[dict[str, Any]]:
        """The replies in a thread, oldest first."""
        return [
            m
            for m in self.messages.get(channel, [])
            if m.get("thread_ts") == parent and m["ts"] != parent
        ]

    def _replies(self, args: dict[str, Any]) -> web.Response:
        # Slack: the parent first, then its replies oldest first, in pages of `limit`.
        channel, parent = str(args.get("channel", "")), str(args.get("ts", ""))
        if channel in self.missing_channels:
            return _error("channel_not_found")
        top = self._top_level(channel, parent)
        if top is None:
            return _error("thread_not_found")
        limit, start = int(args.get("limit", 1000)), int(args.get("cursor") or 0)
        everything = [top, *self.thread(channel, parent)]
        page = everything[start : start + limit]
        more = start + limit < len(everything)
        return _ok(
            messages=[_shown(m, args) for m in page],
            has_more=more,
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    def _update(self, args: dict[str, Any]) -> web.Response:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        if refusal := self._refuse(channel, args):
            return refusal
        found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not found:
            return _error("message_not_found")
        found[0].update(_message_fields(args), edited=True)
        return _ok(channel=channel, ts=ts, text=found[0]["text"])

    def _history(self, args: dict[str, Any]) -> web.Response:
        channel = str(args.get("channel", ""))
        if channel in self.missing_channels:
            return _error("channel_not_found")
        limit = int(args.get("limit", 100))
        # Thread replies are not in a channel's history (only in conversations.replies).
        top = [m for m in self.messages.get(channel, []) if m.get("thread_ts", m["ts"]) == m["ts"]]
        newest_first = list(reversed(top))[:limit]
        return _ok(messages=[_shown(m, args) for m in newest_first], has_more=len(top) > limit)

    def _connections_open(self, args: dict[str, Any]) -> web.Response:
        return _ok(url=f"{self.base.replace('http://', 'ws://')}/link")

    def _refuse(self, channel: str, args: dict[str, Any]) -> web.Response | None:
        if not channel or channel in self.missing_channels:
            return _error("channel_not_found")
        if problem := message_problems(args):
            return _error(problem[0], errors=problem[1])
        return None

    def _store(self, channel: str, args: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ts)
        message = {
            "type": "message",
            "ts": f"{1_700_000_000 + n}.{n:06d}",
            "bot_id": "B0BOT",
            **_message_fields(args),
        }
        self.messages.setdefault(channel, []).append(message)
        return message

    # --- response_url and Socket Mode -----------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        raw = await request.text()
        body = json.loads(raw) if raw else {}
        self.responses.append(ResponsePost(request.match_info["key"], body, raw))
        await self._notify()
        if problem := message_problems(body):
            return web.Response(status=400, text=problem[0])
        return web.Response(status=self.response_status, text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await self._notify()
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0TEST"}}
        )
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.socket_messages.append(json.loads(message.data))
                await self._notify()
        return socket


def _arguments(request: web.Request, raw: str) -> dict[str, Any]:
    """Query parameters plus the body, JSON or form-encoded (as slack_sdk sends each)."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and raw:
        args.update(json.loads(raw))
    elif raw:
        args.update(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "attachments", "metadata"):  # form bodies carry these as JSON strings
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _shown(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history shows it: metadata only when asked for."""
    with_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
    return {k: v for k, v in message.items() if k != "metadata" or (with_metadata and v)}


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None


def _message_fields(args: dict[str, Any]) -> dict[str, Any]:
    keys = ("text", "blocks", "attachments", "metadata", "thread_ts")
    fields = {key: args[key] for key in keys if args.get(key)}
    fields.setdefault("text", "")
    return fields


def _ok(**data: Any) -> web.Response:
    return web.json_response({"ok": True, **data})


def _error(code: str, **data: Any) -> web.Response:
    return web.json_response({"ok": False, "error": code, **data})


def _scripted(script: Scripted) -> web.Response:
    headers = {"Retry-After": str(script.retry_after)} if script.retry_after is not None else {}
    if script.html is not None:
        return web.Response(
            status=script.status, text=script.html, content_type="text/html", headers=headers
        )
    body = {"ok": False, "error": script.error, **script.extra}
    return web.json_response(body, status=script.status, headers=headers)
