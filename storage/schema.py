"""Database schema (SQLAlchemy Core). Alembic migrations in storage/migrations create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; SQLite gets a naive UTC value so string comparison orders correctly."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always hand back aware UTC datetimes."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("origin", Text, nullable=False, default="cli"),  # seed | cli | chat
    Column("status", Text, nullable=False, default="ok"),  # ok | failing | disabled
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", Text),
    Column("first_fetch_done", Boolean, nullable=False, default=False),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("failing_since", UTCDateTime),
    Column("disabled_reason", Text),
    Column("last_error", Text),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime, index=True),
    Column("item_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("lead_article_id", BigInteger),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False, index=True),
    Column("article_count", Integer, nullable=False, default=1),
    Column("signature", LargeBinary, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_key", Text, nullable=False, unique=True),
    Column("feed_id", Id, ForeignKey("feeds.id", ondelete="SET NULL"), index=True),
    Column("story_id", Id, ForeignKey("stories.id", ondelete="SET NULL")),
    Column("guid", Text),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    # The search terms of title and summary (bot.core.search_terms.terms), which the full-text
    # index below is built on.
    Column("search_text", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("image_url", Text),  # the item's picture (http(s)), shown as the alert's thumbnail
    # MinHash signature of an article that joined an existing story (the story's first
    # article's is stories.signature): later reports are matched against every member.
    Column("signature", LargeBinary),
    Column("published_at", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False, index=True),
    # By time and by story, with what the trends read of each article (migration 0015): the
    # first also serves the newest-first lists (published_at, then id).
    Index("ix_articles_published", "published_at", "id", "story_id"),
    Index("ix_articles_story_published", "story_id", "published_at"),
)

# Which watchlist themes an article matched when it was stored (bot.core.watchlist): `why` is
# the one-line explanation shown in alerts, `explanation` the full one (`nkru match` format).
article_themes = Table(
    "article_themes",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("theme", Text, primary_key=True, index=True),
    Column("score", Float, nullable=False),
    Column("why", Text, nullable=False),
    Column("explanation", JSON, nullable=False),
)

# Each (story, theme) pair with the publication time of the story's first stored report that
# matched the theme: what the trends count (stories per theme per day), kept up to date by the
# writes that change it — theme rows added, articles placed in stories, retention
# (storage.theme_starts) — so a 90-day chart reads one row per pair (migration 0016).
story_themes = Table(
    "story_themes",
    metadata,
    Column("story_id", Id, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("theme", Text, primary_key=True),
    Column("first_published_at", UTCDateTime, nullable=False),
    Index("ix_story_themes_first", "first_published_at", "theme"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("destination", Text, nullable=False),
    Column("kind", Text, nullable=False),  # new | update
    Column("story_id", Id, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False, default="pending"),  # pending | sent | dead | muted
    Column("attempts", Integer, nullable=False, default=0),
    # How often a delivery worker took the entry; above 1 the previous taker may have sent it
    # and died before recording that, so adapters check the platform before posting again.
    Column("claims", Integer, nullable=False, default=0, server_default="0"),
    # The instance (below) that holds the entry's current claim, while it is sending; NULL once
    # an outcome is recorded. A claim whose holder is known to be gone is released at once.
    Column("claimed_by", Text),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("remote_id", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # When it was last rendered (claimed): the outlets it shows are those known then.
    Column("rendered_at", UTCDateTime),
    UniqueConstraint("destination", "article_id"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_story", "story_id", "destination"),
)

# Running processes that deliver (bot.core.instances): each keeps its row fresh while it runs,
# so the others can tell whether the holder of an outbox claim is still alive.
instances = Table(
    "instances",
    metadata,
    Column("id", Text, primary_key=True),  # random, one per process life
    Column("place", Text, nullable=False),  # kernel boot + pid namespace ("" when unknown)
    Column("pid", Integer, nullable=False),
    Column("started", BigInteger, nullable=False),  # start time, clock ticks after boot
    Column("seen_at", UTCDateTime, nullable=False),  # its last heartbeat
)

# Per-channel mutes (`/nkru mute <theme> <duration>`): alerts on a muted theme are not sent to
# that destination until `until`.
mutes = Table(
    "mutes",
    metadata,
    Column("destination", Text, primary_key=True),
    Column("theme", Text, primary_key=True),
    Column("until", UTCDateTime, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Every admin action from chat or the CLI, refused ones included (`nkru audit`, `/nkru audit`).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("platform", Text, nullable=False),  # slack | discord | console | cli | file
    Column("user_id", Text, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("destination", Text, nullable=False),  # where it was typed ("" for cli/file)
    Column("action", Text, nullable=False),  # e.g. "watch add", "feeds remove"
    Column("target", Text, nullable=False),  # e.g. the theme slug or feed URL
    Column("detail", Text, nullable=False),  # what changed, or why it was refused
    Column("outcome", Text, nullable=False),  # ok | refused | invalid | failed
)

# The effective watchlist as numbered versions: the newest is live. `document` is the whole
# watchlist file (TOML) as it stood after the change; `change` says what changed, in one line.
watchlist_versions = Table(
    "watchlist_versions",
    metadata,
    Column("version", Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),  # the watchlist file's stem, e.g. "nkru"
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("author_id", Text, nullable=False),
    Column("author_name", Text, nullable=False),
    Column("change", Text, nullable=False),
    Column("source", Text, nullable=False),  # seed | file | chat | import | undo
)

# Channel subscriptions made from chat (`/nkru subscribe`), as versions: every change appends a
# row and a destination's newest row is in force (`active` false: unsubscribed). Routes from the
# settings are not stored here.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("destination", Text, nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("themes", Text, nullable=False),  # slugs separated by spaces; "" = every theme
    Column("mode", Text, nullable=False),  # instant | digest
    Column("cron", Text),  # digest mode
    Column("min_score", Float, nullable=False),
    Column("quiet_hours", Text),
    Column("timezone", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("author_id", Text, nullable=False),
    Column("author_name", Text, nullable=False),
    Column("change", Text, nullable=False),
    Column("source", Text, nullable=False),  # chat | undo
)


# One-time sign-in links to the web panel (bot.core.web_login, migration 0014): the SHA-256 of
# the token (never the token), who it signs in as and the facts their platform reported.
web_logins = Table(
    "web_logins",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("roles", Text, nullable=False),  # ids separated by spaces
    Column("permissions", Text, nullable=False),  # facts separated by spaces
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("used_at", UTCDateTime),
)

# Keys the web panel keeps in the database: "session" encrypts its cookies when NKRU_WEB_SECRET
# is unset (made by the first process that starts; every process on the database shares it).
web_keys = Table(
    "web_keys",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The full-text index of articles.search_text, which SQLAlchemy does not declare: on SQLite the
# FTS5 table articles_fts (migration 0013: external content, kept in step with articles by
# triggers: insert, retention's delete); on PostgreSQL the table article_vectors (migration
# 0017: each article's id, publication time and tsvector, kept by triggers and the cascade of
# retention's delete) and its GIN index.
FULLTEXT_TABLE = "articles_fts"
FULLTEXT_VECTORS = "article_vectors"
FULLTEXT_INDEX = "ix_article_vectors_vector"


def declared(name: str | None, type_: str, _parents: object = None) -> bool:
    """Alembic's `include_name`: whether a database object is one of those declared above: not
    procrastinate's tables (migration 0008, its own to change), nor the full-text index's
    tables (FTS5's with its shadow tables, migration 0013; PostgreSQL's, migration 0017)."""
    if type_ == "table":
        table = name or ""
        fulltext = table.startswith(FULLTEXT_TABLE) or table == FULLTEXT_VECTORS
        return not (table.startswith("procrastinate_") or fulltext)
    return name != FULLTEXT_INDEX
