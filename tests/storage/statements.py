"""What SQL a store sends: for tests that count or order statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from storage.engine import Store


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) the store sends while the block runs; an
    executemany is one entry, its parameters a list."""
    executed: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        executed.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
