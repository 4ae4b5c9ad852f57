"""A fake Discord REST API on 127.0.0.1: enough of v10 for a bot, a webhook and slash commands.

async with FakeDiscord() as fake:
    client = api.new_client(network=fake.network())  # https://discord.com/api/v10 → the fake
    ...
    assert fake.channel_messages(CHANNEL) == [...]

It serves TLS with a certificate for discord.com (tests/fakes/discord_hosts.py), so discord.py
runs unchanged against https://discord.com/api/v10: only the connector it is given resolves
the name to this server and trusts the fake CA.

It behaves like Discord where our code depends on it: JSON answered with a bare
`Content-Type: application/json` (discord.py parses nothing else), embed limits enforced with
400/50035, `nonce` + `enforce_nonce` returning the existing message, 429s with `Via`,
`Retry-After` and `X-RateLimit-*` headers, interaction callbacks with `?with_response=1`, and
the first followup after a defer keeping the defer's visibility. Every request is recorded,
and every message body is checked for `allowed_mentions == {"parse": []}`.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.adapters.discord import DiscordNetwork
from tests.fakes.discord_hosts import API_HOST, GATEWAY_HOST, loopback_network, server_ssl

APP_ID = 1_100_000_000_000_000_001  # the bot user's id is the application's, as on Discord
GUILD_ID = 1_000_000_000_000_000_777  # every channel of the fake is in this guild
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
TOKEN = "fake-bot-token"
NO_MENTIONS = {"parse": []}
Json = dict[str, Any]
_BODY = web.RequestKey("json_body", object)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request: method, path below /api/v10, query, JSON body (None when empty)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass(frozen=True, slots=True)
class Scripted:
    """A canned answer for the next matching request."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(retry_after: float, *, is_global: bool = False) -> Scripted:
    """A 429 as Discord sends it (with `Via`, or discord.py takes it for a Cloudflare ban)."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "fake-bucket",
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    return Scripted(429, body | {"global": is_global}, headers)


def error(status: int, code: int, message: str) -> Scripted:
    """A Discord JSON error."""
    return Scripted(status, {"message": message, "code": code})


def server_error(status: int = 500) -> Scripted:
    """A 5xx with Discord's JSON error body."""
    return error(status, 0, f"{status}: Internal Server Error")


FORBIDDEN = error(403, 50013, "Missing Permissions")
UNKNOWN_CHANNEL = error(404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = error(404, 10008, "Unknown Message")
UNKNOWN_WEBHOOK = error(404, 10015, "Unknown Webhook")


@dataclass(slots=True)
class InteractionState:
    """What Discord knows about one interaction and what its user sees."""

    id: int
    token: str
    channel_id: int
    callback_type: int | None = None
    defer_ephemeral: bool = False
    loading: bool = False  # a deferred "thinking…" message no followup has resolved yet
    original_deleted: bool = False
    choices: list[Json] = field(default_factory=list)  # an autocomplete answer
    shown: list[tuple[bool, Json]] = field(default_factory=list)  # (ephemeral, message)


class FakeDiscord:
    """The fake API server; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[int, Json]] = {}  # channel → message id → message
        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.nonce_window = 300.0  # Discord: "the past few minutes"
        self.missing_channels: set[int] = set()
        self.forbidden_channels: set[int] = set()
        self.webhooks: dict[int, tuple[str, int]] = {}  # id → (token, channel)
        self.threads: dict[int, tuple[int, str]] = {}  # thread id (= its message's) → parent, name
        self._message_ids: set[int] = set()  # every message ever created, deleted ones too
        self.interactions: dict[str, InteractionState] = {}
        self.commands: dict[int | None, list[Json]] = {}  # guild (None = global) → commands
        self.mention_violations: list[str] = []
        self.rejected: list[Json] = []  # 400 bodies we answered (limit violations…)
        # Create messages but never answer: the sender dies between sending and recording.
        self.hang_after_post = False
        self._scripts: list[tuple[str, str, deque[Scripted]]] = []
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._record])
        app.router.add_route("*", "/api/v10/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_ssl())
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
        """The loopback port that stands for discord.com:443."""
        return self._port

    def network(self, gateway_port: int | None = None) -> DiscordNetwork:
        """The way to this fake (and to a FakeGateway on `gateway_port`) for discord.py."""
        ports = {API_HOST: self._port} | ({GATEWAY_HOST: gateway_port} if gateway_port else {})
        return loopback_network(ports)

    # --- test controls -------------------------------------------------------------------

    def script(self, method: str, path: str, *answers: Scripted) -> None:
        """Answer the next requests matching `method` and the glob `path` with `answers`."""
        self._scripts.append((method, path, deque(answers)))

    def add_webhook(self, channel_id: int) -> str:
        """Create a webhook in a channel; returns its URL as Discord shows it."""
        webhook_id = next(self._ids)
        token = f"hook-token-{webhook_id}"
        self.webhooks[webhook_id] = (token, channel_id)
        return f"https://{API_HOST}/api/webhooks/{webhook_id}/{token}"

    def expire_nonces(self) -> None:
        """Let Discord's nonce window pass."""
        self.nonces.clear()

    def channel_messages(self, channel_id: int) -> list[Json]:
        """A channel's messages, oldest first."""
        return list(self.messages.get(channel_id, {}).values())

    def calls(self, method: str, path_glob: str) -> list[Recorded]:
        """Recorded requests matching a method and a path glob."""
        return [
            r for r in self.requests if r.method == method and fnmatch.fnmatch(r.path, path_glob)
        ]

    # --- plumbing --------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        request[_BODY] = body
        path = request.path.removeprefix("/api/v10")
        response: web.StreamResponse = await handler(request)
        self.requests.append(
            Recorded(request.method, path, dict(request.query), body, response.status)
        )
        if self.hang_after_post and request.method == "POST" and "/messages" in path:
            await asyncio.Event().wait()  # until the client goes away and aiohttp cancels us
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = request[_BODY]
        for method, glob, answers in self._scripts:
            if answers and method == request.method and fnmatch.fnmatch(path, glob):
                answer = answers.popleft()
                return _json(answer.body, answer.status, answer.headers)
        if _is_message_body(request.method, path, body):
            self._check_mentions(request.method, path, body)
        parts = path.strip("/").split("/")
        route = _ROUTES.get((request.method, _shape(parts)))
        if route is None:
            return _json({"message": "404: Not Found", "code": 0}, 404)
        if _needs_bot_auth(parts) and request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        return await route(self, parts, body or {}, request)

    def _check_mentions(self, method: str, path: str, body: Json) -> None:
        data = body.get("data", {}) if path.endswith("/callback") else body
        if data.get("allowed_mentions") != NO_MENTIONS:
            self.mention_violations.append(f"{method} {path}: {data.get('allowed_mentions')!r}")

    def _invalid(self, errors: Json) -> web.Response:
        body = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        self.rejected.append(body)
        return _json(body, 400)

    def new_message(self, channel_id: int, body: Json, author: Json, **extra: Any) -> Json:
        """Store a message as Discord would create it."""
        message_id = next(self._ids)
        self._message_ids.add(message_id)
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": body.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [{"type": "rich", **embed} for embed in body.get("embeds", [])],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "components": [],
            **extra,
        }
        self.messages.setdefault(channel_id, {})[message_id] = message
        return message

    # --- bot routes ------------------------------------------------------------------------

    async def _me(self, parts: list[str], body: Json, request: web.Request) -> web.Response:
        return _json(BOT_USER | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def _application(
        self, parts: list[str], body: Json, request: web.Request
    ) -> web.Response:
        return _json(APPLICATION)

    async def _create_message(
        self, parts: list[str], body: Json, request: web.Request
    ) -> web.Response:
        channel_id = int(parts[1])
        if refusal := self._channel_refusal(channel_id):
            return refusal
        if errors := message_errors(body, creating=True):
            return self._invalid(errors)
        nonce = body.get("nonce")
        key = (APP_ID, channel_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.nonces.get(key)
            if seen and time.monotonic() - seen[1] < self.nonce_window:
                return _json(self.messages[channel_id][seen[0]] | {"nonce": nonce})
        message = self.new_message(channel_id, body, BOT_USER)
        if nonce is not None:
            self.nonces[key] = (int(message["id"]), time.monotonic())
        return _json(message | ({"nonce": nonce} if nonce is not None else {}))

    async def _channel(self, parts: list[str], body: Json, request: web.Request) -> web.Response:
        channel_id = int(parts[1])
        if refusal := self._channel_refusal(channel_id):
            return refusal
        if channel_id in self.threads:
            return _json(self._thread_object(channel_id))
        return _json(
            {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": f"channel-{channel_id}",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "default_auto_archive_duration": 1440,
            }
        )

    async def _start_thread(
        self, parts: list[str], body: Json, request: web.Request
    ) -> web.Response:
        """POST /channels/{channel}/messages/{message}/threads: a public thread on a message."""
        channel_id, message_id = int(parts[1]), int(parts[3])
        if refusal := self._channel_refusal(channel_id):
            return refusal
        if message_id not in self.messages.get(channel_id, {}):
            return _json(UNKNOWN_MESSAGE.body, 404)
        if message_id in self.threads:
            return _json(
                error(
                    400, THREAD_EXISTS, "A thread has already been created for this message"
                ).body,
                400,
            )
        name = body.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            return self._invalid({"name": _too_long(100)})
        self.threads[message_id] = (channel_id, name)
        return _json(self._thread_object(message_id), 201)

    def _thread_object(self, thread_id: int) -> Json:
        parent, name = self.threads[thread_id]
        return {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent),
            "owner_id": str(APP_ID),
            "name": name,
            "rate_limit_per_user": 0,
            "message_count": len(self.messages.get(thread_id, {})),
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": datetime.now(UTC).isoformat(),
                "locked": False,
            },
        }

    async def _edit_message(
        self, parts: list[str], body: Json, request: web.Request
    ) -> web.Response:
        channel_id, message_id = int(parts[1]), int(parts[3])
        if refusal := self._channel_refusal(channel_id):
            return refusal
        message = self.messages.get(channel_id, {}).get(message_id)
        if message is None:
            return _json(UNKNOWN_MESSAGE.body, 404)
        return self._apply_edit(message, body)

    async def _history(self, parts: list[str], body: Json, request: web.Request) -> web.Response:
        channel_id = int(parts[1])
        if refusal := self._channel_refusal(channel_id):
            return refusal
        limit = int(request.query.get("limit", "50"))
        newest_first = list(reversed(self.channel_messages(channel_id)))[:limit]
        return _json(newest_first)  # fetched messages carry no nonce on Discord

    def _channel_refusal(self, channel_id: int) -> web.Response | None:
        if channel_id in self.missing_channels or self._unstarted_thread(channel_id):
            return _json(UNKNOWN_CHANNEL.body, 404)
        if channel_id in self.forbidden_channels:
            return _json(FORBIDDEN.body, 403)
        return None

    def _unstarted_thread(self, channel_id: int) -> bool:
        """A message's id is a channel only once a thread is started from the message."""
        return channel_id not in self.threads and channel_id in self._message_ids

    def _apply_edit(self, message: Json, body: Json) -> web.Response:
        if errors := message_errors(body, creating=False):
            return self._invalid(errors)
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **embed} for embed in body["embeds"]]
        if "content" in body:
            message["content"] = body["content"] or ""
        message["edited_timestamp"] = datetime.now(UTC).isoformat()
        return _json(message)

    async def _sync_commands(
        self, parts: list[str], body: Any, request: web.Request
    ) -> web.Response:
        guild = int(parts[3]) if len(parts) == 5 else None
        if errors := command_errors(body):
            return self._invalid(errors)
        synced = [
            {"id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1", "type": 1}
            | command
            | ({"guild_id": str(guild)} if guild else {})
            for command in body
        ]
        self.commands[guild] = synced
        return _json(synced)

    # --- webhooks and interactions ----------------------------------------------------------

    async def _execute(self, parts: list[str], body: Json, request: web.Request) -> web.Response:
        hook_id, token = int(parts[1]), parts[2]
        if hook_id == APP_ID and token in self.interactions:
            return self._followup(self.interactions[token], body)
        if self.webhooks.get(hook_id, ("", 0))[0] != token:
            return _json(UNKNOWN_WEBHOOK.body, 404)
        if errors := message_errors(body, creating=True):
            return self._invalid(errors)
        author = {
            "id": str(hook_id),
            "username": "nkru",
            "discriminator": "0000",
            "avatar": None,
            "bot": True,
        }
        message = self.new_message(self.webhooks[hook_id][1], body, author, webhook_id=str(hook_id))
        return _json(message) if _true(request.query.get("wait")) else web.Response(status=204)

    async def _webhook_message(
        self, parts: list[str], body: Json, request: web.Request
    ) -> web.Response:
        hook_id, token, target = int(parts[1]), parts[2], parts[4]
        state = self.interactions.get(token) if hook_id == APP_ID else None
        if state is not None and target == "@original":
            return self._original(state, request.method, body)
        if state is None and self.webhooks.get(hook_id, ("", 0))[0] != token:
            return _json(UNKNOWN_WEBHOOK.body, 404)
        channel_id = state.channel_id if state else self.webhooks[hook_id][1]
        message = self.messages.get(channel_id, {}).get(int(target))
        if message is None or message.get("webhook_id", str(APP_ID)) != str(hook_id):
            return _json(UNKNOWN_MESSAGE.body, 404)
        if request.method == "DELETE":
            del self.messages[channel_id][int(target)]
            return web.Response(status=204)
        return self._apply_edit(message, body)

    def _original(self, state: InteractionState, method: str, body: Json) -> web.Response:
        if state.callback_type not in (4, 5) or state.original_deleted:
            return _json(UNKNOWN_MESSAGE.body, 404)
        if method == "DELETE":
            state.original_deleted, state.loading = True, False
            state.shown = state.shown[1:] if state.callback_type == 4 else state.shown
            return web.Response(status=204)
        state.loading = False  # an edit of the "thinking…" message resolves it
        state.shown.append((state.defer_ephemeral, body))
        return _json(self.new_message(state.channel_id, body, BOT_USER))

    def _followup(self, state: InteractionState, body: Json) -> web.Response:
        if state.callback_type not in (4, 5):
            return _json(error(404, 10015, "Unknown Webhook").body, 404)
        if errors := message_errors(body, creating=True):
            return self._invalid(errors)
        ephemeral = bool(body.get("flags", 0) & 64)
        if state.loading:  # Discord: the first followup after a defer replaces "thinking…"
            ephemeral, state.loading = state.defer_ephemeral, False
        state.shown.append((ephemeral, body))
        return _json(
            self.new_message(state.channel_id, body, BOT_USER, flags=64 if ephemeral else 0)
        )

    async def _callback(self, parts: list[str], body: Json, request: web.Request) -> web.Response:
        state = self.interactions.get(parts[2])
        if state is None or state.id != int(parts[1]):
            return _json(error(404, 10062, "Unknown interaction").body, 404)
        if state.callback_type is not None:
            return _json(error(400, 40060, "Interaction has already been acknowledged.").body, 400)
        kind, data = body.get("type"), body.get("data") or {}
        ephemeral = bool(data.get("flags", 0) & 64)
        resource: Json = {"type": kind}
        if kind == 4:
            if errors := message_errors(data, creating=True):
                return self._invalid(errors)
            message = self.new_message(state.channel_id, data, BOT_USER, flags=data.get("flags", 0))
            state.shown.append((ephemeral, data))
            resource["message"] = message
        elif kind == 5:
            state.defer_ephemeral, state.loading = ephemeral, True
        elif kind == 8:
            state.choices = data.get("choices", [])
        state.callback_type = kind
        if not _true(request.query.get("with_response")):
            return web.Response(status=204)
        interaction = {
            "id": str(state.id),
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": ephemeral,
        }
        return _json({"interaction": interaction, "resource": resource})


BOT_USER: Json = {
    "id": str(APP_ID),
    "username": "nkru",
    "discriminator": "0000",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
APPLICATION: Json = {
    "id": str(APP_ID),
    "name": "nkru",
    "description": "",
    "icon": None,
    "bot_public": False,
    "bot_require_code_grant": False,
    "owner": {"id": "1", "username": "owner", "discriminator": "0000", "avatar": None},
    "verify_key": "0" * 64,
    "flags": 0,
}
_ROUTES: dict[tuple[str, tuple[str, ...]], Any] = {
    ("GET", ("users", "@me")): FakeDiscord._me,
    ("GET", ("oauth2", "applications", "@me")): FakeDiscord._application,
    ("POST", ("channels", "*", "messages")): FakeDiscord._create_message,
    ("GET", ("channels", "*", "messages")): FakeDiscord._history,
    ("PATCH", ("channels", "*", "messages", "*")): FakeDiscord._edit_message,
    ("GET", ("channels", "*")): FakeDiscord._channel,
    ("POST", ("channels", "*", "messages", "*", "threads")): FakeDiscord._start_thread,
    ("PUT", ("applications", "*", "commands")): FakeDiscord._sync_commands,
    ("PUT", ("applications", "*", "guilds", "*", "commands")): FakeDiscord._sync_commands,
    ("POST", ("webhooks", "*", "*")): FakeDiscord._execute,
    ("PATCH", ("webhooks", "*", "*", "messages", "*")): FakeDiscord._webhook_message,
    ("DELETE", ("webhooks", "*", "*", "messages", "*")): FakeDiscord._webhook_message,
    ("POST", ("interactions", "*", "*", "callback")): FakeDiscord._callback,
}
_FIXED = {"users", "@me", "oauth2", "applications", "channels", "messages", "commands", "guilds"}
_FIXED |= {"webhooks", "interactions", "callback", "threads"}


def _shape(parts: list[str]) -> tuple[str, ...]:
    """A path's shape: fixed words kept, ids and tokens as "*"."""
    return tuple(part if part in _FIXED else "*" for part in parts)


def _true(value: str | None) -> bool:
    """Discord's boolean query parameters."""
    return (value or "").lower() in {"1", "true"}


def _needs_bot_auth(parts: list[str]) -> bool:
    return parts[0] not in {"webhooks", "interactions"}


def _is_message_body(method: str, path: str, body: Any) -> bool:
    """Requests that post or edit message content (a defer or autocomplete carries none)."""
    if not isinstance(body, dict) or method not in {"POST", "PATCH"}:
        return False
    if path.endswith("/callback"):
        return body.get("type") in (4, 7)
    if path.endswith("/threads"):  # starting a thread names it; it posts nothing
        return False
    return "/messages" in path or path.startswith("/webhooks/")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Exactly `Content-Type: application/json`: discord.py treats anything else as text."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if status < 300:
        all_headers |= {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49"}
        all_headers |= {
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.0",
        }
    return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)


# --- Discord's validation ---------------------------------------------------------------------
# https://discord.com/developers/docs/resources/message#embed-object-embed-limits and
# https://discord.com/developers/docs/interactions/application-commands (names, descriptions).

_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
# What Discord would render as a mention (a ping in content, a highlighted name in an embed).
RENDERED_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)")


def _too_long(limit: int) -> Json:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def _bad(message: str) -> Json:
    return {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}


def embed_size(embed: Json) -> int:
    """Characters Discord counts toward the 6,000 of a message."""
    fields = embed.get("fields", [])
    return (
        len(embed.get("title", ""))
        + len(embed.get("description", ""))
        + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
        + len(embed.get("footer", {}).get("text", ""))
        + len(embed.get("author", {}).get("name", ""))
    )


def _embed_errors(embed: Json) -> Json:
    errors: Json = {}
    for key, limit in (("title", 256), ("description", 4096)):
        if len(embed.get(key) or "") > limit:
            errors[key] = _too_long(limit)
    for key, limit in (("footer", 2048), ("author", 256)):
        part = embed.get(key)
        if (
            part is not None
            and not 0 < len(part.get("text" if key == "footer" else "name", "")) <= limit
        ):
            errors[key] = _too_long(limit)
    url = embed.get("url")
    if url is not None and (not re.match(r"^https?://[^\s/]+", url) or len(url) > 2048):
        errors["url"] = _bad("Not a well formed URL.")
    for key in ("thumbnail", "image"):
        part = embed.get(key)
        if part is not None and not _media_url(part.get("url")):
            errors[key] = {"url": _bad("Scheme must be one of ('http', 'https', 'attachment').")}
    colour = embed.get("color")
    if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
        errors["color"] = _bad("Not a valid colour.")
    fields = embed.get("fields", [])
    if len(fields) > 25:
        errors["fields"] = _too_long(25)
    for index, item in enumerate(fields):
        if not 0 < len(item.get("name", "")) <= 256 or not 0 < len(item.get("value", "")) <= 1024:
            errors[f"fields.{index}"] = _bad("Field name 1-256, value 1-1024 characters.")
    return errors


def _media_url(url: object) -> bool:
    """An embed image's URL as Discord takes it: http(s) or attachment://, up to 2,048."""
    return (
        isinstance(url, str)
        and len(url) <= 2048
        and re.match(r"^(?:https?://[^\s/]+|attachment://)\S*$", url) is not None
    )


def message_errors(body: Json, *, creating: bool) -> Json:
    """Discord's 50035 errors for a message body ({} when valid)."""
    errors: Json = {}
    content, embeds = body.get("content") or "", body.get("embeds") or []
    if len(content) > 2000:
        errors["content"] = _too_long(2000)
    if creating and not content and not embeds:
        errors["content"] = _bad("Cannot send an empty message.")
    if len(embeds) > 10:
        errors["embeds"] = _too_long(10)
    for index, embed in enumerate(embeds):
        if problems := _embed_errors(embed):
            errors[f"embeds.{index}"] = problems
    if sum(embed_size(embed) for embed in embeds) > 6000:
        errors["embeds"] = _bad("Embed size exceeds maximum size of 6000")
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        errors["nonce"] = _too_long(25)
    return errors


def command_errors(commands: list[Json]) -> Json:
    """Discord's 50035 errors for a bulk command overwrite ({} when valid)."""
    errors: Json = {}
    names = [command.get("name", "") for command in commands]
    if len(set(names)) != len(names):
        errors["_"] = _bad("Application command names must be unique")
    for index, command in enumerate(commands):
        if problems := _option_errors(command, top=True):
            errors[str(index)] = problems
    return errors


def _option_errors(option: Json, *, top: bool = False) -> Json:
    errors: Json = {}
    name = option.get("name", "")
    if not _COMMAND_NAME.match(name) or name != name.lower():
        errors["name"] = _bad("Invalid command name.")
    if not 0 < len(option.get("description", "")) <= 100:
        errors["description"] = _too_long(100)
    children = option.get("options", [])
    if len(children) > 25:
        errors["options"] = _too_long(25)
    required = [
        bool(child.get("required")) for child in children if child.get("type") not in (1, 2)
    ]
    if required != sorted(required, reverse=True):
        errors["options"] = _bad("Required options must be placed before non-required options")
    if option.get("autocomplete") and option.get("choices"):
        errors["autocomplete"] = _bad("Autocomplete and choices are exclusive.")
    if len(option.get("choices") or []) > 25:
        errors["choices"] = _too_long(25)
    for index, child in enumerate(children):
        if problems := _option_errors(child):
            errors[f"options.{index}"] = problems
    return errors


def rendered_mentions(message: Json) -> list[str]:
    """Mention tokens that Discord would render in a message's content or embeds."""
    texts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        texts += [embed.get("title", ""), embed.get("description", "")]
        texts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
        for item in embed.get("fields", []):
            texts += [item.get("name", ""), item.get("value", "")]
    return [token for text in texts for token in RENDERED_MENTION.findall(text or "")]
