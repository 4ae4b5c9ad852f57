"""Large numpy arrays in memory the kernel may back with 2 MiB pages (transparent huge pages).

Why: the story index reads its large arrays at random addresses, one or a few reads per band
of each new article. With 4 KiB pages every such read in a 64 MB table also misses the CPU's
address-translation cache, and in a virtual machine a miss walks two page tables: on a 2-core
AMD EPYC VM, reading an article's 64 buckets of the 64 MB bucket table at a million stories
took 16.4 µs on 4 KiB pages and 9.1 µs on 2 MiB pages (README, "Speed"). numpy advises huge
pages for the large arrays it allocates, but in a process that has run a while the allocator
serves them from its heap, from memory freed by earlier arrays and already backed by 4 KiB
pages, which the advice does not change (seen: the index's bucket table, its screen and its
story ids at a million stories).

`zeroed` maps fresh anonymous memory (zero-filled by the kernel) and advises huge pages on it;
the memory goes back to the system when the array and every view of it are gone. Where the
platform has no `MADV_HUGEPAGE` (not Linux) or the kernel's setting is `never`, the advice
does nothing and the arrays work as any other.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Below 4 MiB (numpy's own threshold for the advice) a mapping of its own buys nothing: the
# array spans one or two huge pages at most.
HUGE_MIN_BYTES = 1 << 22


def zeroed(shape: int | tuple[int, ...], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """A zero-filled array, in memory advised for huge pages when it is large."""
    kind = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * kind.itemsize
    if size < HUGE_MIN_BYTES:
        return np.zeros(shape, dtype=kind)
    # Private: a shared anonymous mapping is shared memory, whose huge pages the kernel
    # governs by another setting (often `never`).
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        memory.madvise(advice)
    return np.frombuffer(memory, dtype=kind).reshape(shape)


def copied(array: npt.NDArray[Any], dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]:
    """A C-contiguous copy of `array` (cast to `dtype` as `astype` casts), in memory advised for
    huge pages when it is large."""
    out = zeroed(array.shape, array.dtype if dtype is None else dtype)
    np.copyto(out, array, casting="unsafe")
    return out


def joined(arrays: Sequence[npt.NDArray[Any]], empty: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """`np.concatenate(arrays)` in memory advised for huge pages when large; `empty` (with the
    rows' shape and dtype) when there are none."""
    if not arrays:
        return empty
    rows = sum(len(array) for array in arrays)
    out = zeroed((rows, *arrays[0].shape[1:]), arrays[0].dtype)
    return np.concatenate(arrays, out=out)
