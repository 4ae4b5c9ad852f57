"""Core objects for the Discord tests (alerts, digests, a theme catalog), and wait helpers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.core.commands.model import ThemeCatalog, ThemeInfo
from bot.core.digest import Digest, DigestItem, DigestSection
from bot.core.models import Alert, Story, ThemeHit
from bot.core.records import StoryView
from tests.adapters.discord.payloads import CHANNEL

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CATALOG = ThemeCatalog.of(
    [
        ThemeInfo("arms-transfers", "Arms transfers", "Munitions and missiles", "#c0392b"),
        ThemeInfo("tumen-bridge", "Tumen River bridge", "The road bridge", "#2e86de"),
    ]
)
ARMS = ThemeHit("arms-transfers", 4.5, "KN-23 (title, 2.0), shells (summary, 1.0)")
BRIDGE = ThemeHit("tumen-bridge", 2.0, "Tumen (title, 2.0)")


def alert(outbox_id: int = 1, **changes: Any) -> Alert:
    """A new-story alert for the test channel."""
    fields: dict[str, Any] = {
        "outbox_id": outbox_id,
        "destination": f"discord:{CHANNEL}",
        "kind": "new",
        "story_id": 7,
        "title": "Russia receives KN-23 missiles from North Korea",
        "url": "https://news.example/kn23",
        "summary": "Officials said the shipment crossed at Tumangang.",
        "source_name": "Example News",
        "published_at": NOW,
        "themes": [BRIDGE, ARMS],
    }
    return Alert(**(fields | changes))


def digest(sections: int, per_section: int, *, title_length: int = 60, more: int = 0) -> Digest:
    """A digest with `sections` themes of `per_section` stories, titles of `title_length`."""
    built = []
    number = 0
    for s in range(sections):
        items = []
        for _ in range(per_section):
            number += 1
            story = Story(number, f"Story {number} " + "x" * title_length, NOW, NOW, 3)
            view = StoryView(
                story,
                f"https://news.example/{number}",
                "",
                "Example News",
                ["Example News", "Agency Two", "Third Outlet"],
            )
            items.append(DigestItem(view, ThemeHit(f"theme-{s}", 3.0, "why " * 40)))
        built.append(DigestSection(f"theme-{s}", items, more=2))
    return Digest(f"discord:{CHANNEL}", NOW - timedelta(hours=24), built, more=more)


async def handled(bot: discord.Client, payload: Any, seconds: float = 10) -> None:
    """Hand an INTERACTION_CREATE to discord.py as the gateway would, then wait until every task
    it started (the command tree's invocation: the answer, every followup) has finished.

    Waiting for the work itself, not for a quiet moment: a stray extra request would already
    be recorded when this returns.
    """
    before = asyncio.all_tasks()
    # internal: no public way to feed a gateway event to a client that has no gateway
    bot._connection.parse_interaction_create(payload)
    started = asyncio.all_tasks() - before
    assert started, "discord.py started no task for the interaction"
    async with asyncio.timeout(seconds):
        await asyncio.gather(*started)
