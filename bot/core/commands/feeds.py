"""`feeds`: list and check the feeds (anyone); add, remove, enable and disable them (admins).

Admin changes are posted in the channel — everyone there should know which sources changed,
and who changed them — and written to the audit log, as are refused attempts. A feed added from
chat is fetched once first (bot.core.feed_probe): only a working feed at a public address
that is not already watched is accepted, and every later fetch of it stays guarded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.canonical import canonical_url
from bot.core.commands.admin import audit, require_admin
from bot.core.commands.model import Reply, ThemeCatalog
from bot.core.commands.registry import Context, UsageError
from bot.core.commands.text import ago, clip, span, when
from bot.core.feed_input import feed_interval, feed_url
from bot.core.feed_probe import ChatFeeds, FeedRefused, Probe
from bot.core.models import Feed, FeedStatus
from bot.core.records import FeedExistsError, NewFeed
from bot.core.repositories import Transaction

USAGE = "list | status | add <url> [name] [every 15m] | remove|enable|disable <id|url>"
NAME_MAX = 100  # characters of a feed name given in chat
READ_ONLY = frozenset({"list", "status"})
ONE_FEED = frozenset({"remove", "enable", "disable"})


@dataclass(frozen=True, slots=True)
class FeedsArgs:
    """`feeds <action> [target] [name] [every <interval>]`: target is a URL (add) or a feed id
    or URL; `interval` (seconds) only for add, None for NKRU_POLL_INTERVAL."""

    action: str
    target: str = ""
    name: str = ""
    interval: int | None = None


def parse_feeds(words: Sequence[str], _catalog: ThemeCatalog) -> FeedsArgs:
    """An action and what it needs; a bare `feeds` lists them."""
    if not words:
        return FeedsArgs("list")
    action, rest = words[0].casefold(), words[1:]
    if action in READ_ONLY:
        if rest:
            raise UsageError(f"feeds {action} takes nothing after it")
        return FeedsArgs(action)
    if action == "add":
        if not rest:
            raise UsageError("feeds add needs the feed's URL, e.g. feeds add https://… Yonhap")
        named, interval = _every(rest[1:])
        name = " ".join(named)
        if len(name) > NAME_MAX:
            raise UsageError(f"the feed name is too long: at most {NAME_MAX} characters")
        return FeedsArgs("add", rest[0], name, interval)
    if action in ONE_FEED:
        if len(rest) != 1:
            raise UsageError(f"feeds {action} needs one feed id or URL (see /nkru feeds list)")
        return FeedsArgs(action, rest[0])
    raise UsageError(f"unknown feeds action '{clip(action, 40)}'", hint=f"feeds {USAGE}")


def _every(words: Sequence[str]) -> tuple[Sequence[str], int | None]:
    """The name's words and the interval of a trailing `every <interval>`, if any."""
    if len(words) < 2 or words[-2].casefold() != "every":
        return words, None
    try:
        return words[:-2], feed_interval(words[-1])
    except ValueError as exc:
        raise UsageError(
            f"every: {exc}", hint="e.g. feeds add https://… Yonhap every 15m"
        ) from None


async def run_feeds(ctx: Context, args: FeedsArgs) -> Reply:
    """Run the action."""
    return await _RUNNERS[args.action](ctx, args)


async def _list(ctx: Context, _args: FeedsArgs) -> Reply:
    feeds = await _all(ctx)
    if not feeds:
        return Reply(
            "No feeds", lines=("Add one with: /nkru feeds add <url> [name]",), ephemeral=True
        )
    lines = tuple(_list_line(feed) for feed in feeds)
    return Reply(f"Feeds ({len(feeds)})", lines=lines, ephemeral=True)


def _list_line(feed: Feed) -> str:
    every = span(timedelta(seconds=feed.interval_seconds))
    return (
        f"#{feed.id} {feed.name} — {feed.url} (every {every}{'' if feed.enabled else ', disabled'})"
    )


async def _status(ctx: Context, _args: FeedsArgs) -> Reply:
    feeds = await _all(ctx)
    counts = {status: sum(f.status is status for f in feeds) for status in FeedStatus}
    title = "Feed status: " + ", ".join(f"{n} {status.value}" for status, n in counts.items())
    return Reply(title, lines=tuple(_status_line(ctx, feed) for feed in feeds), ephemeral=True)


def _status_line(ctx: Context, feed: Feed) -> str:
    state = feed.status.value
    if feed.status is FeedStatus.FAILING and feed.failing_since:
        state += f" since {when(feed.failing_since)}"
    polled = ago(feed.last_polled_at, ctx.now) if feed.last_polled_at else "never"
    line = f"#{feed.id} {feed.name}: {state} · last poll {polled} · {feed.item_count} items"
    if feed.status is FeedStatus.DISABLED:
        return f"{line} · {clip(feed.disabled_reason or feed.last_error or 'no reason recorded')}"
    if feed.last_error:  # the error of a failing feed, or an ok feed's parse warning
        label = "last error" if feed.status is FeedStatus.FAILING else "warning"
        return f"{line} · {label}: {clip(feed.last_error)}"
    return line


async def _add(ctx: Context, args: FeedsArgs) -> Reply:
    await require_admin(ctx, "feeds add", args.target)
    try:
        chat_feeds = ctx.service(ChatFeeds)
    except LookupError:
        return Reply(
            "Feeds cannot be added from chat here", lines=(_NO_SERVICE,), ephemeral=True, error=True
        )
    try:
        url = feed_url(args.target)
    except ValueError as exc:
        return await _refuse(ctx, args.target, str(exc))
    existing = await _same_url(ctx, url)
    if existing is not None:
        return await _refuse(ctx, url, f"already watched as {_named(existing)}")
    try:
        probe = await chat_feeds.probe(url)
    except FeedRefused as exc:
        return await _refuse(ctx, url, str(exc))
    name = args.name or clip(probe.title or "", NAME_MAX) or url
    interval = args.interval or chat_feeds.interval_seconds
    try:
        async with ctx.store.transaction() as tx:
            new = NewFeed(url, name, interval, origin="chat")
            feed = await tx.feeds.add(new, ctx.now)
    except FeedExistsError as exc:  # added by someone else while we were fetching
        return await _refuse(ctx, url, f"already watched as {_named(exc.existing)}")
    lines = _added_lines(probe, chat_feeds, interval)
    await audit(ctx, "feeds add", f"#{feed.id} {url}", f"{name}; {lines[0]}")
    return Reply(f"Added feed {_named(feed)} (by {_who(ctx)})", lines=lines)


_NO_SERVICE = "This process was started without the chat feed service; use `nkru feeds add`."


def _added_lines(probe: Probe, chat_feeds: ChatFeeds, interval: int) -> tuple[str, ...]:
    """What the check fetch found and what the first poll will do with it."""
    items = f"{probe.items} item{'' if probe.items == 1 else 's'}"
    if probe.items == 0:
        first = "It has no items yet: alerts start with the first ones it publishes."
    elif chat_feeds.flood_guard:
        first = (
            f"It has {items} now; the flood guard holds them back: the first poll stores them"
            " without alerting, and alerts start with items published after that."
        )
    else:
        first = (
            f"It has {items} now, and the flood guard is off (NKRU_FLOOD_GUARD=false): the first"
            " poll alerts on those that match the watchlist and are recent enough."
        )
    every = span(timedelta(seconds=interval))
    lines = [first, f"Polled every {every}; the first poll comes within about a minute."]
    if probe.final_url != probe.url:
        lines.append(f"It redirects to {probe.final_url}.")
    if probe.problem:
        lines.append(f"Warning: {clip(probe.problem)} (its items could still be read).")
    return tuple(lines)


async def _remove(ctx: Context, args: FeedsArgs) -> Reply:
    await require_admin(ctx, "feeds remove", args.target)
    async with ctx.store.transaction() as tx:
        feed = await _find(tx, args.target)
        await tx.feeds.remove(feed.id)
    await audit(ctx, "feeds remove", f"#{feed.id} {feed.url}", f"removed {feed.name}")
    return Reply(
        f"Removed feed {_named(feed)} (by {_who(ctx)})",
        lines=("Its stored articles stay searchable.",),
    )


async def _enable(ctx: Context, args: FeedsArgs) -> Reply:
    return await _switch(ctx, args, enabled=True)


async def _disable(ctx: Context, args: FeedsArgs) -> Reply:
    return await _switch(ctx, args, enabled=False)


async def _switch(ctx: Context, args: FeedsArgs, *, enabled: bool) -> Reply:
    action = "feeds enable" if enabled else "feeds disable"
    done = "enabled" if enabled else "disabled"
    await require_admin(ctx, action, args.target)
    async with ctx.store.transaction() as tx:
        feed = await _find(tx, args.target)
        if feed.enabled == enabled:
            return Reply(f"Feed {_named(feed)} is already {done}", ephemeral=True)
        await tx.feeds.set_enabled(feed.id, enabled, ctx.now)
    await audit(ctx, action, f"#{feed.id} {feed.url}", f"{done} {feed.name}")
    after = (
        "Its failure state is cleared; it is polled again within about a minute."
        if enabled
        else f"It is no longer polled; turn it back on with /nkru feeds enable {feed.id}"
    )
    return Reply(f"{done.capitalize()} feed {_named(feed)} (by {_who(ctx)})", lines=(after,))


async def _refuse(ctx: Context, target: str, why: str) -> Reply:
    """Audit a refused `feeds add` and tell the caller why, privately."""
    await audit(ctx, "feeds add", target, why, outcome="refused")
    return Reply("Feed not added", lines=(why,), ephemeral=True, error=True)


async def _all(ctx: Context) -> list[Feed]:
    async with ctx.store.transaction() as tx:
        return await tx.feeds.list_all()


async def _same_url(ctx: Context, url: str) -> Feed | None:
    """The stored feed whose canonical URL is `url` (seeded URLs may not be canonical)."""
    return next((f for f in await _all(ctx) if (canonical_url(f.url) or f.url) == url), None)


async def _find(tx: Transaction, key: str) -> Feed:
    """A feed by id ("12" or "#12") or URL, or a UsageError pointing at the list."""
    digits = key.removeprefix("#")
    if digits.isdigit():
        found = await tx.feeds.get(int(digits))
    else:
        wanted = canonical_url(key) or key
        feeds = await tx.feeds.list_all()
        found = next((f for f in feeds if (canonical_url(f.url) or f.url) == wanted), None)
    if found is None:
        raise UsageError(f"no feed '{clip(key, 80)}'", hint="/nkru feeds list shows ids and URLs")
    return found


def _named(feed: Feed) -> str:
    """`#12 Yonhap (https://…)`."""
    return f"#{feed.id} {feed.name} ({feed.url})"


def _who(ctx: Context) -> str:
    caller = ctx.invocation.caller
    return caller.user_name or caller.user_id


_RUNNERS: dict[str, Callable[[Context, FeedsArgs], Awaitable[Reply]]] = {
    "list": _list,
    "status": _status,
    "add": _add,
    "remove": _remove,
    "enable": _enable,
    "disable": _disable,
}
