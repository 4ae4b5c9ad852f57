"""Which time an item is shown by, and which time windows use (README: "Dates").

An item's time is its publication time as its feed gives it, when that is plausible, else the
time the bot first saw it. Plausible: a date the parser could read (from 1990 on, at most a day
ahead: bot.core.canonical.to_utc), and never later than first seen; a date ahead of first seen
(a feed's wrong clock or zone) is taken as first seen. An old date is kept: a newly added
feed's backlog is shown as old, not as news.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Where publication and first seen are further apart than this, lines show both.
SEEN_APART = timedelta(hours=6)


def publication_time(published: datetime | None, first_seen: datetime) -> datetime:
    """The time an item is shown by: its publication time, never later than first seen."""
    return first_seen if published is None else min(published, first_seen)


def seen_if_apart(published: datetime, first_seen: datetime | None) -> datetime | None:
    """`first_seen` where it is far enough from publication to be worth showing, else None."""
    if first_seen is None or first_seen - published <= SEEN_APART:
        return None
    return first_seen


def digest_floor(since: datetime, now: datetime) -> datetime:
    """The oldest publication a digest of [since, now] takes, among reports first seen in it.

    One period before it: a report seen late (its feed polled late) was in no earlier digest,
    while a backlog older than that (a feed just added) is not news.
    """
    return since - (now - since)
