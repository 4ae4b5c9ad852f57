"""`status`: feed health, last poll, outbox backlog and the deliveries that gave up.

Dead deliveries are where a channel's "not_in_channel" or "Missing Access" shows up for the
people who can fix it, so they are listed per destination with the last error.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.commands.args import NoArgs
from bot.core.commands.model import Reply
from bot.core.commands.registry import Context
from bot.core.commands.text import ago, clip, when
from bot.core.models import FeedStatus
from bot.core.records import PENDING, DeadDeliveries, FeedTrouble

TROUBLE_SHOWN = 5  # failing/disabled feeds named; the rest are counted
DEAD_SHOWN = 5  # destinations with dead deliveries named
DEAD_WINDOW = timedelta(days=7)  # older give-ups were probably fixed since


async def run_status(ctx: Context, _args: NoArgs) -> Reply:
    """One screen: feeds, polling, outbox, dead deliveries, and what is muted here."""
    async with ctx.store.reading() as tx:
        counts = await tx.feeds.count_by_status()
        trouble = await tx.reports.troubled_feeds(TROUBLE_SHOWN)
        polled = await tx.reports.last_polled_at()
        backlog = (await tx.outbox.count_by_status()).get(PENDING, 0)
        dead = await tx.reports.dead_deliveries(ctx.now - DEAD_WINDOW)
        muted = await tx.mutes.active(ctx.invocation.destination, ctx.now)
    lines = [
        *_feed_lines(counts, trouble),
        f"Last poll: {ago(polled, ctx.now) if polled else 'none yet'}",
        f"Outbox: {backlog} alert{'' if backlog == 1 else 's'} waiting to be sent",
        *_dead_lines(dead),
        *_mute_lines(muted),
    ]
    return Reply("Status", lines=tuple(lines), ephemeral=True)


def _feed_lines(counts: dict[str, int], trouble: list[FeedTrouble]) -> list[str]:
    states = (FeedStatus.OK, FeedStatus.FAILING, FeedStatus.DISABLED)
    lines = ["Feeds: " + ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in states)]
    for feed in trouble:
        since = f" since {when(feed.since)}" if feed.since and feed.status == "failing" else ""
        reason = clip(feed.reason) if feed.reason else "no error recorded"
        lines.append(f"• {feed.name} is {feed.status}{since}: {reason}")
    unnamed = counts.get("failing", 0) + counts.get("disabled", 0) - len(trouble)
    if unnamed > 0:
        lines.append(f"• …and {unnamed} more (nkru feeds status lists them all)")
    return lines


def _dead_lines(dead: list[DeadDeliveries]) -> list[str]:
    if not dead:
        return [f"Deliveries given up in the last {DEAD_WINDOW.days} days: none"]
    lines = [f"Deliveries given up in the last {DEAD_WINDOW.days} days:"]
    for entry in dead[:DEAD_SHOWN]:
        error = clip(entry.last_error) if entry.last_error else "no error recorded"
        plural = "" if entry.count == 1 else "s"
        lines.append(f"• {entry.destination}: {entry.count} alert{plural}, last error: {error}")
    if len(dead) > DEAD_SHOWN:
        lines.append(f"• …and {len(dead) - DEAD_SHOWN} more destinations")
    return lines


def _mute_lines(muted: dict[str, datetime]) -> list[str]:
    if not muted:
        return []
    shown = ", ".join(f"{theme} until {when(until)}" for theme, until in sorted(muted.items()))
    return [f"Muted here: {shown}"]
