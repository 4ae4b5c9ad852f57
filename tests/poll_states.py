"""Poll outcomes for tests that write feed states."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.models import FeedStatus, PollState


def ok_poll(at: datetime, **changes: Any) -> PollState:
    """A successful poll at `at`, due again an hour later; `changes` replace any field."""
    state = PollState(
        last_polled_at=at,
        next_poll_at=at + timedelta(hours=1),
        status=FeedStatus.OK,
        consecutive_failures=0,
        last_error=None,
        failing_since=None,
    )
    return replace(state, **changes)
