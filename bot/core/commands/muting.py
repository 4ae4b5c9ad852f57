"""`mute` and `unmute`: silence a theme's alerts in one channel for a while.

Confirmations are posted in the channel, not just to the caller: everyone there should know
why alerts on a theme stopped, and who stopped them.
"""

from __future__ import annotations

from bot.core.commands.args import ListMutes, MuteArgs, UnmuteArgs
from bot.core.commands.model import Reply
from bot.core.commands.registry import Context, UsageError
from bot.core.commands.text import theme_list, when


def _who(ctx: Context) -> str:
    caller = ctx.invocation.caller
    return caller.user_name or caller.user_id


async def run_mute(ctx: Context, args: MuteArgs | ListMutes) -> Reply:
    """Mute a theme here until now + duration (replacing an earlier mute), or list the mutes."""
    if isinstance(args, ListMutes):
        return await _list(ctx)
    until = ctx.now + args.duration
    async with ctx.store.transaction() as tx:
        await tx.mutes.mute(ctx.invocation.destination, args.theme, until, _who(ctx), ctx.now)
    return Reply(
        f"Muted {args.theme} here until {when(until)} (by {_who(ctx)})",
        lines=(f"Lift it early with: /nkru unmute {args.theme}",),
    )


async def run_unmute(ctx: Context, args: UnmuteArgs) -> Reply:
    """Lift a mute here; a theme that is not muted gets a note for the caller only."""
    destination = ctx.invocation.destination
    async with ctx.store.transaction() as tx:
        was_active = args.theme in await tx.mutes.active(destination, ctx.now)
        # Delete even an expired row: it has no effect any more, and this tidies it away.
        await tx.mutes.unmute(destination, args.theme)
    if was_active:
        return Reply(f"Unmuted {args.theme} here (by {_who(ctx)})")
    if args.theme not in ctx.catalog.themes:
        raise UsageError(f"unknown theme '{args.theme}'", hint=theme_list(ctx.catalog))
    return Reply(f"{args.theme} is not muted here", ephemeral=True)


async def _list(ctx: Context) -> Reply:
    async with ctx.store.transaction() as tx:
        muted = await tx.mutes.active(ctx.invocation.destination, ctx.now)
    if not muted:
        return Reply(
            "Nothing is muted here",
            lines=("Mute a theme with: /nkru mute <theme> <duration>, e.g. arms-transfers 3d",),
            ephemeral=True,
        )
    lines = tuple(f"{theme} until {when(until)}" for theme, until in sorted(muted.items()))
    return Reply("Muted here", lines=lines, ephemeral=True)
