"""One open transaction and the repositories bound to it: what bot.core.repositories.Transaction
asks for, on SQLAlchemy (`Store.transaction` hands these out)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import locks
from storage.articles import SqlArticles
from storage.audit import SqlAuditLog
from storage.browse import SqlBrowsing
from storage.feeds import SqlFeeds
from storage.instances import SqlInstances
from storage.mutes import SqlMutes
from storage.outbox import SqlOutbox
from storage.reports import SqlReports
from storage.stories import SqlStories
from storage.subscriptions import SqlSubscriptions
from storage.themes import SqlThemes
from storage.watchlist_versions import SqlWatchlistVersions
from storage.web_logins import SqlWebLogins


class SqlTransaction:
    """The repositories of one transaction; `connection` for SQL of one's own (tests, tools)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        # Built once per transaction: each is a connection and nothing else.
        self.feeds = SqlFeeds(connection)
        self.articles = SqlArticles(connection)
        self.stories = SqlStories(connection)
        self.themes = SqlThemes(connection)
        self.outbox = SqlOutbox(connection)
        self.mutes = SqlMutes(connection)
        self.reports = SqlReports(connection)
        self.audit = SqlAuditLog(connection)
        self.versions = SqlWatchlistVersions(connection)
        self.instances = SqlInstances(connection)
        self.subscriptions = SqlSubscriptions(connection)
        self.web_logins = SqlWebLogins(connection)
        self.browse = SqlBrowsing(connection)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.connection.dialect.name

    async def lock_ingest(self) -> None:
        """Serialise ingest transactions until this one ends (storage.locks.lock_ingest)."""
        await locks.lock_ingest(self.connection)
