"""What the kernel says of this process's memory mappings (Linux /proc/self/smaps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def mapping_of(address: int) -> tuple[str, list[str]]:
    """(name, kernel flags) of the mapping that holds `address`: name '' for anonymous memory
    mapped on its own, '[heap]' for the allocator's heap; flag 'hg' for memory advised huge
    pages."""
    name, inside = "", False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and not fields[0].endswith(":"):
            low, high = (int(part, 16) for part in fields[0].split("-"))
            inside = low <= address < high
            name = fields[5] if len(fields) > 5 else ""
        elif inside and fields[0] == "VmFlags:":
            return name, fields[1:]
    raise AssertionError(f"no mapping holds {address:#x}")


def touched_heap(megabytes: int = 200) -> None:
    """Leave the allocator's heap with this much free memory already touched, as a long-running
    process has: glibc raises its threshold for mapping large blocks on their own after one is
    freed (up to 32 MiB), so the next blocks under it come from the heap, and stay there once
    freed."""
    mapped_alone = np.ones(30 << 20, dtype=np.uint8)
    del mapped_alone  # freed: the threshold is now 30 MiB
    blocks = [np.ones(25 << 20, dtype=np.uint8) for _ in range(megabytes // 25)]
    del blocks
