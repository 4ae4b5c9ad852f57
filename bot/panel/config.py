"""What the panel is built with: the core's services and its own security settings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.core.commands.model import CommandHandler, ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.repositories import Database
from bot.core.watchlist_editing import WatchlistEditor

KEY_BYTES = 32  # what Fernet (aiohttp-session's EncryptedCookieStorage) takes


@dataclass(frozen=True, slots=True)
class PanelConfig:
    """The panel's parts: read through `store`, change through `commands` (the chat's command
    service), judged by `admin` (the chat's rules)."""

    store: Database
    commands: CommandHandler
    admin: AdminPolicy
    catalog: Callable[[], ThemeCatalog]
    clock: Callable[[], datetime]
    session_key: bytes  # KEY_BYTES random bytes (session_key_of)
    secure_cookies: bool  # the panel is reached over https
    session_ttl: int  # seconds a sign-in lasts
    # The stored watchlist (the chat's editor): its page and editor; None shows neither.
    editor: WatchlistEditor | None = None


CONFIG_KEY = web.AppKey("panel", PanelConfig)


def key_from_secret(secret: str) -> bytes:
    """The cookie key from NKRU_WEB_SECRET: any text of enough entropy, hashed to the size."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def checked_key(key: bytes) -> bytes:
    """`key`, if it is the size the cookie encryption takes (a stored key cut short would
    otherwise fail on the first request)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"the session key must be {KEY_BYTES} bytes, not {len(key)}")
    return key
