"""Quiet hours: a daily window in a time zone during which a route's instant alerts wait.

Alerts are held, not dropped: an alert due during quiet hours is delivered when they end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end` local time every day; `end` before `start` spans midnight."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, window: str, zone: str = "UTC") -> QuietHours:
        """`"22:00-07:00"` in a IANA time zone; ValueError says what is wrong."""
        match = _WINDOW.match(window)
        if not match:
            raise ValueError(f"{window!r} is not a time window: write e.g. 22:00-07:00")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"{window!r}: hours run 00–23 and minutes 00–59")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"{window!r} is empty: start and end must differ")
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{zone!r} is not a time zone: use e.g. UTC or Europe/Berlin"
            ) from None
        return cls(time(h1, m1), time(h2, m2), tz)

    def ends_at(self, now: datetime) -> datetime | None:
        """When the quiet window that `now` falls in ends, or None if `now` is not quiet."""
        local = now.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet = self.start <= clock < self.end
            end_day = local.date()
        else:  # spans midnight: quiet late in the evening or early in the morning
            quiet = clock >= self.start or clock < self.end
            end_day = local.date() + timedelta(days=0 if clock < self.end else 1)
        if not quiet:
            return None
        return datetime.combine(end_day, self.end, tzinfo=self.zone).astimezone(now.tzinfo)
