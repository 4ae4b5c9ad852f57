"""A Slack channel subscribed with `/nkru subscribe` receives the next matching alert.

Signed slash command into the real Bolt app, the real core and store, the real ingest and
delivery; only Slack's Web API is the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import add_slack_routes, build_slack_app
from bot.adapters.slack.callers import Lookups
from bot.adapters.slack.delivery import SlackDelivery
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.delivery import deliver_due
from bot.core.models import NewArticle
from bot.core.poll.ingest import AlertPolicy, ingest
from bot.core.records import NewFeed
from bot.core.story_cache import StoryCache
from bot.core.subscriptions.live import LiveRoutes
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.adapters.slack.samples import CHANNEL, texts
from tests.adapters.slack.test_app import SECRET, command_form, signed
from tests.conftest import REPO_ROOT
from tests.fakes.slack_api import FakeSlackApi

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ADMIN = "U0BOSS"
BRIDGE = (
    "Russia and North Korea open first road bridge over the Tumen River",
    "The crossing links Khasan in Russia's Primorye with Tumangang in North Korea.",
)
TROOPS = (
    "North Korean troops deployed to Russia's Kursk region",
    "Thousands of North Korean soldiers are fighting alongside Russian forces, officials say.",
)


class Bot:
    """The Bolt app over the real core, its live routes, and the real ingest and delivery."""

    client: TestClient[web.Request, web.Application]

    def __init__(self, store: Store, slack: FakeSlackApi) -> None:
        self.store, self.slack = store, slack
        self.matcher = WatchlistMatcher.load(REPO_ROOT / "watchlists")
        self.routes = LiveRoutes(store, ())
        self.cache = StoryCache()

    async def slash(self, text: str, user: str) -> str:
        """`/nkru <text>` typed by `user` in CHANNEL; the text of the answer."""
        form = command_form(self.slack, text, text) | {"user_id": user}
        body = urlencode(form)
        response = await self.client.post("/slack/events", data=body, headers=signed(body))
        assert response.status == 200
        await self.slack.wait_for(lambda: any(r.key == text for r in self.slack.responses))
        [answer] = [r.body for r in self.slack.responses if r.key == text]
        return "\n".join(texts(answer["blocks"]))

    async def publish(self, key: str, text: tuple[str, str]) -> int:
        """Ingest one article as a poll would, routed by the live routes; alerts queued."""
        async with self.store.transaction() as tx:
            feed = await tx.feeds.add(NewFeed(f"https://{key}.example/rss", key, 1800), NOW)
            article = NewArticle(
                feed_id=feed.id, item_key=key, guid=key, url=f"https://news.example/{key}",
                title=text[0], summary=text[1], published_at=NOW, fetched_at=NOW,
                content_hash=key, source_name=key,
            )  # fmt: skip
            policy = AlertPolicy(destinations=(), routes=self.routes)
            report = await ingest(
                tx, [article], NOW, policy, cache=self.cache, matcher=self.matcher
            )
        return report.queued_alerts


@pytest.fixture
async def bot(store: Store, slack: FakeSlackApi) -> AsyncIterator[Bot]:
    made = Bot(store, slack)
    service = CommandService(
        store,
        made.matcher.catalog,
        made.routes,
        lambda: NOW,
        admin=AdminPolicy(slack_user_ids=frozenset({ADMIN})),
        services=[made.routes],
    )
    bolt = build_slack_app(
        slack.bot_token, SECRET, slack.api_url, service, made.matcher.catalog, Lookups()
    )
    web_app = web.Application()
    add_slack_routes(web_app, bolt, SECRET)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        made.client = client
        yield made


async def test_a_subscribed_channel_receives_the_next_matching_alert(
    bot: Bot, slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    assert await bot.publish("before", BRIDGE) == 0  # no route to this channel yet

    shown = await bot.slash("subscribe troops", ADMIN)
    assert "Subscribed this channel" in shown and "troops · instant" in shown

    assert await bot.publish("other-theme", BRIDGE) == 0  # tumen-bridge: not followed
    assert await bot.publish("troops", TROOPS) == 1
    report = await deliver_due(bot.store, {"slack": delivery}, lambda: NOW, routes=bot.routes)
    assert report.sent == 1
    [message] = slack.messages[CHANNEL]
    assert TROOPS[0] in message["text"]


async def test_a_member_cannot_subscribe_the_channel(bot: Bot) -> None:
    shown = await bot.slash("subscribe troops", "U0USER")
    assert "Only admins can subscribe" in shown
    assert await bot.publish("troops", TROOPS) == 0
