"""The real CommandService over a real store, answered through Bolt and the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import add_slack_routes, build_slack_app
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.adapters.slack.samples import assert_within_limits, texts
from tests.adapters.slack.test_app import SECRET, command_form, signed
from tests.conftest import REPO_ROOT
from tests.core.commands.conftest import BRIDGE, BRIDGE_AGAIN, NOW, TROOPS, World
from tests.fakes.slack_api import FakeSlackApi

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def served(store: Store, slack: FakeSlackApi) -> AsyncIterator[tuple[World, Client]]:
    """Two stories (one told by two outlets) and the real service behind `/nkru`."""
    world = World(store, WatchlistMatcher.load(REPO_ROOT / "watchlists"))
    await world.publish("bridge", BRIDGE, "TASS", NOW - timedelta(hours=4))
    await world.publish("bridge-again", BRIDGE_AGAIN, "Yonhap", NOW - timedelta(hours=3))
    await world.publish("troops", TROOPS, "BBC", NOW - timedelta(hours=1))
    bolt = build_slack_app(
        slack.bot_token, SECRET, slack.api_url, world.service, lambda: world.catalog
    )
    web_app = web.Application()
    add_slack_routes(web_app, bolt, SECRET)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        yield world, client


async def slash(client: Client, slack: FakeSlackApi, text: str) -> dict[str, object]:
    """Type `/nkru <text>` and return the answer posted to the response_url."""
    before = len(slack.responses)
    body = urlencode(command_form(slack, text))
    response = await client.post("/slack/events", data=body, headers=signed(body))
    assert response.status == 200
    await slack.wait_for(lambda: len(slack.responses) > before)
    answer = slack.responses[before]
    assert_within_limits(answer.body)
    return answer.body


async def test_latest_from_the_real_service(
    served: tuple[World, Client], slack: FakeSlackApi
) -> None:
    _, client = served

    body = await slash(client, slack, "latest")

    assert body["response_type"] == "in_channel"
    shown = "\n".join(texts(body["blocks"]))
    assert "*Latest stories*" in shown
    assert f"*<https://news.example/troops|{TROOPS[0]}>*" in shown
    assert f"*<https://news.example/bridge|{BRIDGE[0]}>*" in shown
    assert "also Yonhap" in shown  # the second outlet of the bridge story
    assert "Tumen River bridge" in shown  # the theme's title from the watchlist


async def test_usage_error_from_the_real_service_is_ephemeral(
    served: tuple[World, Client], slack: FakeSlackApi
) -> None:
    _, client = served

    body = await slash(client, slack, "no-such-command")

    assert body["response_type"] == "ephemeral"
    [title, *_] = texts(body["blocks"])
    assert title.startswith(":warning:") and "no-such-command" in "\n".join(texts(body))
