"""Crontab lines (digest schedules), checked the same way for settings and chat."""

from __future__ import annotations

from datetime import UTC, datetime


def check_cron(line: str) -> str:
    """The line, stripped, if APScheduler accepts it as a UTC crontab; ValueError says why."""
    # Imported here: commands that never schedule anything do not pay for importing APScheduler.
    from apscheduler.triggers.cron import CronTrigger

    line = " ".join(line.split())
    try:
        CronTrigger.from_crontab(line, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{line!r} is not a crontab line ({exc}): e.g. '0 8 * * *'") from None
    return line


def fires_in_minute(line: str, moment: datetime) -> bool:
    """Whether the UTC crontab `line` fires in the minute of `moment` (whole minutes only)."""
    from apscheduler.triggers.cron import CronTrigger

    minute = moment.astimezone(UTC).replace(second=0, microsecond=0)
    trigger = CronTrigger.from_crontab(line, timezone="UTC")
    return bool(trigger.get_next_fire_time(None, minute) == minute)
