"""`subscribe`, `unsubscribe` and `subscriptions`: a channel's routes, set from the channel.

Admins only (checked here, not by the platform). Each change is stored as a new version of the
channel's subscription, audited, and posted in the channel (everyone there should know why
alerts started or stopped, and who did it); `subscriptions undo` restores the version before.
Routes from the config file (NKRU_ROUTES / nkru.toml) are listed as such and cannot be changed
from chat. The change is routed at once in this process (LiveRoutes) and by every other process
within one check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.commands.admin import audit, require_admin
from bot.core.commands.args import NoArgs
from bot.core.commands.model import Reply, ThemeCatalog
from bot.core.commands.registry import Context, UsageError
from bot.core.records import Author
from bot.core.routing import Route
from bot.core.subscriptions.live import LiveRoutes
from bot.core.subscriptions.model import NewSubscription, StoredSubscription, SubscriptionSpec

UNDO_HINT = "/nkru subscriptions undo reverts it (admins)"
CONFIG_NOTE = "set in the config file (NKRU_ROUTES / nkru.toml): change it there"


@dataclass(frozen=True, slots=True)
class SubscriptionsArgs:
    """`subscriptions` (list) or `subscriptions undo`."""

    undo: bool = False


def parse_subscriptions(words: Sequence[str], _catalog: ThemeCatalog) -> SubscriptionsArgs:
    """Nothing (list them) or `undo`."""
    if not words:
        return SubscriptionsArgs()
    if [word.casefold() for word in words] == ["undo"]:
        return SubscriptionsArgs(undo=True)
    raise UsageError(f"unexpected '{' '.join(words)}': use /nkru subscriptions [undo]")


async def run_subscribe(ctx: Context, spec: SubscriptionSpec) -> Reply:
    """Subscribe this channel (replacing its earlier subscription)."""
    await require_admin(ctx, "subscribe", ctx.invocation.destination)
    return await _store(ctx, "subscribe", lambda _: (spec, f"subscribed: {spec.describe()}"))


async def run_unsubscribe(ctx: Context, _args: NoArgs) -> Reply:
    """End this channel's subscription; config routes are named, not touched."""
    destination = ctx.invocation.destination
    await require_admin(ctx, "unsubscribe", destination)

    def unsubscribed(history: list[StoredSubscription]) -> tuple[SubscriptionSpec | None, str]:
        if not history or history[0].spec is None:
            raise _NothingToDo
        return None, f"unsubscribed (was: {history[0].spec.describe()})"

    try:
        return await _store(ctx, "unsubscribe", unsubscribed)
    except _NothingToDo:
        configured = [r for r in _configured(ctx) if r.destination == destination]
        lines = tuple(f"{describe_route(r)} — {CONFIG_NOTE}" for r in configured)
        return Reply("This channel has no subscription from chat", lines=lines, ephemeral=True)


async def run_subscriptions(ctx: Context, args: SubscriptionsArgs) -> Reply:
    """List every route (config file, then chat), or undo this channel's last change."""
    await require_admin(ctx, "subscriptions undo" if args.undo else "subscriptions", "")
    if args.undo:
        return await _undo(ctx)
    async with ctx.store.transaction() as tx:
        stored = await tx.subscriptions.in_force()
    lines = [
        f"{r.destination}: {describe_route(r)} (config file, read-only)" for r in _configured(ctx)
    ]
    lines += [
        f"{s.destination}: {s.spec.describe()} (by {s.author.shown}, {s.at:%Y-%m-%d})"
        for s in stored
        if s.spec is not None
    ]
    if not lines:
        return Reply(
            "No routes", lines=("Subscribe a channel from it: /nkru subscribe",), ephemeral=True
        )
    return Reply("Routes", lines=tuple(lines), ephemeral=True)


def describe_route(route: Route) -> str:
    """One line for a configured route (its crontab is the config file's business)."""
    if route.themes is None:
        what = "every new story, matched or not"
    else:
        what = ", ".join(sorted(route.themes)) or "every theme"
    parts = [what, route.mode]
    if route.min_score:
        parts.append(f"min score {route.min_score:g}")
    if route.quiet:
        parts.append(f"quiet {route.quiet.start:%H:%M}-{route.quiet.end:%H:%M} {route.quiet.zone}")
    return " · ".join(parts)


class _NothingToDo(Exception):
    """The change has nothing to change (read under the writers' lock)."""


async def _undo(ctx: Context) -> Reply:
    def back(history: list[StoredSubscription]) -> tuple[SubscriptionSpec | None, str]:
        if not history:
            raise _NothingToDo
        before = history[1].spec if len(history) > 1 else None
        return before, f"undo: back to {before.describe() if before else 'not subscribed'}"

    try:
        return await _store(ctx, "subscriptions undo", back, "undo")
    except _NothingToDo:
        return Reply(
            "Nothing to undo: this channel's subscription was never changed from chat",
            ephemeral=True,
        )


async def _store(
    ctx: Context,
    action: str,
    change_of: Callable[[list[StoredSubscription]], tuple[SubscriptionSpec | None, str]],
    source: str = "chat",
) -> Reply:
    """Store the change `change_of` makes of this channel's last two versions: read and
    written in one transaction under the writers' lock, so two admins undoing at once go back
    two steps, not both to the same one."""
    destination = ctx.invocation.destination
    async with ctx.store.transaction() as tx:
        await tx.subscriptions.lock()
        spec, change = change_of(await tx.subscriptions.history(destination, 2))
        new = NewSubscription(destination, spec, _author(ctx), change, source)
        await tx.subscriptions.add(new, ctx.now)
    await audit(ctx, action, destination, change)
    live = ctx.services.get(LiveRoutes)
    if isinstance(live, LiveRoutes):
        await live.refresh()  # routed at once here; other processes pick it up on their check
    lines = [change]
    if any(r.destination == destination for r in _configured(ctx)):
        lines.append(f"This channel also has a route {CONFIG_NOTE}; it stays.")
    who = ctx.invocation.caller.user_name or ctx.invocation.caller.user_id
    title = "Subscribed this channel" if spec else "This channel is not subscribed any more"
    return Reply(f"{title} (by {who})", lines=tuple(lines), footer=UNDO_HINT)


def _configured(ctx: Context) -> Sequence[Route]:
    routes = ctx.routes
    return routes.configured if isinstance(routes, LiveRoutes) else routes


def _author(ctx: Context) -> Author:
    caller = ctx.invocation.caller
    return Author(caller.platform, caller.user_id, caller.user_name)
