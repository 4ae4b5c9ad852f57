"""Core objects for the Discord tests (alerts, digests, a theme catalog), and a wait helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.commands.model import ThemeCatalog, ThemeInfo
from bot.core.digest import Digest, DigestItem, DigestSection
from bot.core.models import Alert, Story, ThemeHit
from storage.stories import StoryView
from tests.adapters.discord.payloads import CHANNEL
from tests.fakes.discord_api import FakeDiscord

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


async def until(fake: FakeDiscord, condition: Callable[[], bool]) -> None:
    """Wait (up to 5 s) until requests the bot makes in its own tasks make `condition` true."""
    async with asyncio.timeout(5), fake.activity:
        await fake.activity.wait_for(condition)
