"""Shared helpers for the `nkru` commands: output, settings, one-line errors.

Every `nkru` command, `--help` included, imports the whole `bot.cli` package before it runs, so
its modules import at the top only typer, rich, the standard library and light parts of the
bot. A command imports what it runs (settings, the database, the runtime) in its body: those
take most of a second, and the chat platforms (discord.py, slack-bolt) seconds, to import.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
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
    """Load settings and configure logging from them (see `log_handler`)."""
    from bot.settings import load_settings

    loaded = load_settings(**overrides)
    logging.basicConfig(level=loaded.log_level, handlers=[log_handler()], force=True)
    for noisy in ("apscheduler", "alembic", "aiohttp.access"):
        # Their INFO lines (every job run, every migration check) would drown the alerts.
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    return loaded


def log_handler() -> logging.Handler:
    """Rich lines on a terminal; elsewhere (a file, Docker, systemd) one plain line a record,
    with its date: rich wraps a record to 80 columns when stderr is not a terminal, which
    breaks every tool that reads logs a line at a time."""
    if errors.is_terminal:
        from rich.logging import RichHandler

        rich = RichHandler(console=errors, show_path=False, markup=False)
        rich.setFormatter(logging.Formatter("%(message)s"))
        return rich
    plain = logging.StreamHandler(sys.stderr)
    plain.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return plain


@contextlib.contextmanager
def logging_in_background() -> Iterator[None]:
    """While this lasts, log records are formatted and written by a thread of their own.

    For `nkru run`, whose event loop logs as it polls: a record rendered by rich costs 1.5-2 ms
    of the caller's time (0.05 ms plain, plus a write that can block), and a round of polls
    logs a line for each feed with news, so records rendered inline held the loop for tens of
    milliseconds at a time (benchmarks/capacity.py at 10,000 feeds). The queue hands each
    record over as it is (its message merged with its arguments); the records queued when
    this ends are written before it returns.
    """
    import logging.handlers
    import queue

    root = logging.getLogger()
    handlers = list(root.handlers)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, *handlers, respect_handler_level=True)
    front = logging.handlers.QueueHandler(records)
    for handler in handlers:
        root.removeHandler(handler)
    root.addHandler(front)
    listener.start()
    try:
        yield
    finally:
        root.removeHandler(front)
        listener.stop()
        for handler in handlers:
            root.addHandler(handler)


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
