"""When to poll a feed next: pure functions, no I/O, no clock reads (time is passed in).

The scheduler combines them roughly like this:

* success: ``next_interval(feed.interval_seconds, max_age=..., ttl_minutes=..., ...)``
* failure: ``failure_backoff(consecutive_failures, base=interval, cap=...)``
* 429/503: ``retry_after_delay(result.retry_after, fallback=<the backoff>, cap=...)``
* and ``should_disable(feed.failing_since, now, disable_after)`` to give up on a dead feed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# One shared generator: creating a Random per call would re-seed from os.urandom every time.
_RNG = random.Random()

# 2**64 times any sane base already overflows every cap; bounding the exponent avoids
# OverflowError after thousands of failures.
_MAX_EXPONENT = 64


def failure_backoff(
    consecutive_failures: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after `consecutive_failures` failures: jittered exponential, ≤ cap.

    Uses "equal jitter": the ceiling doubles with each failure (base, 2·base, 4·base, … up to
    cap) and the delay is drawn uniformly from [ceiling/2, ceiling].  The random half spreads
    retries of feeds that failed together (one host going down) so they do not come back in a
    burst; the fixed half guarantees the delay never drops below base/2, so a failing feed is
    never polled much more often than a healthy one.  A count below 1 is treated as 1.
    """
    if base <= 0:
        raise ValueError(f"base must be positive, got {base}")
    if cap < base:
        raise ValueError(f"cap ({cap}) must be at least base ({base})")
    exponent = min(max(consecutive_failures, 1) - 1, _MAX_EXPONENT)
    ceiling = min(cap, base * 2.0**exponent)
    return (rng or _RNG).uniform(ceiling / 2, ceiling)


def next_interval(
    configured: float,
    *,
    max_age: float | None,
    ttl_minutes: int | None,
    minimum: float,
    maximum: float,
) -> float:
    """Seconds until the next poll after a success, honouring the server's caching hints.

    Cache-Control max-age and RSS <ttl> say how long the content stays fresh.  A server asking
    for a longer interval than configured is honoured (politeness), but only up to `maximum`
    so a feed with ``<ttl>10080</ttl>`` is not silenced for a week.  A shorter hint is
    ignored: freshness is not an invitation to poll more often than configured.  Whatever
    happens, the result stays within [minimum, maximum].
    """
    if minimum > maximum:
        raise ValueError(f"minimum ({minimum}) must not exceed maximum ({maximum})")
    hints = [h for h in (max_age, ttl_minutes * 60 if ttl_minutes else None) if h]
    interval = max([configured, *hints])
    return min(maximum, max(minimum, interval))


def retry_after_delay(retry_after: float | None, fallback: float, cap: float) -> float:
    """Seconds to wait after a 429/503: at least what the server asked and our fallback, ≤ cap.

    RFC 9110 makes Retry-After the minimum a client ought to wait, so it is never shortened;
    it never shortens our own back-off (`fallback`) either, which guards against servers that
    answer "Retry-After: 0" to every request.  `cap` bounds absurd values (days) so the feed
    is retried eventually.
    """
    wanted = max(fallback, retry_after if retry_after is not None else 0.0)
    return max(0.0, min(cap, wanted))


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """True when a feed has been failing without a success for at least `disable_after`.

    Both datetimes must be timezone-aware (the storage layer keeps UTC).
    """
    return failing_since is not None and now - failing_since >= disable_after
