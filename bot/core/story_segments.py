"""One immutable slice of the story index: compact signatures and a bucketed table of band hashes.

A segment holds rows (one report each: its compact signature and its story id) and, for every
row and band, one entry: the band's 32-bit hash and the row. Entries are sorted by hash and
cut into 2**bits buckets by the hash's top bits; `buckets` holds, per bucket, where it starts
and a 32-bit mark of the hashes it holds (bit i set when one of its hashes has i in the five
bits below the bucket's). Finding the rows of a hash reads its bucket's start and mark, and
its entries (about 8) only when the mark has the hash's bit: a hash no report has (two
lookups in three for a new article) costs one memory read, a hash some report has two,
whatever the segment's size, where a binary search of a million stories' entries took
twenty-six.

Why the mark: at a million stories the entries take 256 MB and the bucket table 64 MB, and
a random read of memory costs with the size of what it reads in: on a 2-core Intel VM, about
50 ns in 64 MB and 150-300 ns in 256 MB or more (the translation of a page address misses
its caches), so skipping the entries read is most of a lookup's cost. For the same reason
`screen` keeps the low byte of each row's first `SCREEN` signature positions, 32 bytes a row
in an array of their own: ranking the reports met through a band reads those, not the rows'
signatures (384 bytes a row, 384 MB at a million).

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

from bot.core.big_arrays import copied, joined, zeroed
from bot.core.minhash import NUM_PERM, U16, U32, U64

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

_ENTRIES_PER_BUCKET = 8
SCREEN = 32  # signature positions kept (their low byte) to rank candidates, see the docstring
_MARK_BITS = 5  # a 32-bit mark per bucket: one bit per value of 5 bits of the hash
_SLICE = 1 << 20  # entries per numpy call where a call holds the GIL (`_packed`, `unpacked`)
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
    screen: U8  # (rows, SCREEN): the low byte of each row's first SCREEN positions
    stories: I64  # (rows,)
    entries: U32  # hash's low (32 - bits) bits << bits | row, sorted
    # (2**bits + 1,): where each bucket's entries start (low 32 bits) and its mark (high 32).
    # One uint64 a bucket, not a row of two uint32: numpy gathers 1-D elements several times
    # faster than 2-D rows (about 40 against 270 ns a random read of a 64 MB table here).
    buckets: U64
    bits: int

    @property
    def rows(self) -> int:
        """How many reports this segment holds."""
        return len(self.stories)

    @property
    def nbytes(self) -> int:
        """Bytes of array data held."""
        arrays = (self.sigs, self.screen, self.stories, self.entries, self.buckets)
        return sum(a.nbytes for a in arrays)

    @classmethod
    def build(cls, sigs: U16, stories: I64, hashes: U32, key_cap: int) -> Segment:
        """A segment of new rows: their compact signatures, story ids and band hashes."""
        return cls.of_codes(sigs, stories, sorted_codes(hashes), key_cap)

    @classmethod
    def of_codes(cls, sigs: U16, stories: I64, codes: U64, key_cap: int) -> Segment:
        """A segment of rows and their band entries as `sorted_codes` gives them."""
        return cls._packed(np.ascontiguousarray(sigs), copied(stories), _cap(codes, key_cap))

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
            joined(sigs, np.empty((0, NUM_PERM), dtype=np.uint16)),
            joined(stories, np.empty(0, dtype=np.int64)),
            _cap(merged, key_cap),
        )

    @classmethod
    def _packed(cls, sigs: U16, stories: I64, codes: U64) -> Segment:
        """The segment of `codes` (hash << 32 | row, sorted) packed into buckets."""
        rows_bits = max(len(stories) - 1, 1).bit_length()
        bits = min(32, max(rows_bits, (len(codes) // _ENTRIES_PER_BUCKET).bit_length()))
        hashes = codes >> _32
        tops = (hashes >> np.uint64(32 - bits)).astype(np.intp)
        marks = np.zeros(1 << bits, dtype=np.uint32)
        bit = np.uint32(1) << _mark(hashes.astype(np.uint32), bits)
        counts = np.zeros(1 << bits, dtype=np.int64)
        # A slice of entries per call: bincount and ufunc.at hold the GIL through a call, and
        # merges run in a worker thread beside the event loop (module docstring).
        for at in range(0, len(tops), _SLICE):
            some = tops[at : at + _SLICE]
            first = int(some[0])  # sorted: the slice's buckets follow each other
            counts[first : int(some[-1]) + 1] += np.bincount(some - first)
            np.bitwise_or.at(marks, some, bit[at : at + _SLICE])
        buckets = zeroed((1 << bits) + 1, np.uint64)
        np.cumsum(counts, out=buckets[1:].view(np.int64))
        buckets[:-1] |= marks.astype(np.uint64) << _32
        low = hashes & np.uint64((1 << (32 - bits)) - 1)
        entries = copied((low << np.uint64(bits)) | (codes & _LOW), np.uint32)
        screen = copied(sigs[:, :SCREEN], np.uint8)
        return cls(sigs, screen, stories, entries, buckets, bits)

    def unpacked(self) -> tuple[U32, I64]:
        """(hash, row) of every entry, in order."""
        bits = np.uint64(self.bits)
        starts = (self.buckets & _LOW).astype(np.intp)
        tops = np.empty(len(self.entries), dtype=np.uint64)
        # np.repeat holds the GIL through a call (110 ms for 25M entries): a slice of buckets
        # at a time, as in `_packed`.
        step = _SLICE // _ENTRIES_PER_BUCKET
        for first in range(0, len(starts) - 1, step):
            ends = starts[first : first + step + 1]
            numbers = np.arange(first, first + len(ends) - 1, dtype=np.uint64)
            tops[ends[0] : ends[-1]] = np.repeat(numbers, np.diff(ends))
        entries = self.entries.astype(np.uint64)
        hashes = (tops << (_32 - bits)) | (entries >> bits)
        rows = (entries & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64)
        return hashes.astype(np.uint32), rows

    def find(self, needles: U32) -> tuple[I64, I64]:
        """(needle number, row) of every entry holding a needle's band hash."""
        bits = self.bits
        top = (needles >> np.uint32(32 - bits)).astype(np.intp)
        bucket = self.buckets[top]
        # Only the needles whose bit the bucket's mark has can be in it: the others are
        # not read further (most of a new article's bands, see the module docstring).
        marked = (bucket >> (_mark(needles, bits).astype(np.uint64) + _32)) & np.uint64(1)
        maybe = np.flatnonzero(marked)
        start = (bucket[maybe] & _LOW).astype(np.intp)
        sizes = (self.buckets[top[maybe] + 1] & _LOW).astype(np.intp) - start
        total = int(sizes.sum())
        if not total:
            nothing = np.empty(0, dtype=np.int64)
            return nothing, nothing
        wanted = needles[maybe].astype(np.uint64)
        # Every entry of every needle's bucket, flattened: needle i owns sizes[i] of them.
        owner = np.repeat(np.arange(len(maybe)), sizes)
        first = np.cumsum(sizes) - sizes
        at = np.arange(total) + np.repeat(start - first, sizes)
        entries = self.entries[at].astype(np.uint64)
        low = wanted & np.uint64((1 << (32 - bits)) - 1)
        same = (entries >> np.uint64(bits)) == low[owner]
        rows = entries[same] & np.uint64((1 << bits) - 1)
        return maybe[owner[same]].astype(np.int64), rows.astype(np.int64)


def _mark(hashes: U32, bits: int) -> U32:
    """Which bit of its bucket's mark stands for each hash: the five bits below the bucket's
    (the lowest five when fewer are left)."""
    shift = np.uint32(max(32 - bits - _MARK_BITS, 0))
    return (hashes >> shift) & np.uint32((1 << _MARK_BITS) - 1)
