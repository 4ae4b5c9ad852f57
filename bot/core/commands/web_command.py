"""`web`: a one-time sign-in link to the web panel, shown to the caller alone."""

from __future__ import annotations

from bot.core.commands.args import NoArgs
from bot.core.commands.model import Reply
from bot.core.commands.registry import Context
from bot.core.web_login import WebLinks

_NOT_SERVED = (
    "This process does not serve the web panel: it is served by `nkru run` on its HTTP "
    "listener (README, “Web panel”)."
)


async def run_web(ctx: Context, _args: NoArgs) -> Reply:
    """A new sign-in link for the caller, valid once for a few minutes (ephemeral: a link in
    the channel would let anyone there sign in as the caller)."""
    try:
        links = ctx.service(WebLinks)
    except LookupError:
        return Reply("No web panel here", lines=(_NOT_SERVED,), ephemeral=True, error=True)
    caller = ctx.invocation.caller
    url = await links.issue(ctx.store, caller, ctx.now)
    role = "an admin" if ctx.admin.is_admin(caller) else "a team member (reading only)"
    return Reply(
        "Your sign-in link to the web panel",
        lines=(
            url,
            f"It works once, within {links.minutes()} minutes, and signs you in as "
            f"{caller.user_name or caller.user_id}, {role}. Do not share it.",
        ),
        ephemeral=True,
    )
