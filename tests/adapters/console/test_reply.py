"""Command replies printed for a terminal (`nkru latest`, `nkru search`)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from bot.adapters.console.reply import render_reply
from bot.core.commands.model import Reply, StoryLine, ThemeCatalog, ThemeInfo
from bot.core.models import ThemeHit

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CATALOG = ThemeCatalog.of([ThemeInfo("tumen-bridge", "Tumen River bridge")])


def printed(reply: Reply) -> str:
    out = io.StringIO()
    Console(file=out, width=200).print(render_reply(reply, CATALOG, NOW))
    return out.getvalue()


def test_a_story_shows_source_time_link_outlets_and_each_theme_with_why() -> None:
    story = StoryLine(
        story_id=7,
        title="Russia and North Korea open Tumen road bridge",
        url="https://wire.example/0",
        source_name="Wire",
        when=NOW - timedelta(minutes=3),
        outlets=("Herald", "TASS"),
        themes=(ThemeHit("tumen-bridge", 5.4, "road bridge (title); score 5.4"),),
    )
    reply = Reply("Latest stories", stories=(story,), footer="You asked for 50")

    assert printed(reply).splitlines() == [
        "Latest stories",
        "Russia and North Korea open Tumen road bridge",
        "  Wire · 2026-11-20 11:57 UTC (3m ago)  https://wire.example/0",
        "  also reported by: Herald, TASS",
        "  Tumen River bridge: road bridge (title); score 5.4",
        "You asked for 50",
    ]


def test_feed_text_is_never_read_as_markup() -> None:
    story = StoryLine(None, "[bold red]Hostile[/] [/]", None, "[/] Outlet", NOW)
    reply = Reply("Search: [x]", lines=("[link=x]y[/link]",), stories=(story,))

    text = printed(reply)

    for literal in ("Search: [x]", "[link=x]y[/link]", "[bold red]Hostile[/] [/]", "[/] Outlet"):
        assert literal in text
