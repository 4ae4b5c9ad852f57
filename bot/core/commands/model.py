"""What platform adapters and the platform-neutral commands exchange.

An adapter (Slack, Discord, console) turns a `/nkru …` request into an `Invocation`, awaits a
`CommandHandler`, and renders the `Reply` in its own format. Every string in a `Reply` is plain
text, feed text included: adapters escape it for their platform (no mentions, no markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.models import ThemeHit

if TYPE_CHECKING:
    from bot.core.digest import Digest

Platform = Literal["slack", "discord", "console"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who typed the command, as the platform identifies them."""

    platform: Platform
    user_id: str
    user_name: str = ""
    # Facts the platform reports about the caller (Discord role ids and "manage_guild" permission,
    # Slack user-group ids); the bot decides from these and its own configuration who is an admin.
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Invocation:
    """One `/nkru <command> <args…>` request from a channel."""

    caller: Caller
    destination: str  # where it was typed, as routes name it: "slack:C0123", "discord:1234"
    command: str  # "latest", "search", … ("" for a bare `/nkru`)
    args: tuple[str, ...] = ()
    # How many stories `latest` and `search` show, from a front end that asks outside the words
    # and is not bound by a chat message's size (the terminal's `nkru latest -n 50`). None: the
    # words decide, within the chat limits (LATEST_MAX, SEARCH_MAX).
    limit: int | None = None

    @classmethod
    def from_text(cls, caller: Caller, destination: str, text: str) -> Invocation:
        """Split Slack-style text ("latest arms-transfers 5") into command and arguments."""
        words = text.split()
        return cls(caller, destination, words[0].casefold() if words else "", tuple(words[1:]))


@dataclass(frozen=True, slots=True)
class StoryLine:
    """A story in a reply (`latest`, `search`): its representative report, outlets and themes."""

    story_id: int | None
    title: str
    url: str | None
    source_name: str
    when: datetime  # publication time (bot.core.dates)
    outlets: tuple[str, ...] = ()  # other outlets that reported it
    themes: tuple[ThemeHit, ...] = ()
    seen: datetime | None = None  # first seen, where far from `when` (bot.core.dates)


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's answer, platform-neutral.

    `ephemeral` replies are shown only to the caller (usage errors, refusals, the caller's own
    look-ups such as search and status); others, mute confirmations included, are posted to
    the channel. `lines` are plain text lines;
    `stories` and `digest` are rendered as the adapter renders alerts and digests.
    """

    title: str
    lines: tuple[str, ...] = ()
    stories: tuple[StoryLine, ...] = ()
    digest: Digest | None = None
    footer: str | None = None  # e.g. "…and 12 more"
    ephemeral: bool = False
    error: bool = False


class CommandHandler(Protocol):
    """Runs one invocation; never raises for user mistakes (those are ephemeral error replies)."""

    async def handle(self, invocation: Invocation) -> Reply:
        """Answer the invocation."""
        ...


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    """How a theme is shown: its title, one-line description and colour ("#RRGGBB")."""

    slug: str
    title: str
    description: str = ""
    colour: str = "#5865F2"


@dataclass(slots=True)
class ThemeCatalog:
    """The current watchlist's themes by slug; replaced when the watchlist changes."""

    themes: dict[str, ThemeInfo] = field(default_factory=dict)

    @classmethod
    def of(cls, infos: Sequence[ThemeInfo]) -> ThemeCatalog:
        """A catalog of these themes, in order."""
        return cls({info.slug: info for info in infos})

    def get(self, slug: str) -> ThemeInfo:
        """The theme's info; an unknown slug gets a neutral one rather than failing a render."""
        return self.themes.get(slug) or ThemeInfo(slug, slug)

    def all(self) -> list[ThemeInfo]:
        """Every theme, in watchlist order."""
        return list(self.themes.values())
