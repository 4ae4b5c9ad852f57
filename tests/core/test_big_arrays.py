"""big_arrays: large arrays in memory advised for huge pages, behaving as numpy's own."""

from __future__ import annotations

import mmap
import sys

import numpy as np
import pytest

from bot.core.big_arrays import HUGE_MIN_BYTES, copied, joined, zeroed
from tests.memory_maps import mapping_of, touched_heap


def test_arrays_are_zeroed_writable_and_shaped_whatever_their_size() -> None:
    for rows in (10, HUGE_MIN_BYTES // 8 + 1):
        array = zeroed((rows, 2), np.uint32)
        assert array.shape == (rows, 2) and array.dtype == np.uint32
        assert not array.any()
        array[-1] = 5
        assert int(array.sum()) == 10


def test_copies_cast_as_astype_and_joins_concatenate() -> None:
    rng = np.random.default_rng(1)
    wide = rng.integers(0, 1 << 16, size=(HUGE_MIN_BYTES // 32 + 3, 32), dtype=np.uint16)
    assert np.array_equal(copied(wide[:, :8], np.uint8), wide[:, :8].astype(np.uint8))
    assert np.array_equal(copied(wide), wide)
    parts = [wide[:5], wide[5:], wide[:1]]
    assert np.array_equal(joined(parts, np.empty((0, 32), np.uint16)), np.concatenate(parts))
    nothing = np.empty((0, 32), np.uint16)
    assert joined([], nothing) is nothing


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_HUGEPAGE"),
    reason="huge-page advice is a Linux madvise",
)
def test_a_large_array_lives_in_memory_of_its_own_advised_for_huge_pages() -> None:
    # 'hg' is the kernel's mark of a mapping advised MADV_HUGEPAGE: whether the pages are
    # huge then depends on the kernel's setting and free memory, the advice does not. Memory
    # reused from the heap was touched before, on 4 KiB pages, whatever its advice.
    touched_heap()
    for large in (
        zeroed(HUGE_MIN_BYTES // 4, np.uint32),
        copied(np.ones(HUGE_MIN_BYTES, np.uint8)),
    ):
        name, flags = mapping_of(large.ctypes.data + large.nbytes // 2)
        assert name != "[heap]" and "hg" in flags
