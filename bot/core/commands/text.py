"""Plain-text pieces the commands share: times, durations, theme lists (no markup ever)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.commands.model import ThemeCatalog
from bot.core.dates import seen_if_apart


def when(moment: datetime) -> str:
    """`2026-11-23 08:00 UTC`: minutes are enough in chat, and UTC says which clock."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def published_seen(published: datetime, seen: datetime | None) -> str:
    """`2025-01-15 09:30 UTC · seen 2026-12-07 02:01 UTC`; seen only where far apart."""
    apart = seen_if_apart(published, seen)
    return when(published) + (f" · seen {when(apart)}" if apart else "")


def span(delta: timedelta) -> str:
    """A duration in its two largest units: `3d`, `2h 30m`, `45s`."""
    seconds = max(0, int(delta.total_seconds()))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2]) or "0s"


def ago(moment: datetime, now: datetime) -> str:
    """`2026-11-20 11:58 UTC (2m ago)`."""
    return f"{when(moment)} ({span(now - moment)} ago)"


def theme_list(catalog: ThemeCatalog) -> str:
    """`themes: a, b, c` (a hint after a wrong theme)."""
    slugs = [info.slug for info in catalog.all()]
    return f"themes: {', '.join(slugs)}" if slugs else "no watchlist themes are loaded"


def clip(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters (errors can be long and multi-line)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
