"""`Kept`: a small map of results by the exact content they were made from, for the loader and
the compiler of watchlists.

A preview of a draft in the web panel's editor loads and compiles the whole watchlist, of
which an edit typically changes one theme of eight: the parts that did not change are kept
here and found again by their content (a theme's TOML text, a list of automaton keys), so a
result never depends on what was kept before, only on how long it takes. Entries are
immutable values (frozen dataclasses, automata, or parsed TOML tables that no one changes),
so one found here can be handed to any caller.

Loading and compiling run in worker threads (the preview, a save, the poll's live
watchlist): the map is guarded by a lock; making a value happens outside it, so two threads
may make the same one, and either is kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    """At most `size` values by key, the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for `key`, if any."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, else `make()`, kept."""
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def clear(self) -> None:
        """Forget every value (tests compare with a cold start)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
