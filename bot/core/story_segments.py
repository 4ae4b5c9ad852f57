"""One immutable slice of the story index: compact signatures and a bucketed table of band hashes.

A segment holds rows (one report each: its compact signature and its story id) and, for every
row and band, one entry: the band's 32-bit hash and the row. Entries are sorted by hash and
cut into 2**bits buckets by the hash's top bits; `buckets` holds where each bucket starts.
Finding the rows of a hash reads its bucket (about 8 entries): two memory reads, whatever the
segment's size, where a binary search of a million stories' entries took twenty-six.

An entry is one uint32: the hash's low 32 - bits bits (its top bits are the bucket) above the
row's `bits` bits. With about 8 entries per bucket, bits is log2(rows) + 3, so a row always
fits: 4 bytes per entry, 256 per report.

Entries per band hash are capped at `key_cap`, keeping the newest rows: a band that many
stories share (a template, a boilerplate sentence) then costs a few comparisons, not one per
story that ever used it. Rows are numbered oldest first. Segments are built once (from new
rows, or by merging older ones) and never change, so a merge can run in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.core.minhash import NUM_PERM, U16, U32, U64

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_ENTRIES_PER_BUCKET = 8
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)


def _cap(codes: U64, key_cap: int) -> U64:
    """Keep the last `key_cap` entries of each hash in sorted `codes` (hash << 32 | row)."""
    if len(codes) <= key_cap:
        return codes
    hashes = codes >> _32
    keep = np.ones(len(codes), dtype=np.bool_)
    # An entry is dropped when key_cap later entries still share its hash: the older rows go.
    keep[:-key_cap] = hashes[:-key_cap] != hashes[key_cap:]
    return codes if keep.all() else codes[keep]


def sorted_codes(hashes: U32) -> U64:
    """`hash << 32 | row` for the band hashes of rows numbered from 0 (the rows of `hashes`),
    sorted: what a segment is built from. Sorted runs of codes, rows renumbered to follow
    each other, merge with a stable sort (a cold start's pages: one run each)."""
    rows = np.arange(len(hashes), dtype=np.uint64)
    codes = ((hashes.astype(np.uint64) << _32) | rows[:, None]).ravel()
    codes.sort()
    return codes


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """Rows (compact signature, story id) and their band entries, bucketed by hash."""

    sigs: U16  # (rows, NUM_PERM)
    stories: I64  # (rows,)
    entries: U32  # hash's low (32 - bits) bits << bits | row, sorted
    buckets: U32  # (2**bits + 1,): where each bucket of entries starts
    bits: int

    @property
    def rows(self) -> int:
        """How many reports this segment holds."""
        return len(self.stories)

    @property
    def nbytes(self) -> int:
        """Bytes of array data held."""
        return sum(a.nbytes for a in (self.sigs, self.stories, self.entries, self.buckets))

    @classmethod
    def build(cls, sigs: U16, stories: I64, hashes: U32, key_cap: int) -> Segment:
        """A segment of new rows: their compact signatures, story ids and band hashes."""
        return cls.of_codes(sigs, stories, sorted_codes(hashes), key_cap)

    @classmethod
    def of_codes(cls, sigs: U16, stories: I64, codes: U64, key_cap: int) -> Segment:
        """A segment of rows and their band entries as `sorted_codes` gives them."""
        return cls._packed(np.ascontiguousarray(sigs), stories.copy(), _cap(codes, key_cap))

    @classmethod
    def merge(cls, parts: Sequence[Segment], keep: Sequence[Mask], key_cap: int) -> Segment:
        """One segment of the rows of `parts` (oldest first) that `keep` marks, renumbered."""
        sigs, stories, codes = [], [], []
        offset = 0
        for part, kept in zip(parts, keep, strict=True):
            renumber = (np.cumsum(kept, dtype=np.int64) - 1 + offset).astype(np.uint64)
            hashes, rows = part.unpacked()
            live = kept[rows]
            codes.append((hashes[live].astype(np.uint64) << _32) | renumber[rows[live]])
            sigs.append(part.sigs[kept])
            stories.append(part.stories[kept])
            offset += int(np.count_nonzero(kept))
        merged = np.concatenate(codes) if codes else np.empty(0, dtype=np.uint64)
        # Each part is sorted and the parts' rows ascend: a stable sort merges the runs.
        merged.sort(kind="stable")
        return cls._packed(
            np.concatenate(sigs) if sigs else np.empty((0, NUM_PERM), dtype=np.uint16),
            np.concatenate(stories) if stories else np.empty(0, dtype=np.int64),
            _cap(merged, key_cap),
        )

    @classmethod
    def _packed(cls, sigs: U16, stories: I64, codes: U64) -> Segment:
        """The segment of `codes` (hash << 32 | row, sorted) packed into buckets."""
        rows_bits = max(len(stories) - 1, 1).bit_length()
        bits = min(32, max(rows_bits, (len(codes) // _ENTRIES_PER_BUCKET).bit_length()))
        hashes = codes >> _32
        shift = np.uint64(32 - bits)
        counts = np.bincount((hashes >> shift).astype(np.intp), minlength=1 << bits)
        buckets = np.zeros((1 << bits) + 1, dtype=np.uint32)
        np.cumsum(counts, out=buckets[1:])
        low = hashes & np.uint64((1 << (32 - bits)) - 1)
        entries = ((low << np.uint64(bits)) | (codes & _LOW)).astype(np.uint32)
        return cls(sigs, stories, entries, buckets, bits)

    def unpacked(self) -> tuple[U32, I64]:
        """(hash, row) of every entry, in order."""
        bits = np.uint64(self.bits)
        counts = np.diff(self.buckets).astype(np.intp)
        tops = np.repeat(np.arange(len(counts), dtype=np.uint64), counts)
        entries = self.entries.astype(np.uint64)
        hashes = (tops << (_32 - bits)) | (entries >> bits)
        rows = (entries & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64)
        return hashes.astype(np.uint32), rows

    def find(self, needles: U32) -> tuple[I64, I64]:
        """(needle number, row) of every entry holding a needle's band hash."""
        bits = self.bits
        wanted = needles.astype(np.uint64)
        top = (wanted >> np.uint64(32 - bits)).astype(np.intp)
        start = self.buckets[top].astype(np.intp)
        sizes = self.buckets[top + 1].astype(np.intp) - start
        total = int(sizes.sum())
        if not total:
            nothing = np.empty(0, dtype=np.int64)
            return nothing, nothing
        # Every entry of every needle's bucket, flattened: needle i owns sizes[i] of them.
        owner = np.repeat(np.arange(len(needles)), sizes)
        first = np.cumsum(sizes) - sizes
        at = np.arange(total) + np.repeat(start - first, sizes)
        entries = self.entries[at].astype(np.uint64)
        low = wanted & np.uint64((1 << (32 - bits)) - 1)
        same = (entries >> np.uint64(bits)) == low[owner]
        rows = entries[same] & np.uint64((1 << bits) - 1)
        return owner[same].astype(np.int64), rows.astype(np.int64)
