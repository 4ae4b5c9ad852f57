"""What the runtime hands the chat platforms, and what it gets back.

`bot.app.open_runtime` takes a `ChatOpener` and knows nothing of Slack or Discord; `bot.chat`
makes the openers (and imports the platform SDKs). This module imports none of them, so the
commands that never talk to a platform never pay for loading them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.commands.model import CommandHandler, ThemeCatalog
from bot.core.delivery import DeliveryAdapter
from bot.core.routing import Route
from bot.core.watchlist_editing import WatchlistEditor
from bot.settings import Settings
from storage.engine import Store


class ChatSetupError(Exception):
    """A chat platform cannot start as configured; the message says which setting to fix."""


@dataclass(slots=True)
class ChatPlatforms:
    """What the chat platforms opened: delivery adapters, and where commands are heard."""

    adapters: dict[str, DeliveryAdapter] = field(default_factory=dict)
    listening: list[str] = field(default_factory=list)  # e.g. "Slack /nkru (Socket Mode)"
    http_port: int | None = None
    # The Discord gateway client this process runs now, if any (with several processes on
    # PostgreSQL only the lease holder has one; tests wait for its guild cache through it).
    gateway: Callable[[], object | None] = lambda: None


@dataclass(frozen=True, slots=True)
class ChatWiring:
    """The parts of the runtime the chat platforms use."""

    settings: Settings
    store: Store
    handler: CommandHandler  # answers `/nkru …`
    catalog: Callable[[], ThemeCatalog]
    routes: Sequence[Route]
    # Every delivery adapter, read when /healthz asks (the platforms' own are added after).
    adapters: Mapping[str, DeliveryAdapter]
    clock: Callable[[], datetime]
    editor: WatchlistEditor | None = None  # the stored watchlist's, for the web panel


# Opens the platforms for the runtime's lifetime (closes them on exit, also when start-up fails).
ChatOpener = Callable[[ChatWiring], AbstractAsyncContextManager[ChatPlatforms]]
