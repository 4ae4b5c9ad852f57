"""One-time sign-in links to the web panel (bot.panel), tied to a caller's platform identity.

`/nkru web` (and `nkru web-login` for the operator) make a random token, store only its
SHA-256 hash with who asked and what their platform reported about them (roles, permissions),
and hand the link to that caller alone. The panel redeems a token once, before it expires; the
session it opens keeps the caller's facts, so every edit is judged by the same `AdminPolicy` as
a chat command, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, get_args

from bot.core.commands.model import Caller, Platform
from bot.core.records import LoginGrant

if TYPE_CHECKING:
    from bot.core.repositories import Database

TOKEN_BYTES = 32  # 256 bits: not guessable within a link's few minutes
LOGIN_PATH = "/login/"  # the panel's landing page for a link: {base}/login/{token}


def token_hash(token: str) -> str:
    """What is stored for a token (the token itself never is)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def caller_of(grant: LoginGrant) -> Caller:
    """The caller a grant signs in as, with the facts their platform reported then."""
    platform = grant.platform
    if platform not in get_args(Platform):
        raise ValueError(f"a sign-in link of an unknown platform: {platform!r}")
    return Caller(platform, grant.user_id, grant.user_name, grant.roles, grant.permissions)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WebLinks:
    """Makes sign-in links: the panel's public address and how long a link lasts."""

    base_url: str  # NKRU_WEB_BASE_URL, without a trailing slash
    ttl: timedelta  # NKRU_WEB_LINK_TTL

    async def issue(self, store: Database, caller: Caller, now: datetime) -> str:
        """Store a new single-use grant for `caller`; the link that redeems it."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        grant = LoginGrant(
            token_hash(token),
            caller.platform,
            caller.user_id,
            caller.user_name,
            caller.roles,
            caller.permissions,
            now,
            now + self.ttl,
        )
        async with store.transaction() as tx:
            await tx.web_logins.purge_expired(now)
            await tx.web_logins.add(grant)
        return f"{self.base_url.rstrip('/')}{LOGIN_PATH}{token}"

    def minutes(self) -> int:
        """How long a link lasts, in whole minutes (at least 1), for the text that gives it."""
        return max(1, round(self.ttl.total_seconds() / 60))
