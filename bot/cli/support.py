"""Shared helpers for the `nkru` commands: output, settings, one-line errors.

Every `nkru` command, `--help` included, imports the whole `bot.cli` package before it runs, so
its modules import at the top only typer, rich, the standard library and light parts of the
bot. A command imports what it runs (settings, the database, the runtime) in its body: those
take most of a second, and the chat platforms (discord.py, slack-bolt) seconds, to import.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


class UserError(Exception):
    """A mistake the user can fix; printed as one line."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one red line on stderr and exit non-zero."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def escape(text: str) -> str:
    """Make feed or user text safe to print inside rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def load(**overrides: Any) -> Settings:
    """Load settings and configure logging from them."""
    from rich.logging import RichHandler

    from bot.settings import load_settings

    loaded = load_settings(**overrides)
    logging.basicConfig(
        level=loaded.log_level,
        format="%(message)s",
        handlers=[RichHandler(console=errors, show_path=False, markup=False)],
        force=True,
    )
    for noisy in ("apscheduler", "alembic", "aiohttp.access"):
        # Their INFO lines (every job run, every migration check) would drown the alerts.
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    return loaded


def one_line_errors() -> tuple[type[Exception], ...]:
    """What a command reports as one line and exit code 2: a setting, the database, the feed
    list or the watchlist as configured, or the command's own arguments."""
    from bot.core.feedlist import FeedListError
    from bot.service import StartupError
    from bot.settings import SettingsError
    from storage.engine import StorageError

    return SettingsError, StorageError, FeedListError, StartupError, UserError


def run_async(func: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async command; known errors become one line and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return asyncio.run(func(*args, **kwargs))
        except Exception as exc:
            if isinstance(exc, one_line_errors()):
                fail(str(exc))
            raise

    return wrapper


def login_name() -> str:
    """The operator at the terminal, as the audit log and the command service name them."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "cli"


def ago(when: datetime | None) -> str:
    """'3m ago', 'in 2h', '—' for a moment relative to now."""
    if when is None:
        return "—"
    seconds = (datetime.now(UTC) - when).total_seconds()
    return f"{_span(seconds)} ago" if seconds >= 0 else f"in {_span(-seconds)}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
