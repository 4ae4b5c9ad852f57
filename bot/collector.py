"""How `nkru run` sets Python's garbage collector once started (and benchmarks that serve as it).

Two measured causes of event-loop stalls, both from full collections (which walk every object
that is not frozen, with the loop held):

- Start-up leaves ~150,000 long-lived objects (the libraries' modules, classes and functions),
  and every full collection walked them all: 50-110 ms each, the largest stall at 10,000 feeds.
  Frozen (`gc.freeze`), they are never walked again; what is made later is collected as before
  (benchmarks/capacity.py: stall 106 -> 59 ms).
- Work that holds tens of thousands of objects for a moment (a watchlist preview over a week's
  9,000 articles, an ingest group of 500 articles) triggers young collections while it runs,
  which promote its objects to the oldest generation; as they die they trigger a full
  collection: two a second while an admin previews, 30-130 ms each. Young collections every
  10,000 allocations instead of CPython's 700 let such objects die young (benchmarks/panel.py:
  full collections over 20 ms 56-60 -> 4 in 80 previews, preview p95 90-95 -> 55-58 ms). A
  young collection then walks up to 10,000 objects: about a millisecond.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def settle_collector() -> None:
    """Freeze every object made so far, and collect the young generation less often."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
