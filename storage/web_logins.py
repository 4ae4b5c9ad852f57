"""The web panel's one-time sign-in links and its session key (bot.core.web_login)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.records import LoginGrant
from storage.dialect import insert_ignore
from storage.schema import web_keys, web_logins

SESSION_KEY = "session"


def _words(values: frozenset[str]) -> str:
    return " ".join(sorted(values))


def _grant(row: RowMapping) -> LoginGrant:
    return LoginGrant(
        token_hash=row["token_hash"],
        platform=row["platform"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        roles=frozenset(row["roles"].split()),
        permissions=frozenset(row["permissions"].split()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


class SqlWebLogins:
    """Sign-in links in the database, within one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.connection = conn

    async def add(self, grant: LoginGrant) -> None:
        """Store a new, unused grant."""
        await self.connection.execute(
            web_logins.insert().values(
                token_hash=grant.token_hash,
                platform=grant.platform,
                user_id=grant.user_id,
                user_name=grant.user_name,
                roles=_words(grant.roles),
                permissions=_words(grant.permissions),
                created_at=grant.created_at,
                expires_at=grant.expires_at,
            )
        )

    async def redeem(self, token_hash: str, now: datetime) -> LoginGrant | None:
        """Mark the grant used and return it if it is unused and unexpired, else None.

        One UPDATE … WHERE used_at IS NULL: of two requests racing with the same token, the
        database lets one change the row and the other finds nothing.
        """
        stmt = (
            update(web_logins)
            .where(
                web_logins.c.token_hash == token_hash,
                web_logins.c.used_at.is_(None),
                web_logins.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(*web_logins.c)
        )
        row = (await self.connection.execute(stmt)).mappings().first()
        return _grant(row) if row else None

    async def purge_expired(self, now: datetime) -> int:
        """Forget the grants that expired before `now`; how many."""
        result = await self.connection.execute(
            delete(web_logins).where(web_logins.c.expires_at < now)
        )
        return int(result.rowcount or 0)

    async def session_key(self, candidate: bytes) -> bytes:
        """The stored session key, storing `candidate` first if there is none."""
        values = {"name": SESSION_KEY, "value": candidate, "created_at": datetime.now(UTC)}
        stmt = insert_ignore(self.connection, web_keys, ["name"]).values(values)
        await self.connection.execute(stmt)
        found = select(web_keys.c.value).where(web_keys.c.name == SESSION_KEY)
        return bytes((await self.connection.execute(found)).scalar_one())
