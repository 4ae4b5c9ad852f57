"""Feed health after a poll: ok, failing since when (with backoff), or disabled with a reason."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.models import Feed, FeedStatus, FetchOutcome, FetchResult, PollState
from bot.core.polling_policy import (
    failure_backoff,
    next_interval,
    retry_after_delay,
    should_disable,
)

# A poll that starts within this many seconds of its due time counts as on time.
_ON_TIME = 60.0


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Timing rules for polling, taken from the settings."""

    min_interval: float = 60.0
    max_interval: float = 6 * 3600.0
    backoff_base: float = 60.0
    backoff_cap: float = 6 * 3600.0
    disable_after: float = 7 * 86400.0
    flood_guard: bool = True
    # Up to this many seconds are added to each next poll, so feeds added together drift apart
    # instead of all falling due in the same second every interval.
    jitter: float = 0.0


def succeeded(
    feed: Feed,
    result: FetchResult,
    now: datetime,
    policy: PollPolicy,
    *,
    ttl_minutes: int | None = None,
    problem: str | None = None,
    new_items: int = 0,
) -> PollState:
    """State after a poll that reached the feed (200, 304 or unchanged body).

    `problem` is what parsing this body found. A 304 or an unchanged body is not parsed: the
    feed's last parse problem still holds and stays shown until a body parses cleanly.
    """
    interval = next_interval(
        feed.interval_seconds,
        max_age=result.max_age,
        ttl_minutes=ttl_minutes,
        minimum=policy.min_interval,
        maximum=policy.max_interval,
    )
    spread = random.uniform(0.0, policy.jitter) if policy.jitter > 0 else 0.0
    return PollState(
        last_polled_at=now,
        next_poll_at=_cadence_start(feed, now, interval) + timedelta(seconds=interval + spread),
        status=FeedStatus.OK,
        consecutive_failures=0,
        last_error=problem if result.outcome is FetchOutcome.FETCHED else _kept_problem(feed),
        failing_since=None,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=result.body_hash,
        last_success_at=now,
        first_fetch_done=True,
        new_items=new_items,
    )


def _cadence_start(feed: Feed, now: datetime, interval: float) -> datetime:
    """Where the next interval starts: when this poll was due, if it ran on time.

    Counted from the poll's end instead, every interval would grow by the time a poll waits
    and takes, and a feed would be polled a little less often than asked (0.983 of its polls
    at a 10 s interval). A poll that ran late (after downtime or a backlog), or early (forced
    by `nkru poll --once`), counts from now: a late feed does not catch up in a burst. So
    does a feed's first poll: the cadence starts there, not when the feed was added.
    """
    due = feed.next_poll_at
    if due is None or not feed.first_fetch_done:
        return now
    late = (now - due).total_seconds()
    return due if 0.0 <= late <= min(interval / 4, _ON_TIME) else now


def _kept_problem(feed: Feed) -> str | None:
    """The parse problem of the body last read, when a poll did not read a new one. Only an ok
    feed's last_error is one: a failing feed's is the failure, which this poll ends."""
    return feed.last_error if feed.status is FeedStatus.OK else None


def failed(
    feed: Feed,
    error: str,
    now: datetime,
    policy: PollPolicy,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> PollState:
    """State after a failed poll: back off with jitter, disable after `disable_after`."""
    failures = feed.consecutive_failures + 1
    since = feed.failing_since or now
    backoff = failure_backoff(failures, base=policy.backoff_base, cap=policy.backoff_cap, rng=rng)
    delay = retry_after_delay(retry_after, backoff, policy.backoff_cap)
    disabled = should_disable(since, now, timedelta(seconds=policy.disable_after))
    reason = None
    if disabled:
        reason = (
            f"failing since {since:%Y-%m-%d %H:%M} UTC ({failures} attempts): {error} "
            "— fix the feed, then `nkru feeds enable {feed.id}`"
        ).replace("{feed.id}", str(feed.id))
    return PollState(
        last_polled_at=now,
        next_poll_at=now + timedelta(seconds=delay),
        status=FeedStatus.DISABLED if disabled else FeedStatus.FAILING,
        consecutive_failures=failures,
        last_error=error,
        failing_since=since,
        disabled_reason=reason,
    )
