"""Make feed and reply text safe for Slack: no mentions, no markup, no unsafe links.

Slack reads `&`, `<` and `>` as control characters (`<!channel>`, `<@U123>`, `<url|label>`),
so every piece of outside text is entity-escaped, in plain_text objects too. Slack has no escape
for mrkdwn formatting (`*bold*`, `_it_`, `~strike~`, `` `code` ``), so in mrkdwn fields those
characters are swapped for look-alikes; and a word joiner after `@` keeps `@here`, `@channel`
and `@everyone` inert even where Slack might parse mentions typed as words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
MAX_URL = 1500  # longer links are dropped rather than cut (a cut URL is a broken one)

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# U+2217 asterisk operator, U+02CD low macron, U+223C tilde operator, U+02CB grave accent.
_FORMATTING = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_URL_UNSAFE = re.compile(r"[\x00-\x20<>|\"\x7f]")


def escape(text: str) -> str:
    """Entity-escape `&`, `<`, `>` and defuse typed broadcast mentions; for plain_text."""
    return _BROADCAST.sub("@" + _WORD_JOINER, text.translate(_ENTITIES))


def unescape(text: str) -> str:
    """Undo Slack's own escaping of typed text (slash-command `text` arrives with `&`, `<`,
    `>` as `&amp;`, `&lt;`, `&gt;`): what the user typed, e.g. a term such as "AT&T"."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def neutral(text: str) -> str:
    """`escape`, and mrkdwn formatting characters swapped for look-alikes; for mrkdwn text."""
    return escape(text.translate(_FORMATTING))


def mrkdwn(text: str) -> str:
    """`neutral` on one line: inside our own lines, outside text can never start a `>` quote."""
    return neutral(" ".join(text.split()))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for `<url|label>`, or None if it is anything else or too long."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    # Characters that would end or split Slack's `<url|label>` are percent-encoded; `&` is
    # entity-escaped as Slack expects inside links.
    cleaned = _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), url.strip())
    cleaned = cleaned.replace("&", "&amp;")
    return cleaned if len(cleaned) <= MAX_URL else None


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to `url` labelled `label` (already safe), or just the label."""
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    head = cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut
    return head.rstrip() + ELLIPSIS


def fit(text: str, limit: int, transform: Callable[[str], str] = escape) -> str:
    """`transform(text)` within `limit` characters, clipping the raw text (never an entity)."""
    raw = clip(text, limit)
    out = transform(raw)
    while len(out) > limit:
        # Shrink in proportion to the overshoot (escaping can grow text fivefold); always by at
        # least one character, so this ends.
        raw = clip(raw, max(0, min(len(raw) - 1, len(raw) * limit // len(out))))
        out = transform(raw)
    return out
