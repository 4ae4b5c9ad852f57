"""Durations as people write them: 90, "90s", "15m", "2h", "3d", "1w" (settings, feed lists and
chat commands all accept the same spellings)."""

from __future__ import annotations

import re
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Turn 90, "90s", "15m", "2h", "3d" into seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration: write e.g. 90s, 15m, 2h or 3d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
