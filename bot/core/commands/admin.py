"""Who is an admin, checked inside the bot on every admin command, and the audit trail.

The platform shows its own permissions in its UI, but the bot never relies on them: each admin
command calls `require_admin` first, which decides from the caller's facts (Discord roles and
Manage Server permission, Slack user and user-group ids) and this bot's configuration. Every
admin action, and every refused attempt, is written to the audit log.
"""

from __future__ import annotations

import logging

from bot.core.commands.model import Reply
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.registry import Context
from bot.core.records import AuditEntry

log = logging.getLogger(__name__)
__all__ = ["AdminPolicy", "Refused", "audit", "refusal", "require_admin"]


class Refused(Exception):
    """The caller may not do this; the message is shown to them (ephemerally)."""


async def require_admin(ctx: Context, action: str, target: str) -> None:
    """Raise Refused (after auditing the attempt) unless the caller is an admin."""
    caller = ctx.invocation.caller
    if ctx.admin.is_admin(caller):
        return
    await audit(ctx, action, target, "not an admin", outcome="refused")
    log.warning(
        "refused /nkru %s %s for %s (%s) in %s: not an admin",
        action,
        target,
        caller.user_name or caller.user_id,
        caller.platform,
        ctx.invocation.destination,
    )
    raise Refused(
        f"Only admins can {action}. Ask an admin, or see README “Admins” for who counts as one."
    )


async def audit(ctx: Context, action: str, target: str, detail: str, outcome: str = "ok") -> None:
    """Write one audit entry for the invocation being handled."""
    caller = ctx.invocation.caller
    entry = AuditEntry(
        at=ctx.now,
        platform=caller.platform,
        user_id=caller.user_id,
        user_name=caller.user_name,
        destination=ctx.invocation.destination,
        action=action,
        target=target,
        detail=detail,
        outcome=outcome,
    )
    async with ctx.store.transaction() as tx:
        await tx.audit.record(entry)


def refusal(error: Refused) -> Reply:
    """The ephemeral answer to a refused admin command."""
    return Reply("Not allowed", lines=(str(error),), ephemeral=True, error=True)
