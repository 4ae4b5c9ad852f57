"""Segment: finding a band hash returns exactly the entries that hold it, marks or no marks."""

from __future__ import annotations

import mmap
import sys

import numpy as np
import pytest

from bot.core import story_segments
from bot.core.big_arrays import HUGE_MIN_BYTES
from bot.core.minhash import NUM_PERM
from bot.core.story_segments import Segment
from tests.memory_maps import mapping_of, touched_heap

KEY_CAP = 4


def _segment(rows: int, bands: int, seed: int) -> tuple[Segment, np.ndarray]:
    """A segment of `rows` rows with random band hashes (a few shared by many rows, as a
    template's band is), and those hashes."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**32, size=(rows, bands), dtype=np.uint64).astype(np.uint32)
    hashes[rng.random(rows) < 0.05, 0] = 12345  # one hash many rows share (in one band)
    sigs = rng.integers(0, 2**16, size=(rows, NUM_PERM), dtype=np.uint64).astype(np.uint16)
    stories = np.arange(1, rows + 1, dtype=np.int64)
    return Segment.build(sigs, stories, hashes, KEY_CAP), hashes


def _expected(hashes: np.ndarray, needles: np.ndarray) -> set[tuple[int, int]]:
    """(needle number, row) of every row holding a needle's hash, the newest KEY_CAP of each."""
    rows_of: dict[int, list[int]] = {}
    for row, band_hashes in enumerate(hashes.tolist()):
        for value in band_hashes:
            rows_of.setdefault(value, []).append(row)
    return {
        (number, row)
        for number, needle in enumerate(needles.tolist())
        for row in rows_of.get(needle, [])[-KEY_CAP:]
    }


@pytest.fixture(autouse=True)
def _small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of 1,000 entries, so that building and unpacking take several (as a million
    stories' segment does with the real size)."""
    monkeypatch.setattr(story_segments, "_SLICE", 1_000)


@pytest.mark.parametrize(("rows", "bands"), [(1, 4), (300, 64), (3_000, 64)])
def test_find_returns_exactly_the_entries_holding_each_needle(rows: int, bands: int) -> None:
    segment, hashes = _segment(rows, bands, seed=rows)
    rng = np.random.default_rng(7)
    present = hashes.ravel()[rng.integers(0, hashes.size, 500)]
    absent = rng.integers(0, 2**32, 2_000, dtype=np.uint64).astype(np.uint32)
    needles = np.concatenate([present, absent, np.array([12345], dtype=np.uint32)])

    numbers, found_rows = segment.find(needles)

    found = set(zip(numbers.tolist(), found_rows.tolist(), strict=True))
    assert len(found) == len(numbers)  # each entry once
    assert found == _expected(hashes, needles)


def test_unpacked_gives_back_every_kept_entry_in_hash_order() -> None:
    segment, hashes = _segment(3_000, 64, seed=3)

    unpacked_hashes, unpacked_rows = segment.unpacked()

    pairs = list(zip(unpacked_hashes.tolist(), unpacked_rows.tolist(), strict=True))
    assert pairs == sorted(pairs)
    assert set(pairs) == _kept(hashes)


def _kept(hashes: np.ndarray) -> set[tuple[int, int]]:
    """(hash, row) of the entries a segment keeps: the newest KEY_CAP rows of each hash."""
    rows_of: dict[int, list[int]] = {}
    for row, band_hashes in enumerate(hashes.tolist()):
        for value in band_hashes:
            rows_of.setdefault(value, []).append(row)
    return {(value, row) for value, rows in rows_of.items() for row in rows[-KEY_CAP:]}


def test_a_merge_finds_what_its_parts_found() -> None:
    first, first_hashes = _segment(1_500, 64, seed=11)
    second, second_hashes = _segment(2_000, 64, seed=12)
    every = [np.ones(part.rows, dtype=np.bool_) for part in (first, second)]

    merged = Segment.merge([first, second], every, KEY_CAP)

    hashes = np.concatenate([first_hashes, second_hashes])
    needles = hashes.ravel()[np.random.default_rng(5).integers(0, hashes.size, 800)]
    numbers, rows = merged.find(needles)
    assert set(zip(numbers.tolist(), rows.tolist(), strict=True)) == _expected(hashes, needles)
    assert np.array_equal(merged.screen, merged.sigs[:, :32].astype(np.uint8))


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_HUGEPAGE"),
    reason="huge-page advice is a Linux madvise",
)
def test_a_large_segments_tables_are_in_memory_of_their_own_advised_for_huge_pages() -> None:
    # In a process that has run a while, numpy's arrays come from the heap's reused memory,
    # already on 4 KiB pages whatever numpy advises: every random read of the bucket table
    # then missed the address-translation cache (README, "Speed").
    touched_heap()
    segment, _ = _segment(rows=40_000, bands=64, seed=5)
    for table in (segment.buckets, segment.entries):
        assert table.nbytes >= HUGE_MIN_BYTES
        name, flags = mapping_of(table.ctypes.data + table.nbytes // 2)
        assert name != "[heap]" and "hg" in flags
