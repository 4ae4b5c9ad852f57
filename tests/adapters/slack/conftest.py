"""Fixtures for the Slack adapter: the fake Slack Web API and a delivery adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.slack.delivery import SlackDelivery
from tests.adapters.slack.samples import CATALOG
from tests.fakes.slack_api import FakeSlackApi


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    """A fake Slack on loopback."""
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
def delivery(slack: FakeSlackApi) -> SlackDelivery:
    """The real adapter and slack_sdk client, talking to the fake (no pacing: tests are quick)."""
    return SlackDelivery.from_token(
        slack.bot_token, api_url=slack.api_url, catalog=lambda: CATALOG, interval=0
    )
