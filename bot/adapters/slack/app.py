"""The `/nkru` slash command on a Bolt AsyncApp, served over HTTP (aiohttp) or Socket Mode.

HTTP mode: `add_slack_routes` mounts Bolt on the bot's own aiohttp Application; every request's
signature and timestamp are verified first (`verify`: malformed, bad or older than 5 minutes →
401, logged in one line without the body). Socket Mode: `socket_mode_handler` opens Slack's
websocket with the app-level token; no public URL needed. Either way the command is
acknowledged at once (Slack gives 3 seconds) and answered later through its response_url.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.callers import CallerFacts, Lookups
from bot.adapters.slack.delivery import DEFAULT_API_URL, make_web_client
from bot.adapters.slack.errors import SlackSetupError, slack_error_code
from bot.adapters.slack.escape import unescape
from bot.adapters.slack.pacing import retry_handlers
from bot.adapters.slack.render import render_reply
from bot.adapters.slack.verify import Refused, RequestGate
from bot.core.commands.model import Caller, CommandHandler, Invocation, Reply, ThemeCatalog

log = logging.getLogger(__name__)
COMMAND = "/nkru"
FAILED = Reply(
    "Something went wrong",
    lines=("The command failed on the bot's side and the error was logged. Try again later.",),
    ephemeral=True,
    error=True,
)
APP_TOKEN_ADVICE = (
    "Slack refused NKRU_SLACK_APP_TOKEN ({error}): create an app-level token with the "
    "connections:write scope (xapp-…) under api.slack.com/apps → Basic Information → "
    "App-Level Tokens, and enable Socket Mode for the app"
)
Listener = Callable[[AsyncAck, dict[str, Any], AsyncRespond], Awaitable[None]]


def build_slack_app(
    bot_token: str,
    signing_secret: str | None,
    api_url: str,
    handler: CommandHandler,
    catalog: Callable[[], ThemeCatalog],
    lookups: Lookups | None = None,
) -> AsyncApp:
    """A Bolt app answering `/nkru` with `handler`.

    `signing_secret` is required for HTTP mode. Without one (Socket Mode only) a random secret
    is used, so an HTTP request could never pass verification: the app fails closed.
    """
    app = AsyncApp(
        name="nkru",
        client=make_web_client(bot_token, api_url),
        signing_secret=signing_secret or secrets.token_hex(32),
    )
    facts = CallerFacts(app.client, lookups or Lookups())
    app.command(COMMAND)(slash_command_listener(handler, catalog, facts))
    return app


def slash_command_listener(
    handler: CommandHandler, catalog: Callable[[], ThemeCatalog], facts: CallerFacts | None = None
) -> Listener:
    """The Bolt listener: ack at once, run the command, answer through response_url (without
    one, answer in the acknowledgement)."""

    # Bolt passes arguments by parameter name: these must stay `ack`, `command`, `respond`.
    async def on_nkru(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        if not command.get("response_url"):
            # Slack always sends one; a hand-made or proxied request may not. The acknowledgement
            # is then the only way to answer (if the command finishes within Slack's 3 seconds).
            reply = await run_command(handler, command, facts)
            await ack(**acknowledgement(reply, catalog()))
            return
        await ack()
        reply = await run_command(handler, command, facts)
        await answer(respond, reply, catalog)

    return on_nkru


def invocation_of(command: dict[str, Any], caller: Caller | None = None) -> Invocation:
    """The core's Invocation for a slash-command payload (Slack sends no user groups: the
    caller's facts come from `CallerFacts` when the admin settings need them)."""
    user_id, user_name = str(command.get("user_id", "")), str(command.get("user_name", ""))
    destination = f"slack:{command.get('channel_id', '')}"
    who = caller or Caller("slack", user_id, user_name)
    return Invocation.from_text(who, destination, unescape(str(command.get("text", ""))))


async def run_command(
    handler: CommandHandler, command: dict[str, Any], facts: CallerFacts | None = None
) -> Reply:
    """The handler's reply; a crash becomes an ephemeral apology (and a logged traceback)."""
    invocation = invocation_of(command)
    try:
        if facts is not None:
            caller = await facts.caller(invocation.caller.user_id, invocation.caller.user_name)
            invocation = invocation_of(command, caller)
        return await handler.handle(invocation)
    except Exception:  # the user must get an answer whatever broke
        log.exception("/nkru %s failed for %s", invocation.command, invocation.caller.user_id)
        return FAILED


async def answer(respond: AsyncRespond, reply: Reply, catalog: Callable[[], ThemeCatalog]) -> None:
    """Send the reply through response_url; errors and ephemeral replies only to the caller."""
    response_type = "ephemeral" if reply.ephemeral or reply.error else "in_channel"
    try:
        for message in render_reply(reply, catalog()):
            result = await respond(
                text=message.text, blocks=message.blocks, response_type=response_type
            )
            if result.status_code != 200:
                raise RuntimeError(f"response_url answered {result.status_code}: {result.body}")
    except Exception:  # a rendering bug or a refused answer: still tell the caller something
        log.exception("could not answer /nkru")
        try:
            await respond(text=FAILED.lines[0], response_type="ephemeral")
        except Exception:  # response_url unreachable: nothing more we can do
            log.exception("could not send the apology for /nkru either")


def acknowledgement(reply: Reply, catalog: ThemeCatalog) -> dict[str, Any]:
    """`ack()`'s arguments answering with `reply` (its first message: an acknowledgement is one)."""
    messages = render_reply(reply, catalog)
    if len(messages) > 1:
        log.warning("/nkru without response_url: only the first of %d messages sent", len(messages))
    response_type = "ephemeral" if reply.ephemeral or reply.error else "in_channel"
    return {"text": messages[0].text, "blocks": messages[0].blocks, "response_type": response_type}


def add_slack_routes(
    web_app: web.Application,
    bolt_app: AsyncApp,
    signing_secret: str | None,
    path: str = "/slack/events",
) -> None:
    """Serve Bolt at `path` (POST) on an existing aiohttp Application, before it starts; only
    requests signed with `signing_secret` reach it (none at all without one: fail closed)."""
    gate = RequestGate.for_secret(signing_secret or secrets.token_hex(32))

    async def slack_events(request: web.Request) -> web.Response:
        try:
            body = gate.check(await request.read(), request.headers)
        except Refused as refused:
            log.info("refused a request to %s from %s: %s", path, request.remote, refused)
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_request = AsyncBoltRequest(
            body=body, query=request.query_string, headers=dict(request.headers)
        )
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(path, slack_events)


def socket_mode_handler(
    bolt_app: AsyncApp, app_token: str, api_url: str = DEFAULT_API_URL
) -> AsyncSocketModeHandler:
    """A Socket Mode connection for `bolt_app` (app-level token xapp-…, connections:write).

    Call from a running event loop, then `start_socket_mode` / `stop_socket_mode` (typed
    wrappers of its `connect_async()` / `close_async()`).
    """
    web_client = AsyncWebClient(base_url=api_url, retry_handlers=retry_handlers())
    return AsyncSocketModeHandler(bolt_app, app_token, web_client=web_client)


async def start_socket_mode(handler: AsyncSocketModeHandler) -> None:
    """Open the Socket Mode connection (returns once connected; reconnects on its own).

    The first websocket URL is fetched here so that a refused app token stops start-up with
    SlackSetupError: left to the client, it would retry a bad token forever.
    """
    try:
        handler.client.wss_uri = await handler.client.issue_new_wss_url()
    except SlackApiError as exc:
        code = slack_error_code(exc)
        raise SlackSetupError(APP_TOKEN_ADVICE.format(error=code)) from exc
    await handler.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated


async def stop_socket_mode(handler: AsyncSocketModeHandler) -> None:
    """Close the connection and its client session."""
    await handler.close_async()  # type: ignore[no-untyped-call]
