"""Discord's message limits, and feed text made safe to show: no mentions, no markup, no odd links.

Feed text is untrusted. Markdown-rendering parts of an embed (title, description, field names
and values) get `discord.utils.escape_markdown`; every part gets `escape_mentions` plus our own
pass for what that helper leaves alone (`<@123>` with a short id, `<#789>`, `<t:…>`, `<:emoji:…>`),
so nothing renders as a ping or a channel link even if `allowed_mentions` were lost on the way.
Author names and footers render no markdown, so they are not backslash-escaped (the
backslashes would show).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

from discord.utils import escape_markdown, escape_mentions

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # across every embed of one message
EMBEDS_PER_MESSAGE = 10
URL = 2048
ELLIPSIS = "…"
ZWSP = "\u200b"

# `<@…>`, `<@!…>`, `<@&…>`, `<#…>`, `<t:…>`, `<:name:id>`, `<a:name:id>`, `</cmd:id>`, `<id:…>`:
# a zero-width space after `<` keeps them literal text.
_ANGLE_TOKEN = re.compile(r"<(?=[@#:/]|[at]:|id:)")
# `@everyone` / `@here` with any case, which escape_mentions (case-sensitive) would miss.
_BROADCAST = re.compile(r"@(?=(?:everyone|here)\b)", re.IGNORECASE)
# A bracket after an even run of backslashes (none included) is not escaped yet.
_UNESCAPED_BRACKET = re.compile(r"(?<!\\)((?:\\\\)*)([\[\]])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def defuse_mentions(text: str) -> str:
    """Make every mention-like token inert (invisible change: zero-width spaces)."""
    text = escape_mentions(_CONTROL.sub("", text))
    text = _BROADCAST.sub("@" + ZWSP, text)
    return _ANGLE_TOKEN.sub("<" + ZWSP, text)


def safe_markdown(text: str, limit: int) -> str:
    """Feed text for a markdown part of an embed: escaped, mentions defused, clipped to `limit`."""
    # Clip first (cheap on huge summaries), escape, then clip again: escaping adds characters.
    escaped = escape_markdown(defuse_mentions(clip(text, limit)))
    return clip_escaped(escaped, limit)


def safe_plain(text: str, limit: int) -> str:
    """Feed text for a part that renders no markdown (author, footer): mentions defused, clipped."""
    return clip(defuse_mentions(text), limit)


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary when one is near, with "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit * 0.6:  # a word boundary that does not throw away much
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def clip_escaped(text: str, limit: int) -> str:
    """Clip escaped text without leaving a dangling backslash that would escape the "…"."""
    if len(text) <= limit:
        return text
    cut = clip(text, limit).removesuffix(ELLIPSIS)
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:  # an odd run of backslashes ends in half an escape
        cut = cut[:-1]
    return cut + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL Discord will accept, else None (never a link)."""
    if not url or len(url) > URL or any(ch.isspace() for ch in url):
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


def link(text: str, url: str | None, limit: int) -> str:
    """A masked link `[text](url)` with escaped text, or just the escaped text when no safe URL."""
    target = safe_url(url)
    if target is None:
        return safe_markdown(text, limit)
    # Brackets would end the link text early; parentheses and `<>` would end the target.
    target = quote(target, safe=":/?#[]@!$&'*+,;=%~-._")
    room = max(8, limit - len(target) - 4)
    label = _UNESCAPED_BRACKET.sub(r"\1\\\2", safe_markdown(text, room))
    return f"[{label}]({target})"


def join_clipped(names: list[str], limit: int, *, markdown: bool = True) -> str:
    """Names joined by ", " within `limit`, ending "…and N more" when they do not all fit."""
    shown: list[str] = []
    for index, name in enumerate(names):
        item = safe_markdown(name, 100) if markdown else safe_plain(name, 100)
        rest = len(names) - index - 1
        tail = f" …and {rest} more" if rest else ""
        candidate = ", ".join([*shown, item])
        if len(candidate) + len(tail) > limit:
            return (", ".join(shown) + f" …and {len(names) - len(shown)} more").strip()
        shown.append(item)
    return ", ".join(shown)
