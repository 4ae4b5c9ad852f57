"""Sample alerts, themes and checks shared by the Slack adapter tests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.core.commands.model import ThemeCatalog, ThemeInfo
from bot.core.models import Alert, ThemeHit
from tests.fakes.slack_api import block_problems

CHANNEL = "C0123"
WHEN = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
CATALOG = ThemeCatalog.of(
    [
        ThemeInfo("tumen-bridge", "Tumen River bridge", "The road bridge", "#2e86de"),
        ThemeInfo("arms-transfers", "Arms transfers", "Shells and missiles", "#c0392b"),
    ]
)
HOSTILE_TITLE = "@everyone <!channel> **bold** <script>"
HOSTILE_SUMMARY = "Ping <@U123> and <!here|here>, or <https://evil|click> _now_ ~x~ `code`"


def alert(**changes: Any) -> Alert:
    """A new alert for CHANNEL; keyword arguments override fields."""
    base = Alert(
        outbox_id=5,
        destination=f"slack:{CHANNEL}",
        kind="new",
        story_id=42,
        title="Russia and North Korea open Tumen road bridge",
        url="https://news.example/tumen?id=1&lang=en",
        summary="The bridge links Khasan and Tumangang.",
        source_name="Example News",
        published_at=WHEN,
        themes=[ThemeHit("tumen-bridge", 6.0, "Tumen (title), road bridge (title)")],
    )
    return replace(base, **changes)


def texts(value: Any) -> list[str]:
    """Every `text` string inside a decoded message (blocks, attachments, fallback)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found += texts(item)
    elif isinstance(value, list):
        for item in value:
            found += texts(item)
    return found


def mrkdwn_texts(value: Any) -> list[str]:
    """The strings Slack reads as mrkdwn: mrkdwn objects, the fallback `text`, attachments'."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"text", "fallback"} and isinstance(item, str):
                if value.get("type") != "plain_text":
                    found.append(item)
            else:
                found += mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            found += mrkdwn_texts(item)
    return found


def assert_inert(raw: str) -> None:
    """No Slack control sequence from outside text survives in `raw`, nor mrkdwn formatting
    in the fields Slack formats (plain_text shows `*` and `_` literally)."""
    decoded = json.loads(raw)
    for text in texts(decoded):
        for sequence in ("<!", "<@", "<#", "<https://evil", "<script"):
            assert sequence not in text, (sequence, text)
        assert "@everyone" not in text and "@here" not in text, text
    for text in mrkdwn_texts(decoded):
        for markup in ("**bold**", "*Wire*", "*why*", "_now_", "~x~", "`code`"):
            assert markup not in text, (markup, text)


def assert_within_limits(body: dict[str, Any]) -> None:
    """The message is one Slack would accept (the fake checks too; this says why on failure)."""
    assert block_problems(body.get("blocks", [])) == []
    for attachment in body.get("attachments", []):
        assert block_problems(attachment["blocks"]) == []
    assert 0 < len(body["text"]) <= 40_000
