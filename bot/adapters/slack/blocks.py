"""Block Kit building blocks that respect Slack's limits, and splitting into several messages.

Limits (https://docs.slack.dev/reference/block-kit/blocks): at most 50 blocks per message,
section text ≤ 3,000 characters, header text ≤ 150 (plain_text only), context ≤ 10 elements,
the message's fallback `text` ≤ 40,000. Builders clip instead of failing; `paginate` spreads
long content over several messages so nothing Slack would reject is ever sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from bot.adapters.slack.escape import clip, fit, neutral

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_IMAGE_URL = 3000  # an image element's image_url
MAX_IMAGE_ALT = 2000  # and its alt_text
MAX_CONTEXT_TEXT = 2000  # our own bound: context lines are short by nature
MAX_FALLBACK_TEXT = 40_000  # Slack's hard limit for `text`
FALLBACK_TEXT = 3000  # what we send: notifications and screen readers show only the start
# Slack rejects over-long block payloads (`msg_blocks_too_long`) without documenting the bound;
# staying well under it per message costs only an occasional extra message.
MESSAGE_BUDGET = 20_000
_LINK = re.compile(r"<([^|<>]*)\|([^<>]*)>")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message: blocks, the fallback `text` Slack requires, optional coloured attachments."""

    text: str
    blocks: list[Block]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / chat.update / respond()."""
        body: dict[str, Any] = {"text": self.text, "blocks": self.blocks}
        if self.attachments:
            body["attachments"] = self.attachments
        return body


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> Block:
    """A plain_text object holding `text` escaped and clipped (never empty: Slack rejects that)."""
    return {"type": "plain_text", "text": fit(text, limit) or "-", "emoji": False}


def with_image(block: Block, url: str | None, alt: str) -> Block:
    """`block` (a section) with the picture at `url` as its accessory, when it is http(s).

    Slack fetches the picture itself; a URL it cannot use would fail the whole message, so only
    absolute http(s) URLs without spaces or control characters, within Slack's 3,000, are kept.
    """
    if not _is_image_url(url):
        return block
    alt_text = fit(alt, MAX_IMAGE_ALT) or "picture"
    return block | {"accessory": {"type": "image", "image_url": url, "alt_text": alt_text}}


def _is_image_url(url: str | None) -> TypeGuard[str]:
    if not url or len(url) > MAX_IMAGE_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def header(text: str) -> Block:
    """A header block (big plain text)."""
    return {"type": "header", "text": plain(text, MAX_HEADER_TEXT)}


def section_plain(text: str) -> Block:
    """A section of plain text, escaped and clipped to the section limit."""
    return {"type": "section", "text": plain(text)}


def section_mrkdwn(text: str) -> Block:
    """A section of mrkdwn built from already-safe parts (see escape.mrkdwn / escape.link).

    `verbatim` stops Slack from auto-linking names and URLs or parsing mentions in it. Callers
    bound each part; should the whole still be too long, links are unwrapped before clipping so
    a cut can never leave half of a `<url|label>` behind.
    """
    if len(text) > MAX_SECTION_TEXT:
        text = clip(_LINK.sub(r"\2", text), MAX_SECTION_TEXT)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or "-", "verbatim": True}}


def context(lines: Iterable[str]) -> Block:
    """A context block (small grey text) of plain-text elements."""
    elements = [plain(line, MAX_CONTEXT_TEXT) for line in lines if line]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS] or [plain("-")]}


def divider() -> Block:
    """A horizontal rule."""
    return {"type": "divider"}


def colour(value: str) -> str | None:
    """A theme colour usable as an attachment colour bar, or None."""
    return value if _COLOUR.fullmatch(value) else None


def fallback(lines: Iterable[str]) -> str:
    """The message's fallback `text` (read as mrkdwn by Slack): neutralised, within the budget."""
    return fit("\n".join(line for line in lines if line), FALLBACK_TEXT, neutral) or "-"


def paginate(
    groups: Sequence[Sequence[Block]], *, max_blocks: int = MAX_BLOCKS
) -> list[list[Block]]:
    """Pack groups of blocks into pages of at most `max_blocks` blocks and MESSAGE_BUDGET.

    A group (a theme's heading and its stories) stays on one page when it fits; a bigger group
    is split. Never returns an empty list.
    """
    pages: list[list[Block]] = [[]]
    size = 0
    for group in groups:
        group_size = sum(_size(block) for block in group)
        if pages[-1] and (
            len(pages[-1]) + len(group) > max_blocks or size + group_size > MESSAGE_BUDGET
        ):
            pages.append([])
            size = 0
        for block in group:
            if pages[-1] and (len(pages[-1]) >= max_blocks or size + _size(block) > MESSAGE_BUDGET):
                pages.append([])
                size = 0
            pages[-1].append(block)
            size += _size(block)
    return pages


def _size(block: Block) -> int:
    return len(json.dumps(block, ensure_ascii=False))
