"""The LSH index of the stories in the window, in compact numpy arrays (see bot.core.cluster).

Per report in the window it keeps a compact signature (384 bytes), its story id (8) and one
4-byte entry per band (256, bot.core.story_segments): about 0.7 KiB, against 7-10 KiB as
Python objects. Stories (id, last seen, reports indexed, gone) sit in parallel arrays sorted
by id (bot.core.story_table).

Work per lookup is bounded whatever the window holds:
- a story keeps at most `MEMBER_CAP` reports to compare with (its first ones): 4,000 copies
  of one headline cost 4,000 x 16 comparisons, not 8 million;
- a band hash leads to its newest `KEY_CAP` rows per segment, so a band that a template
  gives thousands of stories costs a few comparisons;
- a report met through a band is screened first: the low bytes of its first `SCREEN`
  signature positions (a small array of their own: see bot.core.story_segments) against the
  article's. Fewer than `SCREEN_GATE` equal and nothing else of it is read: most reports met
  in a large window share a band by chance;
- at most `CANDIDATE_CAP` reports are compared in full with each new article. When more
  share a band with it (the low end of the LSH S-curve, whose number grows with the window:
  0.07% to 0.6% of it on the benchmarks' headlines), they are ranked by their screen, then
  bands shared, then age. On the harsher
  benchmark at 100,000 stories this keeps 96% of true copies with their story (97% without
  any cap) where ranking by bands shared alone kept 87%;
- there are at most three segments (a base, a middle and a head of recent rows), and finding
  a band in one reads one bucket, whatever its size.
The caps can part a true copy from its story when the window is huge and its headlines alike:
benchmarks/clustering.py measures how often (README, "Speed").

New rows go into the head, merged on every add (at most `HEAD_ROWS`). When the head is full
it becomes a segment of its own, and `maintain` (due when there are more than three
segments) merges the newer segments into the middle one, and the middle into the base once it
reaches an eighth of it, dropping the reports of stories that left the window. Merges cost
the size of what they merge: `StoryCache` runs `maintain` in a worker thread (numpy releases
the GIL), so the event loop never waits for one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.core.big_arrays import joined
from bot.core.minhash import (
    BANDS,
    NUM_PERM,
    U16,
    U32,
    U64,
    Fingerprint,
    band_hashes,
    compact,
    indexable,
    signature_matrix,
)
from bot.core.story_segments import I64, SCREEN, U8, Segment, sorted_codes
from bot.core.story_table import StoryTable

MEMBER_CAP = 16
KEY_CAP = 4
CANDIDATE_CAP = 16
# Equal low bytes among the SCREEN first positions a report needs to be compared in full. A
# report at the clustering threshold (J = 0.25) has 8 on average and 2 or fewer 7 times in
# 1,000 (binomial); one that shares a band by chance (J near 0.05) has 1-2.
SCREEN_GATE = 3
HEAD_ROWS = 512
_SEGMENTS = 3
# A found report is coded item << 44 | segment << 32 | row: 2**20 items per lookup at most,
# and 2**12 segments (a cold start appends one per page of rows before its one merge).
_ITEM = np.uint64(44)
_MAX_ITEMS = 1 << 20
_MAX_SEGMENTS = 1 << 12
_BANDS_CAP = 127  # bands shared, as ranked by `_screened` (7 bits; a report has BANDS = 64)


class StoryIndex:
    """Band hash -> reports of the stories in the window, with their compact signatures."""

    def __init__(self, *, auto_maintain: bool = True) -> None:
        """`auto_maintain=False`: the owner calls `maintain` when `maintenance_due` (off the
        event loop); else `add_many` does, in the caller's thread."""
        self._auto = auto_maintain
        self._segments: list[Segment] = []
        # Big batches of rows (pages of a cold start), each sorted, not indexed yet: merged
        # into one segment by `maintain` (or by the next lookup), packed once.
        self._pending: list[tuple[U16, I64, U64]] = []
        self._stories = StoryTable()
        self.examined = 0  # signatures compared so far (for tests and benchmarks)

    def __len__(self) -> int:
        return len(self._stories)

    @property
    def nbytes(self) -> int:
        """Bytes of array data held (what the index costs, about all of it)."""
        pending = sum(array.nbytes for batch in self._pending for array in batch)
        segments = sum(segment.nbytes for segment in self._segments)
        return self._stories.nbytes + pending + segments

    # ------------------------------------------------------------------ adding

    def add(self, story_id: int, fp: Fingerprint, seen_at: float = 0.0) -> None:
        """Index `fp` under `story_id`; adding to a known story also keeps the new report."""
        if fp.band_keys:
            self.add_many([story_id], [fp.signature], [seen_at])

    def add_many(
        self, story_ids: Sequence[int], signatures: Sequence[bytes], seen_at: Sequence[float]
    ) -> None:
        """`add` for many reports at once (stored signatures; ones that cannot cluster skipped)."""
        keep = [i for i, signature in enumerate(signatures) if indexable(signature)]
        if not keep:
            return
        ids = np.array([story_ids[i] for i in keep], dtype=np.int64)
        seen = np.array([seen_at[i] for i in keep], dtype=np.float64)
        sigs = signature_matrix([signatures[i] for i in keep])
        accepted = self._stories.admit(ids, seen, MEMBER_CAP)
        rows = sigs[accepted]
        if len(rows) >= HEAD_ROWS:  # a page of a cold start: merged once, with the others
            self._pending.append((compact(rows), ids[accepted], sorted_codes(band_hashes(rows))))
        elif len(rows):
            self._append(Segment.build(compact(rows), ids[accepted], band_hashes(rows), KEY_CAP))
        if self._auto and self.maintenance_due():
            self.maintain()

    def _append(self, segment: Segment) -> None:
        segments = self._segments
        if segments and segments[-1].rows + segment.rows <= HEAD_ROWS:
            every = [np.ones(s.rows, dtype=np.bool_) for s in (segments[-1], segment)]
            segments[-1] = Segment.merge([segments[-1], segment], every, KEY_CAP)
        else:
            segments.append(segment)
        if len(segments) == _MAX_SEGMENTS:  # nobody ran maintain for millions of rows
            self._segments = [self._merged(segments)]

    # ------------------------------------------------------------------ upkeep

    def maintenance_due(self) -> bool:
        """Whether `maintain` has merges to do (more than three segments, or many dead rows)."""
        rows = sum(segment.rows for segment in self._segments)
        return (
            bool(self._pending)
            or len(self._segments) > _SEGMENTS
            or self._stories.dead_rows > max(rows // 8, HEAD_ROWS)
        )

    def maintain(self) -> None:
        """Merge segments back to three at most, dropping the reports of gone stories.

        Costs the size of what it merges (all of the index when the base is rebuilt, a few
        seconds at a million stories): run it where a wait does no harm.
        """
        self._settle()
        segments = self._segments
        rows = sum(segment.rows for segment in segments)
        if self._stories.dead_rows > max(rows // 8, HEAD_ROWS) or (
            len(segments) > 1 and sum(s.rows for s in segments[1:]) * 8 >= segments[0].rows
        ):
            self._segments = [self._merged(segments)]
            self._stories.compact()
        elif len(segments) > _SEGMENTS:
            self._segments = [segments[0], self._merged(segments[1:])]

    def _settle(self) -> None:
        """Index the pending rows: one segment, sorted at once."""
        if self._pending:
            pending, self._pending = self._pending, []
            sigs = joined([batch[0] for batch in pending], np.empty((0, NUM_PERM), np.uint16))
            stories = np.concatenate([batch[1] for batch in pending])
            starts = np.cumsum([0] + [len(batch[1]) for batch in pending[:-1]], dtype=np.uint64)
            codes = np.concatenate(
                [batch[2] + start for batch, start in zip(pending, starts, strict=True)]
            )
            del pending  # the pages are freed before the sort: less memory at the peak
            codes.sort(kind="stable")  # merges the pages' sorted runs
            self._segments.append(Segment.of_codes(sigs, stories, codes, KEY_CAP))

    def _merged(self, parts: list[Segment]) -> Segment:
        keep = [self._stories.alive(part.stories) for part in parts]
        merged = Segment.merge(parts, keep, KEY_CAP)
        self._stories.dead_rows -= sum(part.rows for part in parts) - merged.rows
        return merged

    # ------------------------------------------------------------------ the window

    def touch(self, story_id: int, seen_at: float) -> None:
        """Record that a known story was seen again (it stays in the window longer)."""
        self._stories.touch(story_id, seen_at)

    def remove_older_than(self, cutoff: float) -> int:
        """Forget stories last seen before `cutoff` (the window's start); return how many."""
        return self._stories.expire(cutoff)

    # ------------------------------------------------------------------ lookups

    def _found(self, hashes: U32, mine: U16) -> tuple[I64, I64, I64, I64]:
        """(item, segment, row, story) of the live reports to compare with each item (the rows
        of `hashes` and of `mine`, its compact signature): those sharing a band with it, each
        once, that pass the screen (`SCREEN_GATE`), at most CANDIDATE_CAP per item."""
        needles = np.ascontiguousarray(hashes).ravel()
        parts = []
        for number, segment in enumerate(self._segments):
            hit, rows = segment.find(needles)
            owners = (hit // BANDS).astype(np.uint64)
            parts.append((owners << _ITEM) | np.uint64(number << 32) | rows.astype(np.uint64))
        codes = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)
        nothing = np.empty(0, dtype=np.int64)
        if not len(codes):
            return nothing, nothing, nothing, nothing
        # Equal codes are one report met through several bands: keep it once, count the bands.
        edges = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
        unique, shared = codes[edges[:-1]], np.diff(edges)
        items = (unique >> _ITEM).astype(np.int64)
        segments = ((unique >> np.uint64(32)) & np.uint64(_MAX_SEGMENTS - 1)).astype(np.int64)
        rows = (unique & np.uint64(0xFFFFFFFF)).astype(np.int64)
        # The screen before anything else of a report is read (module docstring).
        screen = self._equal(mine[:, :SCREEN].astype(np.uint8), items, segments, rows, screen=True)
        passed = np.flatnonzero(screen >= SCREEN_GATE)
        items, segments, rows = items[passed], segments[passed], rows[passed]
        if not len(items):
            return nothing, nothing, nothing, nothing
        stories = np.empty(len(items), dtype=np.int64)
        for number, segment in enumerate(self._segments):
            here = segments == number
            stories[here] = segment.stories[rows[here]]
        live = np.flatnonzero(self._stories.alive(stories))
        items, segments, rows, stories = items[live], segments[live], rows[live], stories[live]
        if len(items) and np.bincount(items).max() > CANDIDATE_CAP:
            kept = _ranked(items, screen[passed][live], shared[passed][live])
            items, segments, rows, stories = items[kept], segments[kept], rows[kept], stories[kept]
        return items, segments, rows, stories

    def _equal(
        self, mine: U16 | U8, items: I64, segments: I64, rows: I64, *, screen: bool = False
    ) -> I64:
        """Equal positions of each found report with its item's row of `mine`: its compact
        signature, or with `screen` the low bytes of its first SCREEN positions, compared with
        the segments' small `screen` arrays (a close estimate: two positions that differ have
        equal low bytes 1 time in 256)."""
        equal = np.empty(len(items), dtype=np.int64)
        for number, segment in enumerate(self._segments):
            here = np.flatnonzero(segments == number)
            if len(here):
                # np.take, not fancy indexing, and a sum, not count_nonzero: two to three times
                # faster gathers of rows, and a faster count (README, "Speed").
                theirs = np.take(segment.screen if screen else segment.sigs, rows[here], axis=0)
                equal[here] = (theirs == np.take(mine, items[here], axis=0)).sum(axis=1)
        return equal

    def candidates(self, fp: Fingerprint) -> list[tuple[int, bytes]]:
        """(story id, compact signature) of each report sharing a band key with `fp` (the
        CANDIDATE_CAP sharing the most bands when more do), oldest first."""
        self._settle()
        if not fp.band_keys or not self._segments:
            return []
        sigs = signature_matrix([fp.signature])
        _, segments, rows, stories = self._found(band_hashes(sigs), compact(sigs))
        self.examined += len(rows)
        return [
            (story, self._segments[number].sigs[row].tobytes())
            for number, row, story in zip(
                segments.tolist(), rows.tolist(), stories.tolist(), strict=True
            )
        ]

    def best_matches(self, prints: Sequence[Fingerprint]) -> list[tuple[int, int]]:
        """`best_many` for fingerprints; (0, -1) for one that cannot cluster."""
        keyed = [i for i, fp in enumerate(prints) if fp.band_keys]
        best = [(0, -1)] * len(prints)
        if keyed:
            sigs = signature_matrix([prints[i].signature for i in keyed])
            for i, found in zip(keyed, self.best_many(sigs), strict=True):
                best[i] = found
        return best

    def best_many(self, sigs: U32) -> list[tuple[int, int]]:
        """For each signature (row of `sigs`): (story id, equal positions) of its most similar
        report in the index, ties to the smallest story id; (0, -1) when nothing shares a band.
        """
        self._settle()
        best = [(0, -1)] * len(sigs)
        if not len(sigs) or not self._segments:
            return best
        if len(sigs) > _MAX_ITEMS:
            return [
                found
                for at in range(0, len(sigs), _MAX_ITEMS)
                for found in self.best_many(sigs[at : at + _MAX_ITEMS])
            ]
        mine = compact(sigs)
        items, segments, rows, stories = self._found(band_hashes(sigs), mine)
        if not len(items):
            return best
        equal = self._equal(mine, items, segments, rows)
        self.examined += len(items)
        # Per item the highest count first, then the smallest story id: keep the first.
        order = np.lexsort((stories, -equal, items))
        first = np.r_[True, items[order][1:] != items[order][:-1]]
        for item, story, score in zip(
            items[order][first].tolist(),
            stories[order][first].tolist(),
            equal[order][first].tolist(),
            strict=True,
        ):
            best[item] = (story, score)
        return best


def _ranked(items: I64, screen: I64, shared: I64) -> I64:
    """Which found reports (ascending by item, segment, row) to compare in full,
    CANDIDATE_CAP per item at most: those with the most equal positions in the screen, then
    sharing the most bands, then the newest."""
    # One stable sort of one key (item, fewest unequal, most bands): the arrays ascend by
    # (item, segment, row), so taken backwards the newest come first among equal keys.
    back = np.arange(len(items) - 1, -1, -1)
    bands = np.minimum(shared[back], _BANDS_CAP)
    key = (items[back] << 13) | ((SCREEN - screen[back]) << 7) | (_BANDS_CAP - bands)
    order = back[np.argsort(key, kind="stable")]
    ranked = items[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(ranked)), 0))
    return np.sort(order[np.arange(len(ranked)) - start < CANDIDATE_CAP])
