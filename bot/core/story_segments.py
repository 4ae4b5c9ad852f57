"""One immutable slice of the story index: compact signatures and a sorted array of band keys.

A segment holds rows (one report each: its compact signature and its story id) and, for every
row and band, one uint64 entry `band hash << 32 | row`, sorted. Looking a band hash up is a
binary search; the rows sharing it are the entries that follow. Segments are built once
(from new rows, or by merging older segments) and never change, so a merge can run in a
worker thread while the event loop goes on.

Entries per band hash are capped at `key_cap`, keeping the newest rows: a band that many
stories share (a template, a boilerplate sentence) then costs a few comparisons, not one per
story that ever used it. Rows are numbered oldest first, so the newest are the last entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.core.minhash import NUM_PERM, U16, U32, U64

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def _cap(codes: U64, key_cap: int) -> U64:
    """Keep the last `key_cap` entries of each band hash in sorted `codes` (the newest rows)."""
    if len(codes) <= key_cap:
        return codes
    hashes = codes >> _SHIFT
    keep = np.ones(len(codes), dtype=np.bool_)
    # An entry is dropped when key_cap later entries still share its hash.
    keep[:-key_cap] = hashes[:-key_cap] != hashes[key_cap:]
    return codes if keep.all() else codes[keep]


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """Rows (compact signature, story id) and their band entries, sorted."""

    sigs: U16  # (rows, NUM_PERM)
    stories: I64  # (rows,)
    codes: U64  # (entries,): band hash << 32 | row, ascending

    @property
    def rows(self) -> int:
        """How many reports this segment holds."""
        return len(self.stories)

    @property
    def nbytes(self) -> int:
        """Bytes of array data held."""
        return self.sigs.nbytes + self.stories.nbytes + self.codes.nbytes

    @classmethod
    def build(cls, sigs: U16, stories: I64, hashes: U32, key_cap: int) -> Segment:
        """A segment of new rows: their compact signatures, story ids and band hashes."""
        rows = np.arange(len(stories), dtype=np.uint64)
        codes = (hashes.astype(np.uint64) << _SHIFT) | rows[:, None]
        flat = codes.ravel()
        flat.sort()
        return cls(np.ascontiguousarray(sigs), stories.copy(), _cap(flat, key_cap))

    @classmethod
    def merge(cls, parts: Sequence[Segment], keep: Sequence[Mask], key_cap: int) -> Segment:
        """One segment of the rows of `parts` (oldest first) that `keep` marks, renumbered."""
        sigs, stories, codes = [], [], []
        offset = 0
        for part, kept in zip(parts, keep, strict=True):
            renumber = np.cumsum(kept, dtype=np.int64) - 1 + offset
            rows = (part.codes & _LOW).astype(np.int64)
            live = kept[rows]
            codes.append((part.codes[live] & ~_LOW) | renumber[rows[live]].astype(np.uint64))
            sigs.append(part.sigs[kept])
            stories.append(part.stories[kept])
            offset += int(np.count_nonzero(kept))
        merged = np.concatenate(codes) if codes else np.empty(0, dtype=np.uint64)
        # Each part is sorted and the parts' rows ascend: a stable sort merges the runs.
        merged.sort(kind="stable")
        return cls(
            np.concatenate(sigs) if sigs else np.empty((0, NUM_PERM), dtype=np.uint16),
            np.concatenate(stories) if stories else np.empty(0, dtype=np.int64),
            _cap(merged, key_cap),
        )

    def find(self, needles: U64, key_cap: int) -> tuple[I64, I64]:
        """(needle number, row) of every entry whose band hash a needle holds; `needles` are
        band hashes shifted into the high 32 bits, ascending."""
        codes = self.codes
        if not len(codes) or not len(needles):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        found_needles, found_rows = [], []
        number = np.arange(len(needles), dtype=np.int64)
        at = np.searchsorted(codes, needles)
        for _ in range(key_cap):  # a hash has at most key_cap entries, in a row
            inside = at < len(codes)
            number, at = number[inside], at[inside]
            code = codes[at]
            same = (code >> _SHIFT) == (needles[number] >> _SHIFT)
            if not same.any():
                break
            number, at, code = number[same], at[same], code[same]
            found_needles.append(number)
            found_rows.append((code & _LOW).astype(np.int64))
            at = at + 1
        if not found_needles:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(found_needles), np.concatenate(found_rows)
