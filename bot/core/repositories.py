"""What the core needs from storage, as protocols: storage/ implements them, the wiring hands
them in, and the core never imports storage or a database library.

The core opens a transaction (`Database.transaction`), works through the repositories it
carries (`Transaction.feeds`, `.articles`, …) and the transaction commits when the block ends,
or rolls back if it raises. A failure of the database itself surfaces as `DatabaseError`.
storage/ implements them on SQLAlchemy for SQLite and PostgreSQL (storage.engine.Store,
storage.transaction.SqlTransaction); tests/storage/test_contract.py runs the same tests
against both. Each repository lists what the core calls, nothing more.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.core.models import (
    Alert,
    Article,
    ArticleKey,
    ArticleText,
    Feed,
    NewArticle,
    PollState,
    ThemeHit,
)
from bot.core.records import (
    AuditEntry,
    DeadDeliveries,
    Delivery,
    FeedTrouble,
    Instance,
    LoginGrant,
    NewFeed,
    NewStory,
    NewVersion,
    OutboxEntry,
    StoryFilter,
    StoryKey,
    StoryView,
    VersionInfo,
    WatchlistVersion,
)
from bot.core.subscriptions.model import NewSubscription, StoredSubscription


class DatabaseError(Exception):
    """The database failed (unreachable, locked, out of space…); nothing of the transaction was
    kept, and the same work can be tried again. The message is one line from the driver."""


class Database(Protocol):
    """Where everything is stored."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Never open a second one inside it (on SQLite that would wait forever).
        """
        ...

    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that only reads (a write in it fails): it does not wait for the
        writes queued before it, so commands and pages answer while polls store news."""
        ...


class Transaction(Protocol):
    """An open transaction and the repositories that work inside it."""

    @property
    def feeds(self) -> FeedRepository:
        """Feeds and their polling state."""
        ...

    @property
    def articles(self) -> ArticleRepository:
        """Stored articles."""
        ...

    @property
    def stories(self) -> StoryRepository:
        """Stories."""
        ...

    @property
    def themes(self) -> ThemeMatches:
        """Theme matches of stored articles."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Alerts to deliver."""
        ...

    @property
    def mutes(self) -> MuteRepository:
        """Mutes of themes per channel."""
        ...

    @property
    def reports(self) -> Reports:
        """Summaries for `/nkru status`."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The admin audit log."""
        ...

    @property
    def versions(self) -> WatchlistVersions:
        """The watchlist's versions."""
        ...

    @property
    def instances(self) -> Instances:
        """The running processes that deliver."""
        ...

    @property
    def subscriptions(self) -> Subscriptions:
        """Channel subscriptions made from chat, as versions."""
        ...

    @property
    def web_logins(self) -> WebLogins:
        """One-time sign-in links to the web panel."""
        ...

    @property
    def browse(self) -> Browsing:
        """What the web panel's pages read beyond the chat commands."""
        ...

    async def lock_ingest(self) -> None:
        """Serialise ingest transactions (across processes too) until this one ends."""


class ArticleRepository(Protocol):
    """Stored articles."""

    async def insert_new(self, new: list[NewArticle]) -> list[Article]:
        """Insert the articles whose item_key is not stored yet; return those, in input order."""

    async def stored_keys(self, item_keys: list[str]) -> set[str]:
        """The item keys among `item_keys` that are stored already."""

    async def set_stories(
        self, placed: list[tuple[int, int, bytes | None]], *, unthemed: bool = False
    ) -> None:
        """Put articles in their stories: (article id, story id, signature if it joined) triples.
        `unthemed`: none of them has a theme yet (no trends pair to move)."""

    async def member_signatures_after(
        self, after_id: int, since: datetime, limit: int | None = None
    ) -> list[tuple[int, int, bytes, datetime]]:
        """(article, story, signature, fetched) of articles after `after_id` in a story, by
        article id (the first `limit` of them if given)."""

    async def last_id(self) -> int:
        """The highest article id stored (0 when there is none)."""

    async def search(self, query: str, limit: int = 20) -> list[Article]:
        """Articles with every word of the query in one of its forms ("bridges": "bridge") and
        every "quoted phrase" (words in a row), in any script; the most relevant first, then the
        newest. A query with no letter or digit finds nothing."""

    async def outlets(self, story_id: int) -> list[str]:
        """Names of the outlets that reported a story, in the order they did."""

    async def published_since(self, since: datetime, limit: int) -> list[Article]:
        """Up to `limit` articles published since `since`, the newest first (what a watchlist
        draft is previewed against)."""

    async def texts_published_since(self, since: datetime, limit: int) -> list[ArticleText]:
        """The same articles as `published_since`, in the same order, but only their id, title
        and summary (what a watchlist draft's preview matches)."""

    async def keys_published_since(self, since: datetime, limit: int) -> list[ArticleKey]:
        """The same articles as `published_since`, in the same order, as (id, stamp): a
        stamp (opaque, comparable) differs between two articles given one id, so a reader
        that kept an article's text can tell it is still the same (`ArticleKey`)."""

    async def texts_of(self, ids: Iterable[int]) -> list[tuple[ArticleText, Hashable]]:
        """The id, title and summary of the articles of these ids, each with its stamp (as
        `keys_published_since` gives it); ids not stored are left out."""

    async def get_many(self, ids: Iterable[int]) -> dict[int, Article]:
        """The stored articles of these ids, by id (ids not stored are left out)."""

    async def purge_fetched_before(self, cutoff: datetime) -> int:
        """Retention: delete articles fetched before the cutoff; a story that lost its lead is
        led by its oldest report left (the core shows stories by their lead)."""


class AuditLog(Protocol):
    """The admin audit log."""

    async def record(self, entry: AuditEntry) -> int:
        """Append an entry; its id."""

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The newest entries first."""


class FeedRepository(Protocol):
    """Feeds and their polling state."""

    async def add(self, feed: NewFeed, now: datetime) -> Feed:
        """Add one feed, or raise FeedExistsError naming the feed that already has the URL."""

    async def add_missing(self, new: list[NewFeed], now: datetime) -> list[Feed]:
        """Add the feeds whose URL is not stored yet; return only those added."""

    async def get(self, feed_id: int) -> Feed | None:
        """The feed with this id."""

    async def get_with_origin(self, feed_id: int) -> tuple[Feed, str] | None:
        """The feed with this id and who added it (`origin_of`), in one query."""

    async def list_all(self) -> list[Feed]:
        """Every feed, by id."""

    async def due_for_poll(self, now: datetime, limit: int) -> list[tuple[Feed, str]]:
        """Up to `limit` enabled feeds due at `now` with who added them, never polled first."""

    async def next_due_at(self, polling: Collection[int] = ()) -> datetime | None:
        """When the next enabled feed not in `polling` falls due, or None without one."""

    async def remove(self, feed_id: int) -> bool:
        """Delete a feed (its stored articles stay, detached); True if it existed."""

    async def set_enabled(self, feed_id: int, enabled: bool, now: datetime) -> bool:
        """Enable (clearing failure state, polling soon) or disable a feed by hand."""

    async def record_polls(self, outcomes: Sequence[tuple[int, PollState]]) -> None:
        """Store the outcome of each poll (feed id, its new state), in as few statements as
        possible; a feed given twice ends with its later state."""

    async def count_by_status(self) -> dict[str, int]:
        """How many feeds are ok, failing and disabled."""


class MuteRepository(Protocol):
    """Per-channel mutes of themes."""

    async def mute(
        self,
        destination: str,
        theme: str,
        until: datetime,
        created_by: str,
        now: datetime,
    ) -> None:
        """Mute `theme` in `destination` until `until` (replacing an earlier mute of it)."""

    async def unmute(self, destination: str, theme: str) -> bool:
        """Lift a mute; False if the theme was not muted there."""

    async def active(self, destination: str, now: datetime) -> dict[str, datetime]:
        """The themes muted in `destination` now, with when each mute ends."""

    async def muted_themes(self, destinations: Iterable[str], now: datetime) -> dict[str, set[str]]:
        """For each destination with active mutes, the muted themes (the delivery worker's view)."""


class Outbox(Protocol):
    """Alerts waiting to be delivered, and what became of them."""

    async def enqueue(self, entries: list[OutboxEntry], now: datetime) -> int:
        """Queue alerts; an article is queued at most once per destination. Returns how many."""

    async def stories_with_new_alert(self, story_ids: Iterable[int], destination: str) -> set[int]:
        """`has_new_alert` for many stories in one query: the ids that have a "new" entry."""

    async def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int = 50,
        skip: Collection[str] = (),
        *,
        by: str | None = None,
        only: str | None = None,
    ) -> list[Alert]:
        """Take due alerts for delivery by pushing their next attempt `lease` ahead (none for the
        `skip` destinations; with `only`, just that destination's); `by` is the claiming
        instance's id, kept with each claim until its outcome is recorded. One that cannot be
        rendered is marked dead with the reason."""

    async def due_destinations(self, now: datetime) -> set[str]:
        """The destinations that have pending alerts due at `now`."""

    async def release_claims(self, holders: Collection[str], now: datetime) -> int:
        """Make the pending alerts claimed by these (gone) instances due at `now`; how many."""

    async def mark_sent(self, outbox_id: int, remote_id: str | None, now: datetime) -> None:
        """Record a confirmed delivery."""

    async def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at `retry_at`, or give up (dead) when it is None."""

    async def postpone(self, outbox_id: int, until: datetime) -> None:
        """Hold a claimed entry until `until` (quiet hours); the claim does not count as a try."""

    async def mark_muted(self, outbox_id: int, now: datetime) -> None:
        """Record that the entry was not sent because its themes are muted in that channel."""

    async def attempts(self, outbox_id: int) -> int:
        """How many times delivery of this entry was tried."""

    async def count_by_status(self) -> dict[str, int]:
        """Backlog figures for `status`: pending, sent, dead."""


class Instances(Protocol):
    """The running processes that deliver, each with its last heartbeat."""

    async def beat(self, instance: Instance) -> None:
        """Add the instance, or record its heartbeat (`seen_at`) if it is stored already."""

    async def all(self) -> list[Instance]:
        """Every stored instance."""

    async def remove(self, ids: Collection[str]) -> None:
        """Forget these instances."""


class Reports(Protocol):
    """Read-only summaries for `/nkru status`."""

    async def latest_matched_story_ids(self, limit: int, theme: str | None = None) -> list[int]:
        """Ids of the stories with the newest reports that had an article match a theme."""

    async def troubled_feeds(self, limit: int) -> list[FeedTrouble]:
        """Up to `limit` failing or disabled feeds: failing ones first, longest failing first."""

    async def last_polled_at(self) -> datetime | None:
        """When any feed was last polled (None before the first poll)."""

    async def dead_deliveries(self, since: datetime) -> list[DeadDeliveries]:
        """Per destination, the alerts queued since `since` that delivery gave up on."""


class StoryRepository(Protocol):
    """Stories: articles about one event, from one or several outlets."""

    async def signatures_after(
        self, after_id: int, since: datetime, limit: int | None = None
    ) -> list[tuple[int, bytes, datetime]]:
        """(id, signature, last seen) of stories with id > `after_id` seen since `since`, by
        id (the first `limit` of them if given)."""

    async def create_many(self, new: list[NewStory], seen_at: datetime) -> list[int]:
        """`create` for many stories in a few statements; returns their ids in input order."""

    async def attach_many(self, story_ids: list[int], seen_at: datetime) -> None:
        """`attach` once per id in the list (an id listed twice counts two reports)."""

    async def latest(self, limit: int = 10, *, since: datetime | None = None) -> list[StoryView]:
        """The stories with the newest reports (first seen since `since`), headed, all outlets."""

    async def views(self, story_ids: list[int]) -> list[StoryView]:
        """The given stories (those that still exist), in no particular order."""

    async def ids_seen_since(
        self, since: datetime, *, published_from: datetime | None = None
    ) -> list[int]:
        """Ids of the stories that gained a report since `since` (published from
        `published_from`, when given)."""

    async def purge_seen_before(self, cutoff: datetime) -> int:
        """Retention: delete stories not seen since the cutoff (their articles stay, detached)."""


class ThemeMatches(Protocol):
    """Which themes each stored article matched."""

    async def add_many(self, matched: Iterable[tuple[int, ThemeHit]]) -> None:
        """Store (article id, hit) pairs."""

    async def of_stories(self, story_ids: Iterable[int]) -> dict[int, list[ThemeHit]]:
        """Per story, its best hit per theme over all its articles, best score first."""

    async def matched_stories_since(
        self, since: datetime, *, published_from: datetime | None = None
    ) -> list[int]:
        """Ids of stories with a matched article fetched since `since` (published from
        `published_from`, when given)."""

    async def new_stories_per_day(
        self, since: datetime, until: datetime
    ) -> list[tuple[date, str, int]]:
        """(UTC day, theme, stories) for each day and theme with at least one story whose first
        report matching the theme was published in [since, until), by day then theme."""


class WatchlistVersions(Protocol):
    """Every version of the watchlist, newest last."""

    async def lock(self) -> None:
        """Hold the watchlist writers' lock until this transaction ends."""

    async def insert_version(self, new: NewVersion, now: datetime) -> VersionInfo:
        """Append a version; what was stored (with its number)."""

    async def latest_number(self) -> int | None:
        """The newest version's number (the cheap check each process runs on schedule)."""

    async def latest(self) -> WatchlistVersion | None:
        """The version in force, or None before the first one is stored."""

    async def get(self, version: int) -> WatchlistVersion | None:
        """One version by number."""

    async def before(self, version: int) -> WatchlistVersion | None:
        """The version just before `version` (what undoing it restores), if any."""

    async def find_document(self, document: str) -> int | None:
        """The newest version whose document is exactly this text (a file already seen), if any."""

    async def history(self, limit: int = 20, theme: str | None = None) -> list[VersionInfo]:
        """The newest versions first; with `theme`, only those whose change names that theme."""


class Subscriptions(Protocol):
    """Every version of every channel's subscription; a channel's newest is in force."""

    async def lock(self) -> None:
        """Hold the subscriptions writers' lock until this transaction ends (a change that
        reads what it changes: undo, unsubscribe)."""

    async def add(self, new: NewSubscription, now: datetime) -> StoredSubscription:
        """Append a version; what was stored (with its id)."""

    async def latest_id(self) -> int | None:
        """The newest version's id of any channel (the cheap check each process runs)."""

    async def in_force(self) -> list[StoredSubscription]:
        """Each subscribed channel's newest version, by destination (unsubscribed ones left out)."""

    async def history(self, destination: str, limit: int = 10) -> list[StoredSubscription]:
        """One channel's versions, newest first."""


class WebLogins(Protocol):
    """One-time sign-in links to the web panel (bot.core.web_login), by the hash of their token."""

    async def add(self, grant: LoginGrant) -> None:
        """Store a new, unused grant."""

    async def redeem(self, token_hash: str, now: datetime) -> LoginGrant | None:
        """Mark the grant used and return it, if it is unused and not expired at `now`; else
        None (the same token never redeems twice, even when two requests race)."""

    async def purge_expired(self, now: datetime) -> int:
        """Forget the grants that expired before `now`; how many."""

    async def session_key(self, candidate: bytes) -> bytes:
        """The stored key that encrypts the panel's session cookies: `candidate` is stored if
        none is yet (the first process to start wins; every process then shares it)."""


class Browsing(Protocol):
    """Read-only queries of the web panel's pages."""

    async def story_page(
        self, wanted: StoryFilter, before: StoryKey | None, limit: int
    ) -> list[tuple[int, StoryKey]]:
        """Ids and sort keys of the stories `wanted` selects, the latest activity first (as
        `latest`), from below `before` (the last key of the page before) on."""

    async def story_articles(self, story_id: int) -> list[Article]:
        """Every stored report of a story, in the order they were stored."""

    async def story_deliveries(self, story_id: int) -> list[Delivery]:
        """Where a story's alerts went (or wait to go), oldest first."""
