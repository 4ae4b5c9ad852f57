"""`audit [n]`: the newest admin actions, refused and invalid ones included (admins only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.commands.admin import require_admin
from bot.core.commands.model import Reply, ThemeCatalog
from bot.core.commands.registry import Context, UsageError
from bot.core.commands.text import clip, when
from bot.core.records import AuditEntry

AUDIT_DEFAULT, AUDIT_MAX = 20, 100


@dataclass(frozen=True, slots=True)
class AuditArgs:
    """`audit [n]`."""

    count: int = AUDIT_DEFAULT


def parse_audit(words: Sequence[str], _catalog: ThemeCatalog) -> AuditArgs:
    """An optional number of entries, 1 to AUDIT_MAX."""
    if not words:
        return AuditArgs()
    if len(words) > 1 or not words[0].isdigit() or not 1 <= int(words[0]) <= AUDIT_MAX:
        raise UsageError(f"give how many entries to show, 1 to {AUDIT_MAX}")
    return AuditArgs(int(words[0]))


async def run_audit(ctx: Context, args: AuditArgs) -> Reply:
    """The newest entries first, one line each (only the caller sees them)."""
    await require_admin(ctx, "audit", f"last {args.count}")
    async with ctx.store.transaction() as tx:
        entries = await tx.audit.recent(args.count)
    if not entries:
        return Reply("Audit log", lines=("No admin actions recorded yet.",), ephemeral=True)
    lines = tuple(audit_line(entry) for entry in entries)
    return Reply(f"Audit log: the latest {len(entries)}", lines=lines, ephemeral=True)


def audit_line(entry: AuditEntry) -> str:
    """`2026-11-20 12:00 UTC · Ana (slack, slack:C1) · watch add tumen-bridge · ok: …`."""
    who = entry.user_name or entry.user_id
    where = f"{entry.platform}, {entry.destination}" if entry.destination else entry.platform
    return clip(
        f"{when(entry.at)} · {who} ({where}) · {entry.action} {entry.target} · "
        f"{entry.outcome}: {entry.detail}",
        300,
    )
