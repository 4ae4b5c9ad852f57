"""`/nkru feeds add` typed in Slack: signed slash commands into the real Bolt app and core.

The feed is served by the loopback FeedServer, allowed for this test (127.0.0.1/32) so it can
stand in for a public feed; who is an admin is decided by the core from the Slack user id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import add_slack_routes, build_slack_app
from bot.core.commands.model import ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.feed_probe import ChatFeeds
from bot.core.feed_safety import NetworkGuard
from bot.core.poll.fetch import FeedFetcher
from storage.engine import Store
from tests.adapters.slack.samples import assert_within_limits, texts
from tests.adapters.slack.test_app import SECRET, command_form, signed
from tests.core.commands.conftest import NOW
from tests.core.poll.test_pipeline import ITEMS, rss
from tests.core.test_feed_safety import PRIVATE_WAYS_IN, guard
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi

Client = TestClient[web.Request, web.Application]
ADMIN = "U0BOSS"


@dataclass
class Served:
    """The Bolt app on loopback, the feed server and the store behind them."""

    client: Client
    feeds: FeedServer
    store: Store


@pytest.fixture
def network_guard() -> NetworkGuard:
    """The loopback feed server stands in for a public feed (tests override this)."""
    return guard(allow="127.0.0.1/32")


@pytest.fixture
async def served(
    store: Store, slack: FakeSlackApi, network_guard: NetworkGuard
) -> AsyncIterator[Served]:
    async with (
        FeedServer() as feeds,
        FeedFetcher(network_guard=network_guard) as fetcher,
    ):
        feeds.add_feed("/feed.xml", rss(ITEMS))
        feeds.add_redirect("/moved", "http://10.0.0.1/feed.xml", status=302)
        service = CommandService(
            store,
            ThemeCatalog,
            (),
            lambda: NOW,
            admin=AdminPolicy(slack_user_ids=frozenset({ADMIN})),
            services=[ChatFeeds(fetcher, 1800, True)],
        )
        bolt = build_slack_app(slack.bot_token, SECRET, slack.api_url, service, ThemeCatalog)
        web_app = web.Application()
        add_slack_routes(web_app, bolt, SECRET)
        async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
            yield Served(client, feeds, store)


async def slash(served: Served, slack: FakeSlackApi, text: str, user: str) -> dict[str, object]:
    """`/nkru <text>` typed by `user`; the answer posted to the response_url."""
    before = len(slack.responses)
    body = urlencode(command_form(slack, text) | {"user_id": user})
    response = await served.client.post("/slack/events", data=body, headers=signed(body))
    assert response.status == 200
    await slack.wait_for(lambda: len(slack.responses) > before)
    answer = slack.responses[before].body
    assert_within_limits(answer)
    return answer


async def stored_urls(store: Store) -> list[str]:
    async with store.transaction() as conn:
        return [feed.url for feed in await conn.feeds.list_all()]


async def test_a_non_admin_is_refused_privately_and_nothing_is_added(
    served: Served, slack: FakeSlackApi
) -> None:
    url = served.feeds.url("/feed.xml")

    answer = await slash(served, slack, f"feeds add {url} Wire", user="U0USER")

    assert answer["response_type"] == "ephemeral"
    assert "Only admins can feeds add." in "\n".join(texts(answer))
    assert await stored_urls(served.store) == []
    assert served.feeds.hits("/feed.xml") == 0


async def test_an_admin_adds_a_feed_and_the_channel_is_told(
    served: Served, slack: FakeSlackApi
) -> None:
    url = served.feeds.url("/feed.xml")

    answer = await slash(served, slack, f"feeds add {url} Wire", user=ADMIN)

    assert answer["response_type"] == "in_channel"
    shown = "\n".join(texts(answer))
    assert "Added feed #1 Wire" in shown and "It has 2 items now" in shown
    assert await stored_urls(served.store) == [url]
    assert served.feeds.hits("/feed.xml") == 1


async def test_a_private_address_is_refused_from_slack_too(
    served: Served, slack: FakeSlackApi
) -> None:
    answer = await slash(served, slack, "feeds add http://10.1.2.3/rss", user=ADMIN)

    assert answer["response_type"] == "ephemeral"
    assert "is 10.1.2.3, a private address" in "\n".join(texts(answer))
    assert await stored_urls(served.store) == []


@pytest.mark.parametrize(("url", "network_guard", "why"), PRIVATE_WAYS_IN)
async def test_every_way_to_a_private_address_is_refused_from_slack(
    served: Served, slack: FakeSlackApi, url: str, why: str
) -> None:
    url = url.format(port=served.feeds.port)

    answer = await slash(served, slack, f"feeds add {url}", user=ADMIN)

    assert answer["response_type"] == "ephemeral"
    assert why in "\n".join(texts(answer))
    assert await stored_urls(served.store) == []
    assert served.feeds.hits("/feed.xml") == 0  # the inward target was never reached
