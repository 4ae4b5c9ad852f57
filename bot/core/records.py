"""What the core and storage exchange besides the core models (bot.core.models).

Rows to add (`NewFeed`, `NewStory`, `NewVersion`, `OutboxEntry`, `AuditEntry`), the read-only
views stored rows come back as (`StoryView`, `VersionInfo`, `WatchlistVersion`, `FeedTrouble`,
`DeadDeliveries`), the running processes that deliver (`Instance`), and the outbox's delivery
states. The repositories that take and give them
are declared in bot.core.repositories and implemented in storage/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Feed, Story

# Where an outbox entry stands (`count_by_status` is keyed by them).
PENDING, SENT, DEAD, MUTED = "pending", "sent", "dead", "muted"


class FeedExistsError(Exception):
    """A feed with the same URL is already stored."""

    def __init__(self, existing: Feed) -> None:
        super().__init__(f"feed #{existing.id} already has this URL ({existing.name})")
        self.existing = existing


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A feed to add."""

    url: str
    name: str
    interval_seconds: int
    origin: str = "cli"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin action."""

    at: datetime
    platform: str  # slack | discord | console | cli | file
    user_id: str
    user_name: str
    destination: str
    action: str  # "watch add", "feeds add", "watch undo", …
    target: str
    detail: str
    outcome: str = "ok"  # ok | refused | invalid | failed
    id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One alert to deliver to one destination."""

    destination: str
    kind: str  # "new" or "update"
    story_id: int
    article_id: int


@dataclass(frozen=True, slots=True)
class Instance:
    """A running process that delivers, as stored: outbox claims name the one that holds them.

    `place` is where `pid` means something (one kernel boot and pid namespace; "" when unknown)
    and `started` the process's start time there, so a reused pid is not taken for it.
    """

    id: str
    place: str
    pid: int
    started: int
    seen_at: datetime  # its last heartbeat


@dataclass(frozen=True, slots=True)
class FeedTrouble:
    """A failing or disabled feed and why (its last error, or the reason it was disabled)."""

    name: str
    url: str
    status: str  # "failing" | "disabled"
    reason: str | None
    since: datetime | None  # failing since (None for a feed disabled by hand)


@dataclass(frozen=True, slots=True)
class DeadDeliveries:
    """The alerts a destination never received because delivery gave up, and the last error."""

    destination: str
    count: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story headed by its representative report (README: "One headline"): the story's
    title is that report's, and so are the link, summary, outlet and times shown."""

    story: Story
    url: str | None
    summary: str
    source_name: str
    outlets: list[str]
    published_at: datetime | None = None  # the head's publication time (bot.core.dates)
    seen_at: datetime | None = None  # when the head was first seen


@dataclass(frozen=True, slots=True)
class NewStory:
    """A story to start: what `create` takes besides the time."""

    title: str
    lead_article_id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a change: the platform and the user as it names them ("file" for file edits)."""

    platform: str  # slack | discord | console | cli | file
    user_id: str
    user_name: str = ""

    @property
    def shown(self) -> str:
        """The name to show, falling back to the id."""
        return self.user_name or self.user_id


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to store: the whole document and what changed, in one line."""

    name: str  # the watchlist file's stem, e.g. "nkru"
    document: str
    author: Author
    change: str
    source: str  # seed | file | chat | import | undo


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A stored version without its document (history lines)."""

    version: int
    name: str
    created_at: datetime
    author: Author
    change: str
    source: str


@dataclass(frozen=True, slots=True)
class WatchlistVersion:
    """A stored version with its document."""

    info: VersionInfo
    document: str

    @property
    def version(self) -> int:
        """The version number."""
        return self.info.version

    @property
    def name(self) -> str:
        """The watchlist's name (its file's stem)."""
        return self.info.name


@dataclass(frozen=True, slots=True)
class LoginGrant:
    """A stored one-time sign-in link to the web panel (bot.core.web_login): the hash of its
    token, whose it is (platform identity and the facts the platform reported) and until when
    it may be used, once."""

    token_hash: str
    platform: str  # slack | discord | console
    user_id: str
    user_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    created_at: datetime
    expires_at: datetime


# Where a story sorts in the panel's list: its newest report's publication time and id.
StoryKey = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class StoryFilter:
    """Which stories the web panel lists: all are optional and combine (AND).

    `theme`: matched that theme (None: any theme; `matched` False: matched or not);
    `outlet`: reported by that outlet (its exact name); `language`: reported in it ("en",
    "ru", "ko", by the script of a report's title); `published_from`/`published_before`:
    a report published in that span.
    """

    theme: str | None = None
    matched: bool = True
    outlet: str | None = None
    language: str | None = None
    published_from: datetime | None = None
    published_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a story was posted (or is waiting to be): one outbox entry."""

    destination: str
    kind: str  # new | update
    status: str  # pending | sent | dead | muted
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
