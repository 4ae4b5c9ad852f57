"""The `/nkru` slash command through the real Bolt AsyncApp: HTTP mode on loopback, Socket Mode.

Requests are real form bodies signed like Slack signs them; answers go to a response_url on the
fake Slack, which records them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import (
    add_slack_routes,
    build_slack_app,
    socket_mode_handler,
    start_socket_mode,
    stop_socket_mode,
)
from bot.adapters.slack.callers import Lookups
from bot.adapters.slack.errors import SlackSetupError
from bot.core.commands.model import Invocation, Reply, StoryLine
from bot.core.commands.permissions import WORKSPACE_ADMIN
from bot.core.models import ThemeHit
from tests.adapters.slack.samples import (
    CATALOG,
    CHANNEL,
    HOSTILE_TITLE,
    WHEN,
    assert_inert,
    assert_within_limits,
    texts,
)
from tests.fakes.slack_api import FakeSlackApi

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
Client = TestClient[web.Request, web.Application]


class ScriptedHandler:
    """A small CommandHandler: `help`, `latest`, `boom` (crashes); anything else is an error."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []

    async def handle(self, invocation: Invocation) -> Reply:
        self.invocations.append(invocation)
        if invocation.command == "help":
            return Reply("nkru commands", lines=("latest [N] — the latest stories", "<!channel>"))
        if invocation.command == "latest":
            story = StoryLine(
                7,
                HOSTILE_TITLE,
                "https://news.example/7",
                "Example News",
                WHEN,
                outlets=("Yonhap", "TASS"),
                themes=(ThemeHit("tumen-bridge", 6.0, "Tumen (title)"),),
            )
            return Reply("Latest stories", stories=(story,), footer="…and 3 more")
        if invocation.command == "boom":
            raise RuntimeError("kaput")
        return Reply(
            "Unknown command", lines=(f"{invocation.command}: try /nkru help",), error=True
        )


def command_form(slack: FakeSlackApi, text: str, key: str = "r1") -> dict[str, str]:
    """What Slack posts for `/nkru <text>` typed by U0USER in CHANNEL."""
    return {
        "token": "legacy-verification-token",
        "team_id": "T0TEST",
        "team_domain": "nkru-test",
        "channel_id": CHANNEL,
        "channel_name": "news",
        "user_id": "U0USER",
        "user_name": "analyst",
        "command": "/nkru",
        "text": text,
        "api_app_id": "A0TEST",
        "response_url": slack.response_url(key),
        "trigger_id": "1.2.3",
    }


def signed(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def healthz(request: web.Request) -> web.Response:
    """Stands for the bot's own routes, which must keep working beside Slack's."""
    return web.json_response({"ok": True})


@pytest.fixture
def handler() -> ScriptedHandler:
    return ScriptedHandler()


@pytest.fixture
async def http(slack: FakeSlackApi, handler: ScriptedHandler) -> AsyncIterator[Client]:
    """Bolt mounted on an aiohttp Application of our own, served on 127.0.0.1."""
    bolt = build_slack_app(slack.bot_token, SECRET, slack.api_url, handler, lambda: CATALOG)
    web_app = web.Application()
    web_app.router.add_get("/healthz", healthz)
    add_slack_routes(web_app, bolt, SECRET)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        yield client


async def post_command(
    http: Client,
    slack: FakeSlackApi,
    text: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> ClientResponse:
    body = urlencode(command_form(slack, text))
    headers = signed(body, secret=secret, timestamp=timestamp)
    return await http.post("/slack/events", data=body, headers=headers)


async def test_help_is_acknowledged_then_answered_in_channel(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    response = await post_command(http, slack, "help")

    assert response.status == 200
    assert (await response.text()) == ""  # the bare ack; the answer follows on response_url
    await slack.wait_for(lambda: len(slack.responses) == 1)
    [answer] = slack.responses
    assert answer.key == "r1"
    assert answer.body["response_type"] == "in_channel"
    assert_within_limits(answer.body)
    assert "latest [N] — the latest stories\n&lt;!channel&gt;" in texts(answer.body["blocks"])
    assert_inert(answer.raw)
    [invocation] = handler.invocations
    assert invocation.destination == f"slack:{CHANNEL}"
    assert invocation.command == "help" and invocation.args == ()
    assert invocation.caller.platform == "slack"
    assert invocation.caller.user_id == "U0USER" and invocation.caller.user_name == "analyst"
    assert invocation.caller.roles == frozenset()
    assert [c.method for c in slack.calls] == ["auth.test"]  # Bolt's single-workspace check


async def test_slacks_escaping_of_typed_text_is_undone(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    # Slack sends typed `&`, `<`, `>` entity-escaped; the core must see what the user typed.
    response = await post_command(http, slack, "search AT&amp;T &lt;b&gt;")

    assert response.status == 200
    await slack.wait_for(lambda: len(slack.responses) == 1)
    [invocation] = handler.invocations
    assert invocation.command == "search" and invocation.args == ("AT&T", "<b>")


async def test_latest_renders_stories_escaped_with_links(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    await post_command(http, slack, "latest 5")

    await slack.wait_for(lambda: len(slack.responses) == 1)
    body = slack.responses[0].body
    shown = "\n".join(texts(body["blocks"]))
    assert "*<https://news.example/7|@\u2060everyone &lt;!channel&gt;" in shown
    assert "also Yonhap, TASS" in shown
    assert "Tumen River bridge: Tumen (title)" in shown
    assert "…and 3 more" in shown
    assert_inert(slack.responses[0].raw)
    assert handler.invocations[0].args == ("5",)


async def test_error_reply_is_ephemeral(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    await post_command(http, slack, "frobnicate")

    await slack.wait_for(lambda: len(slack.responses) == 1)
    body = slack.responses[0].body
    assert body["response_type"] == "ephemeral"
    assert texts(body["blocks"])[0] == ":warning: *Unknown command*"


async def test_a_crashing_handler_still_answers_ephemerally(
    http: Client, slack: FakeSlackApi
) -> None:
    response = await post_command(http, slack, "boom")

    assert response.status == 200
    await slack.wait_for(lambda: len(slack.responses) == 1)
    body = slack.responses[0].body
    assert body["response_type"] == "ephemeral"
    assert "Something went wrong" in "\n".join(texts(body["blocks"]))


async def test_refused_answer_falls_back_to_a_plain_apology(
    http: Client, slack: FakeSlackApi
) -> None:
    slack.response_status = 500

    await post_command(http, slack, "help")

    await slack.wait_for(lambda: len(slack.responses) == 2)
    apology = slack.responses[1].body
    assert apology["response_type"] == "ephemeral"
    assert "failed" in apology["text"]
    assert "blocks" not in apology


async def test_bad_signature_is_refused(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    response = await post_command(http, slack, "help", secret="not-the-secret")

    assert response.status == 401
    assert handler.invocations == []
    assert slack.responses == [] and slack.calls == []


async def test_stale_timestamp_is_refused(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    response = await post_command(http, slack, "help", timestamp=int(time.time()) - 6 * 60)

    assert response.status == 401
    assert handler.invocations == []


async def test_unsigned_request_is_refused(http: Client, handler: ScriptedHandler) -> None:
    response = await http.post("/slack/events", data="command=%2Fnkru&text=help")

    assert response.status == 401
    assert handler.invocations == []


async def test_other_routes_of_the_application_keep_working(http: Client) -> None:
    response = await http.get("/healthz")

    assert response.status == 200
    assert (await response.json()) == {"ok": True}


async def test_without_signing_secret_http_requests_fail_closed(
    slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    bolt = build_slack_app(slack.bot_token, None, slack.api_url, handler, lambda: CATALOG)
    web_app = web.Application()
    add_slack_routes(web_app, bolt, None)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        body = urlencode(command_form(slack, "help"))
        # Whatever secret a caller guesses, the app has none to match it.
        for guess in (SECRET, "", "0"):
            response = await client.post(
                "/slack/events", data=body, headers=signed(body, secret=guess)
            )
            assert response.status == 401
    assert handler.invocations == []


async def test_socket_mode_acknowledges_and_answers(
    slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    bolt = build_slack_app(slack.bot_token, None, slack.api_url, handler, lambda: CATALOG)
    connection = socket_mode_handler(bolt, slack.app_token, slack.api_url)
    try:
        await start_socket_mode(connection)
        envelope_id = await slack.send_envelope(command_form(slack, "help", key="socket"))

        await slack.wait_for(lambda: bool(slack.acks(envelope_id)))
        await slack.wait_for(lambda: len(slack.responses) == 1)
    finally:
        await stop_socket_mode(connection)

    assert slack.acks(envelope_id) == [{"envelope_id": envelope_id}]
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.token == slack.app_token
    assert slack.responses[0].key == "socket"
    assert slack.responses[0].body["response_type"] == "in_channel"
    assert handler.invocations[0].command == "help"


async def test_socket_mode_with_a_refused_app_token_stops_with_advice(
    slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    bolt = build_slack_app(slack.bot_token, None, slack.api_url, handler, lambda: CATALOG)
    connection = socket_mode_handler(bolt, "xapp-wrong", slack.api_url)
    try:
        with pytest.raises(SlackSetupError) as caught:
            await start_socket_mode(connection)
    finally:
        await stop_socket_mode(connection)

    assert "invalid_auth" in str(caught.value)
    assert "connections:write" in str(caught.value)
    assert len(slack.calls_to("apps.connections.open")) == 1  # no endless retrying


async def test_the_callers_user_groups_reach_the_handler(
    slack: FakeSlackApi, handler: ScriptedHandler
) -> None:
    """With user-group admins configured, the slash command's caller carries their groups."""
    slack.usergroups = {"S0EDITORS": ["U0USER"]}
    slack.users = {"U0USER": {"is_admin": True}}
    lookups = Lookups(usergroups=True, workspace_admins=True)
    bolt = build_slack_app(
        slack.bot_token, SECRET, slack.api_url, handler, lambda: CATALOG, lookups
    )
    web_app = web.Application()
    add_slack_routes(web_app, bolt, SECRET)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        response = await post_command(client, slack, "help")
        assert response.status == 200
        await slack.wait_for(lambda: len(slack.responses) == 1)
    [invocation] = handler.invocations
    assert invocation.caller.roles == frozenset({"S0EDITORS"})
    assert invocation.caller.permissions == frozenset({WORKSPACE_ADMIN})


# --- malformed and forged requests: 401, one log line, never a traceback or the body ----------


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.exc_info]
    assert logged == [], logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1.5e9", "9" * 400, "", " 1700000000", "-5", "\u0661\u0667\u0660\u0660"],
)
async def test_a_malformed_timestamp_is_refused_without_a_traceback(
    http: Client,
    slack: FakeSlackApi,
    handler: ScriptedHandler,
    caplog: pytest.LogCaptureFixture,
    timestamp: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = urlencode(command_form(slack, "help"))
    headers = signed(body) | {"X-Slack-Request-Timestamp": timestamp}

    response = await http.post("/slack/events", data=body, headers=headers)

    assert response.status == 401
    assert handler.invocations == [] and slack.calls == []
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    "signature", ["v0=é" + "0" * 63, "v0=" + "0" * 64 + "\u2028", "ü", "v0=" + "Z" * 64, ""]
)
async def test_a_malformed_signature_is_refused_without_a_traceback(
    http: Client,
    slack: FakeSlackApi,
    handler: ScriptedHandler,
    caplog: pytest.LogCaptureFixture,
    signature: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = urlencode(command_form(slack, "help"))
    headers = signed(body) | {"X-Slack-Signature": signature}

    response = await http.post(
        "/slack/events", data=body.encode(), headers={k: v for k, v in headers.items()}
    )

    assert response.status == 401
    assert handler.invocations == [] and slack.calls == []
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=bogus"],
)
async def test_a_body_that_is_not_utf8_is_refused_without_a_traceback(
    http: Client,
    handler: ScriptedHandler,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"command=%2Fnkru&text=\xff\xfe\xc3"
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",  # even signed with the right secret
    }

    response = await http.post("/slack/events", data=body, headers=headers)

    assert response.status == 401
    assert handler.invocations == []
    assert_no_traceback(caplog)


async def test_a_forged_request_is_logged_without_its_body(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = command_form(slack, "help") | {"response_url": "https://hooks.slack.com/SECRET-HOOK"}
    body = urlencode(form)

    response = await http.post(
        "/slack/events", data=body, headers=signed(body, secret="forged-secret")
    )

    assert response.status == 401
    assert handler.invocations == []
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and "signature" in refused[0], [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if "SECRET-HOOK" in r.getMessage()]
    assert not [r for r in caplog.records if "legacy-verification-token" in r.getMessage()]
    assert_no_traceback(caplog)


async def test_a_signed_command_without_response_url_is_answered_in_the_acknowledgement(
    http: Client, slack: FakeSlackApi, handler: ScriptedHandler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = command_form(slack, "help")
    del form["response_url"]
    body = urlencode(form)

    response = await http.post("/slack/events", data=body, headers=signed(body))

    assert response.status == 200
    answer = await response.json()
    assert answer["response_type"] == "in_channel"
    assert "latest [N] — the latest stories" in "\n".join(texts(answer["blocks"]))
    assert [i.command for i in handler.invocations] == ["help"]
    assert slack.responses == []
    assert_no_traceback(caplog)


class LongAnswer:
    """A handler whose answer takes several Slack messages."""

    async def handle(self, invocation: Invocation) -> Reply:
        story = StoryLine(1, "Rail freight from Khasan doubles", None, "TASS", WHEN)
        return Reply("Latest stories", stories=(story,) * 60)


async def test_without_response_url_a_long_answer_is_cut_to_one_message(
    slack: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    bolt = build_slack_app(slack.bot_token, SECRET, slack.api_url, LongAnswer(), lambda: CATALOG)
    web_app = web.Application()
    add_slack_routes(web_app, bolt, SECRET)
    form = command_form(slack, "latest")
    del form["response_url"]
    body = urlencode(form)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        response = await client.post("/slack/events", data=body, headers=signed(body))
        answer = await response.json()

    assert response.status == 200
    assert texts(answer["blocks"])[0] == "*Latest stories*"
    assert_within_limits(answer)
    assert "/nkru without response_url: only the first of 2 messages sent" in caplog.text
    assert_no_traceback(caplog)
