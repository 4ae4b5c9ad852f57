"""A feed added from chat is fetched once, guarded, before it is accepted.

The check uses the real fetcher (guarded: public addresses only, on every redirect) and the
real parser, so what is refused here would also fail when polled, with the same one-line
reason: an HTTP status, "not RSS/Atom/JSON Feed", a body over the size limit, an address that
is not public. Nothing is stored: the normal poll stores the items (flood guard included).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.models import FetchOutcome, FetchRequest

if TYPE_CHECKING:
    # The command service imports this module, and every `nkru` command imports the command
    # service: the fetcher (aiohttp, ~100 ms) and the parser (feedparser) load only in the
    # process that probes, where the fetcher was built and handed in.
    from bot.core.poll.fetch import FeedFetcher


class FeedRefused(Exception):
    """The URL cannot be added from chat; the message is one line saying why."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What the check fetch found."""

    url: str
    final_url: str  # where redirects ended
    title: str | None
    items: int
    problem: str | None = None  # a malformed feed whose items could still be read


@dataclass(frozen=True, slots=True)
class ChatFeeds:
    """What `/nkru feeds add` needs: the fetcher for the check and the polling defaults."""

    fetcher: FeedFetcher
    interval_seconds: int  # NKRU_POLL_INTERVAL
    flood_guard: bool  # NKRU_FLOOD_GUARD: the first poll stores without alerting

    async def probe(self, url: str) -> Probe:
        """Fetch and parse `url` once, as a chat-added feed; FeedRefused if it is not a feed."""
        result = await self.fetcher.fetch(FetchRequest(url), guarded=True)
        if result.outcome is not FetchOutcome.FETCHED or result.body is None:
            # No validators were sent, so only a failure gets here (never a 304).
            raise FeedRefused(result.error or f"no feed came back from {url}")
        from bot.core.poll.parse import parse_feed  # see the note on the imports above

        final_url = result.final_url or url
        parsed = await asyncio.to_thread(  # feedparser is CPU work: off the event loop
            parse_feed,
            result.body,
            url=final_url,
            content_type=result.content_type,
            fetched_at=datetime.now(UTC),
        )
        if parsed.fatal:
            raise FeedRefused(f"{parsed.problem or 'not a feed'} ({final_url})")
        return Probe(url, final_url, parsed.title, len(parsed.entries), parsed.problem)
