"""Layer-(b) dedup: recognise one story reported by several outlets (MinHash + LSH).

Pure code, no I/O. The database keeps, per story, the `Fingerprint.signature` blob (the truth);
`StoryIndex` maps the signatures' LSH bands to the stories of the window in memory,
kept in step with the database by `bot.core.story_cache`. For each new article the pipeline
calls `fingerprint`, asks the index for the stories that share at least one band key, and
lets `best_match` pick one or none: the cost per article does not grow with the window.

The parts: `bot.core.headline_features` (which words of a title and summary count),
`bot.core.minhash` (signatures, band keys, comparing them), `bot.core.story_index` (the
window's index). This module is their public face.

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

Cost. Candidates are the true matches plus a share of the rest (the low end of the
S-curve): 5% of same-topic and 0.05% of cross-topic stories on the labelled set, 0.07% of
benchmarks/pipeline.py's synthetic stories and 0.6% of benchmarks/clustering.py's, whose
unrelated pairs overlap more (mean J 0.035). That share of a million-story window is hundreds
to thousands of stories, so `StoryIndex` bounds the work per article instead (at most 16
reports compared, ranked by their first signature positions; see bot.core.story_index):
the cost per article stays flat as the window grows, and a cap can part a true copy from its
story only in a huge window of alike headlines (measured in README, "Speed").
"""

from __future__ import annotations

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
from bot.core.story_index import StoryIndex

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
