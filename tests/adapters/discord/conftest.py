"""Fixtures: the fake Discord API (reached under its real name) and logged-in clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.adapters.discord import api
from tests.fakes.discord_api import TOKEN, FakeDiscord, rendered_mentions


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake API; clients built with `network=fake.network()` reach it as discord.com.

    Whatever the test did, no message, edit, followup or webhook body went out without
    `allowed_mentions: {"parse": []}`, and no message we sent would render a mention.
    """
    async with FakeDiscord() as server:
        yield server
    assert server.mention_violations == []
    for channel in server.messages.values():
        for message in channel.values():
            assert rendered_mentions(message) == [], message


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """A REST-only client logged in to the fake (no gateway)."""
    logged_in = api.new_client(network=fake.network())
    await api.login(logged_in, TOKEN)
    yield logged_in
    await logged_in.close()
