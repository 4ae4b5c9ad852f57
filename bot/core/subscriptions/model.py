"""A channel's subscription as stored: what it follows and how, and who set it when.

Every change appends a version (`subscribe`, `unsubscribe`, `subscriptions undo`); a channel's
newest version is the one in force, and an unsubscribed channel's newest version has no spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.quiet_hours import QuietHours
from bot.core.records import Author
from bot.core.routing import Mode, Route

DIGEST_SINCE = 86400.0  # a subscribed digest covers the last 24 hours, as a configured one does
MAX_SCORE = 100.0  # far above any theme's score: a higher minimum is a typo


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What a channel follows: `themes` empty means every watchlist theme."""

    themes: tuple[str, ...] = ()
    mode: Mode = "instant"
    cron: str | None = None  # digest mode: when (UTC)
    min_score: float = 0.0
    quiet_hours: str | None = None  # instant mode: e.g. "22:00-07:00"
    timezone: str = "UTC"  # of quiet_hours

    def route(self, destination: str) -> Route:
        """This subscription as the core's Route to `destination`."""
        quiet = QuietHours.parse(self.quiet_hours, self.timezone) if self.quiet_hours else None
        return Route(destination, frozenset(self.themes), self.min_score, self.mode, quiet)

    def describe(self) -> str:
        """One line, e.g. "tumen-bridge, rason · instant · min score 2 · quiet 22:00-07:00 UTC"."""
        parts = [", ".join(self.themes) or "every theme"]
        parts.append(f"digest {self.cron}" if self.mode == "digest" else "instant")
        if self.min_score:
            parts.append(f"min score {self.min_score:g}")
        if self.quiet_hours:
            parts.append(f"quiet {self.quiet_hours} {self.timezone}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class NewSubscription:
    """A version to store: `spec` None unsubscribes the channel."""

    destination: str
    spec: SubscriptionSpec | None
    author: Author
    change: str  # one line: what changed
    source: str = "chat"  # chat | undo


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """One stored version; `id` grows with every change of any channel."""

    id: int
    destination: str
    spec: SubscriptionSpec | None
    at: datetime
    author: Author
    change: str
    source: str
