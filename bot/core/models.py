"""The core's own data types: every layer speaks these, no platform SDK types."""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass, field, fields
from datetime import datetime


class FeedStatus(enum.StrEnum):
    """Health of a feed as shown by `nkru feeds status`."""

    OK = "ok"
    FAILING = "failing"
    DISABLED = "disabled"


class FetchOutcome(enum.StrEnum):
    """What one HTTP poll of a feed produced."""

    FETCHED = "fetched"  # a new body to parse
    NOT_MODIFIED = "not_modified"  # HTTP 304: nothing to parse
    UNCHANGED = "unchanged"  # 200 with the same body hash as last time: nothing to parse
    FAILED = "failed"  # see FetchResult.error


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """What the fetcher needs to poll one feed conditionally."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one poll; `error` is a one-line, actionable message when FAILED."""

    outcome: FetchOutcome
    url: str
    final_url: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)
    max_age: float | None = None  # Cache-Control max-age in seconds
    error: str | None = None
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One item of a feed after parsing and normalising (plain text, UTC, canonical link)."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    published: datetime | None
    author: str | None = None
    image_url: str | None = None  # the item's picture (http(s) only), shown as a thumbnail


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: whatever entries could be read, plus the problem if it was malformed."""

    title: str | None
    link: str | None
    entries: list[ParsedEntry]
    ttl_minutes: int | None = None
    problem: str | None = None  # feedparser's bozo reason, recorded on the feed's health
    fatal: bool = False  # True when nothing feed-like could be read at all


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as stored, with its polling state."""

    id: int
    url: str
    name: str
    interval_seconds: int
    enabled: bool = True
    status: FeedStatus = FeedStatus.OK
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    first_fetch_done: bool = False
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    disabled_reason: str | None = None
    last_error: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    item_count: int = 0


@dataclass(frozen=True, slots=True)
class PollState:
    """What one poll changes on a feed (None fields are left as they are)."""

    last_polled_at: datetime
    next_poll_at: datetime
    status: FeedStatus
    consecutive_failures: int
    last_error: str | None
    failing_since: datetime | None
    disabled_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_success_at: datetime | None = None
    first_fetch_done: bool | None = None
    new_items: int = 0


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article ready to store; `item_key` is the layer-(a) dedup key (see bot.core.dedup)."""

    feed_id: int
    item_key: str
    guid: str | None
    url: str | None
    title: str
    summary: str
    published_at: datetime
    fetched_at: datetime
    content_hash: str
    source_name: str = ""
    image_url: str | None = None
    # The story fingerprint (bot.core.cluster), when it was computed with the parse (off the
    # event loop); ingest computes it itself when these are empty.
    signature: bytes | None = None
    band_keys: tuple[int, ...] = ()
    # The full-text search terms of title and summary (bot.core.search_terms), made with the
    # parse for the same reason; storing makes them when this is None.
    search_text: str | None = None

    def __reduce__(self) -> tuple[type[NewArticle], tuple[object, ...]]:
        # Every article comes back from the parser processes pickled: the fields in order
        # rebuild it through __init__, faster than the default for slotted frozen dataclasses
        # (a state list set field by field).
        return NewArticle, tuple(getattr(self, name) for name in _NEW_ARTICLE_FIELDS)


_NEW_ARTICLE_FIELDS = tuple(f.name for f in fields(NewArticle))


@dataclass(frozen=True, slots=True)
class ArticleText:
    """A stored article's id, title and summary: what matching reads (the watchlist preview
    reads thousands, and only these three columns of each)."""

    id: int
    title: str
    summary: str


# A stored article's id and stamp (`ArticleRepository.keys_published_since`): an article read
# again with the id and stamp it had has the same title and summary, as neither is ever
# rewritten. PostgreSQL never gives an id again (its stamp is None). SQLite gives a deleted
# newest row's id to the next row: the stamp, the publication time, tells them apart, unless
# the new article has the very publication time of the one retention deleted, which was
# published no later than it was fetched, before the retention cutoff: so only for a window
# longer than the retention period (the preview's week, with NKRU_RETENTION under 7 days), for
# an article published at that same instant and stored with every newer one purged.
ArticleKey = tuple[int, Hashable]


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article."""

    id: int
    feed_id: int
    item_key: str
    url: str | None
    title: str
    summary: str
    published_at: datetime
    fetched_at: datetime
    source_name: str
    story_id: int | None = None
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Story:
    """One story told by one or more outlets: the lead article plus the others."""

    id: int
    title: str
    first_seen_at: datetime
    last_seen_at: datetime
    article_count: int
    lead_article_id: int | None = None


@dataclass(frozen=True, slots=True)
class ThemeHit:
    """A watchlist theme an article matched: its score, and why (one line, and in full)."""

    theme: str
    score: float
    why: str
    explanation: dict[str, object] = field(default_factory=dict, compare=False)
    # The stored article that scored it, where known (a story's hits come from its reports).
    article_id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Report:
    """The article an update was queued for: what a thread reply shows."""

    title: str
    url: str | None
    source_name: str
    published_at: datetime
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """What a delivery adapter renders: a story, its lead article and who else reported it."""

    outbox_id: int
    destination: str
    kind: str  # "new" or "update"
    story_id: int
    title: str
    url: str | None
    summary: str
    source_name: str
    published_at: datetime  # the headline report's publication time (bot.core.dates)
    also_reported_by: list[str] = field(default_factory=list)
    remote_id: str | None = None  # message id of the first post, for updates
    superseded: bool = False  # an update already shown by its story's first post: send nothing
    themes: list[ThemeHit] = field(default_factory=list)  # best hit per theme over the story
    # An earlier delivery attempt may have posted this and died before recording it: adapters
    # that can (Slack metadata, Discord nonce) make sure they do not post it twice.
    redelivery: bool = False
    seen_at: datetime | None = None  # when the headline report was first seen
    image_url: str | None = None  # the headline article's picture (the platform fetches it)
    # How the destination hears of an update (bot.core.routing.UpdateStyle): "edit" the first
    # post, reply in its "thread", or "both"; `report` is the article the update is about.
    updates: str = "edit"
    report: Report | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What an adapter returns after sending: the platform's message id, if any."""

    remote_id: str | None = None
