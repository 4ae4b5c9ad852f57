"""The stories of the window for the story index: ids, last seen, reports kept; numpy arrays.

Parallel arrays sorted by story id (ids only grow in the usual case: new stories are
appended), about 21 bytes a story. A story that leaves the window is marked gone; its reports
stay in the index's segments until the next full merge drops them, so its id is also kept in
`dead`, a small sorted array: checking a found report against it costs a search of the few
stories gone since that merge, not of the million in the window.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bot.core.story_segments import I64, Mask

F64 = npt.NDArray[np.float64]


def among(values: I64, probes: I64) -> Mask:
    """Which probes are in `values` (sorted)."""
    at = np.searchsorted(values, probes)
    found = at < len(values)
    found[found] = values[at[found]] == probes[found]
    return found


class StoryTable:
    """Id, last seen, reports kept and gone-ness of each story the index knows."""

    def __init__(self) -> None:
        self._ids: I64 = np.empty(0, dtype=np.int64)  # ascending
        self._seen: F64 = np.empty(0, dtype=np.float64)
        self._reports = np.empty(0, dtype=np.int32)  # reports kept in the index
        self._gone: Mask = np.empty(0, dtype=np.bool_)  # left the window
        self._dead: I64 = np.empty(0, dtype=np.int64)  # gone, reports still indexed; sorted
        self._count = 0  # stories in the arrays, gone ones included
        self._live = 0
        self._oldest = float("inf")  # no live story was seen before this
        self.dead_rows = 0  # reports of gone stories still in the index

    def __len__(self) -> int:
        return self._live

    @property
    def nbytes(self) -> int:
        """Bytes of array data held."""
        arrays = (self._ids, self._seen, self._reports, self._gone, self._dead)
        return sum(array.nbytes for array in arrays)

    def admit(self, ids: I64, seen: F64, cap: int) -> Mask:
        """Record reports of these stories (new ones added, last seen kept the latest); which
        of them to index: each story's first `cap`."""
        at = self._place(ids, seen)
        order = np.argsort(at, kind="stable")
        ranked = at[order]
        first = np.r_[True, ranked[1:] != ranked[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(len(at)), 0))
        admitted = np.empty(len(at), dtype=np.bool_)
        admitted[order] = self._reports[ranked] + (np.arange(len(at)) - start) < cap
        np.add.at(self._reports, at[admitted], 1)
        return admitted

    def _place(self, ids: I64, seen: F64) -> I64:
        """Positions of `ids` in the arrays, new stories added; last seen updated."""
        ordered = np.sort(ids)
        unique = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
        at = self._positions(unique)
        new = unique[at < 0]
        if len(new):
            self._insert(new)
            at = self._positions(unique)
        revived = self._gone[at]
        if revived.any():  # a story that left the window is reported again
            self._gone[at[revived]] = False
            self.dead_rows -= int(self._reports[at[revived]].sum())
            self._dead = self._dead[~among(unique[revived], self._dead)]
        self._live += len(new) + int(np.count_nonzero(revived))
        rows_at = at[np.searchsorted(unique, ids)]
        np.maximum.at(self._seen, rows_at, seen)
        self._oldest = min(self._oldest, float(seen.min()))
        return rows_at

    def _positions(self, ids: I64) -> I64:
        """Position of each id (ascending) in the arrays, -1 when absent."""
        known = self._ids[: self._count]
        at = np.searchsorted(known, ids)
        found = at < len(known)
        found[found] = known[at[found]] == ids[found]
        return np.where(found, at, -1)

    def _insert(self, new: I64) -> None:
        count, size = self._count, len(self._ids)
        if count + len(new) > size:
            grown = max(2 * size, count + len(new), 1024)
            self._ids = np.resize(self._ids, grown)
            self._seen = np.resize(self._seen, grown)
            self._reports = np.resize(self._reports, grown)
            self._gone = np.resize(self._gone, grown)
        end = count + len(new)
        if count == 0 or new[0] > self._ids[count - 1]:  # the usual case: ids only grow
            where = np.arange(count, end)
        else:
            where = np.searchsorted(self._ids[:count], new) + np.arange(len(new))
            moved = np.ones(end, dtype=np.bool_)
            moved[where] = False
            for column in (self._ids, self._seen, self._reports, self._gone):
                column[:end][moved] = column[:count].copy()
        self._ids[where] = new
        self._seen[where] = -np.inf
        self._reports[where] = 0
        self._gone[where] = False
        self._count = end

    def touch(self, story_id: int, seen_at: float) -> None:
        """Record that a known story was seen again (it stays in the window longer)."""
        [at] = self._positions(np.array([story_id], dtype=np.int64))
        if at >= 0 and not self._gone[at]:
            self._seen[at] = max(self._seen[at], seen_at)

    def expire(self, cutoff: float) -> int:
        """Mark gone the stories last seen before `cutoff`; return how many."""
        if cutoff <= self._oldest:
            return 0
        seen, gone = self._seen[: self._count], self._gone[: self._count]
        expired = (seen < cutoff) & ~gone
        removed = int(np.count_nonzero(expired))
        gone |= expired
        if removed:
            self._dead = np.sort(np.concatenate([self._dead, self._ids[: self._count][expired]]))
        self._live -= removed
        self.dead_rows += int(self._reports[: self._count][expired].sum())
        self._oldest = float(seen[~gone].min()) if self._live else float("inf")
        return removed

    def alive(self, stories: I64) -> Mask:
        """Whether each story (of a report in the index) is still in the window."""
        return ~among(self._dead, stories)

    def compact(self) -> None:
        """Forget gone stories: once a full merge has dropped every report of theirs."""
        kept = ~self._gone[: self._count]
        for name in ("_ids", "_seen", "_reports", "_gone"):
            setattr(self, name, getattr(self, name)[: self._count][kept].copy())
        self._count = len(self._ids)
        self.dead_rows = 0
        self._dead = np.empty(0, dtype=np.int64)
