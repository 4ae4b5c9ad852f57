"""Layer-(b) dedup: recognise one story reported by several outlets (MinHash + LSH).

Pure code, no I/O. The database keeps, per story, the `Fingerprint.signature` blob (the truth);
`StoryIndex` maps band keys (`band_keys_of(signature)`) to the stories of the window in memory,
kept in step with the database by `bot.core.story_cache`. For each new article the pipeline
calls `fingerprint`, asks the index for the stories that share at least one band key, and
lets `best_match` pick one or none: the cost per article does not grow with the window.

The parts: `bot.core.headline_features` (which words of a title and summary count),
`bot.core.minhash` (signatures, band keys, comparing them), `StoryIndex` (below). This module
is their public face.

LSH. A story becomes a candidate when at least one of the `BANDS` = 64 bands of `ROWS` = 3
minima is equal, which for Jaccard similarity J happens with probability
P(J) = 1 - (1 - J**3)**64:

    J      0.05   0.10   0.15   0.20   0.25   0.30   0.35   0.40   0.50
    P(J)   0.008  0.062  0.19   0.40   0.63   0.83   0.94   0.99   >0.999

The S-curve's midpoint (1/64)**(1/3) = 0.25 equals the verification `THRESHOLD`.

Why 64 x 3: on the labelled set (tests/core/test_cluster.py) same-story pairs from different
outlets measure J = 0.21-0.62 (median 0.39), different stories on the same topic J = 0-0.40
(median 0.06, 99th percentile 0.21). 64 x 3 makes 94% of those same-story pairs
candidates, and 5% of the same-topic different-story pairs. Three rows is the most that
still catches J near 0.3: four (48 x 4) would find only 67% of same-story pairs, while two
(96 x 2) would make 40% of same-topic stories candidates. Measured through
StoryIndex + best_match: 38/40 same-story pairs merged, 6/1,881 same-topic different-story
pairs merged, 0/496 cross-topic pairs.

Cost. Per article: `BANDS` index lookups plus one vectorised comparison per candidate.
Candidates are the true matches plus a fixed share of the rest (the low end of the
S-curve): 5% of same-topic and 0.05% of cross-topic stories on the labelled set, 0.6% of
the synthetic benchmark's stories, whose unrelated pairs overlap more (mean J 0.035).
So cost stays flat while that share of the window is small (a few thousand stories) and
grows slowly beyond: benchmarks/pipeline.py (part 5, its own synthetic headlines) measures
0.9 candidates per lookup at 1,000 stories and 74 at 100,000 (benchmarks/clustering.py, with
a harsher vocabulary, about 600). Flat cost at that size would need four rows, at the recall
cost above.
"""

from __future__ import annotations

import heapq

from bot.core.minhash import (
    BANDS,
    MIN_FEATURES,
    NUM_PERM,
    ROWS,
    SCHEME,
    THRESHOLD,
    Fingerprint,
    band_keys_of,
    band_keys_of_many,
    best_match,
    fingerprint,
    similarity,
)

__all__ = [
    "BANDS",
    "MIN_FEATURES",
    "NUM_PERM",
    "ROWS",
    "SCHEME",
    "THRESHOLD",
    "Fingerprint",
    "StoryIndex",
    "band_keys_of",
    "band_keys_of_many",
    "best_match",
    "fingerprint",
    "similarity",
]


class StoryIndex:
    """Band key -> story ids, plus signatures: the LSH index of the stories in the window."""

    def __init__(self) -> None:
        # A band key almost always belongs to one story: a bare id saves a list per key,
        # which matters at millions of keys.
        self._bands: dict[int, int | list[int]] = {}
        self._signatures: dict[int, bytes] = {}  # first article's, flat for fast lookups
        self._later: dict[int, list[Fingerprint]] = {}  # articles attached afterwards
        self._first: dict[int, Fingerprint] = {}
        self._seen: dict[int, float] = {}
        # (seen at, story id), a min-heap with stale entries left in place: finding the
        # stories that left the window costs what leaves, not a scan of the whole window.
        self._expiry: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, story_id: int, fp: Fingerprint, seen_at: float = 0.0) -> None:
        """Index `fp` under `story_id`; adding to a known story also keeps the new keys."""
        if not fp.band_keys:
            return
        if story_id in self._first:
            self._later.setdefault(story_id, []).append(fp)
        else:
            self._first[story_id] = fp
            self._signatures[story_id] = fp.signature
        self._see(story_id, seen_at)
        # Inlined rather than a helper per key: 64 keys per report make this the hot loop of
        # ingest (benchmarks/pipeline.py).
        bands = self._bands
        for key in fp.band_keys:
            held = bands.setdefault(key, story_id)
            if held == story_id:  # new key, or already this story's (a list never equals)
                continue
            if isinstance(held, list):
                if story_id not in held:
                    held.append(story_id)
            else:
                bands[key] = [held, story_id]

    def candidates(self, fp: Fingerprint) -> list[tuple[int, bytes]]:
        """(story id, signature) of every story sharing a band key with `fp`."""
        bands = self._bands
        # Most keys miss: intersect at C speed, then walk the few hits (in band order, so the
        # result does not depend on the hits' set order).
        hits = bands.keys() & fp.band_keys
        if not hits:
            return []
        found: set[int] = set()
        for key in hits if len(hits) == 1 else [k for k in fp.band_keys if k in hits]:
            held = bands[key]
            if isinstance(held, list):
                found.update(held)
            else:
                found.add(held)
        signatures = self._signatures
        pairs = [(sid, signatures[sid]) for sid in found]
        if self._later:
            later = self._later
            pairs += [(sid, f.signature) for sid in found for f in later.get(sid, ())]
        return pairs

    def touch(self, story_id: int, seen_at: float) -> None:
        """Record that a known story was seen again (it stays in the window longer)."""
        if story_id in self._seen:
            self._see(story_id, seen_at)

    def _see(self, story_id: int, seen_at: float) -> None:
        known = self._seen.get(story_id)
        if known is None or seen_at > known:
            self._seen[story_id] = seen_at
            heapq.heappush(self._expiry, (seen_at, story_id))

    def remove_older_than(self, cutoff: float) -> int:
        """Forget stories last seen before `cutoff` (the window's start); return how many."""
        old = []
        expiry, seen = self._expiry, self._seen
        while expiry and expiry[0][0] < cutoff:
            at, sid = heapq.heappop(expiry)
            if seen.get(sid) == at:  # else stale: the story was seen again later, or is gone
                del seen[sid]
                old.append(sid)
        for sid in old:
            for fp in [self._first.pop(sid), *self._later.pop(sid, [])]:
                for key in fp.band_keys:
                    self._unlink(key, sid)
            del self._signatures[sid]
        return len(old)

    def _unlink(self, key: int, story_id: int) -> None:
        held = self._bands.get(key)
        if held == story_id:
            del self._bands[key]
        elif isinstance(held, list) and story_id in held:
            held.remove(story_id)
            if len(held) == 1:
                self._bands[key] = held[0]
