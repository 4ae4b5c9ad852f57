"""Quiet hours: when a window is on, when it ends, across midnight and time zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.quiet_hours import QuietHours


def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_window_across_midnight_ends_next_morning() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet.ends_at(at(23, 30)) == at(7, 0, day=23)
    assert quiet.ends_at(at(3, 0)) == at(7, 0)
    assert quiet.ends_at(at(22, 0)) == at(7, 0, day=23)


def test_outside_the_window_is_not_quiet() -> None:
    quiet = QuietHours.parse("22:00-07:00")
    assert quiet.ends_at(at(7, 0)) is None
    assert quiet.ends_at(at(12, 0)) is None
    assert quiet.ends_at(at(21, 59)) is None


def test_daytime_window() -> None:
    quiet = QuietHours.parse("12:00-13:30")
    assert quiet.ends_at(at(12, 15)) == at(13, 30)
    assert quiet.ends_at(at(13, 30)) is None
    assert quiet.ends_at(at(11, 59)) is None


def test_time_zone_is_respected() -> None:
    # 22:00–07:00 in Seoul (UTC+9) is 13:00–22:00 UTC.
    quiet = QuietHours.parse("22:00-07:00", "Asia/Seoul")
    assert quiet.ends_at(at(12, 59)) is None
    assert quiet.ends_at(at(14, 0)) == at(22, 0)
    assert quiet.ends_at(at(14, 0)).tzinfo == UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("window", "zone", "message"),
    [
        ("10pm-7am", "UTC", "not a time window"),
        ("25:00-07:00", "UTC", "hours run 00–23"),
        ("07:00-07:00", "UTC", "is empty"),
        ("22:00-07:00", "Mars/Olympus", "not a time zone"),
    ],
)
def test_bad_windows_say_what_is_wrong(window: str, zone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QuietHours.parse(window, zone)
