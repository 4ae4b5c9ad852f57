"""`nkru audit`: the audit log of admin actions (chat, files, imports), newest first."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bot.cli.support import console, escape, load, run_async


@run_async
async def audit(
    n: Annotated[int, typer.Option("-n", min=1, max=1000, help="How many entries")] = 20,
) -> None:
    """The newest admin actions, refused and invalid ones included."""
    from storage.engine import Store

    store = await Store.open(load().database_url)
    try:
        async with store.transaction() as conn:
            entries = await conn.audit.recent(n)
    finally:
        await store.close()
    if not entries:
        console.print("No admin actions recorded yet.")
        return
    table = Table("when (UTC)", "who", "where", "action", "target", "outcome", "detail")
    for entry in entries:
        where = f"{entry.platform} {entry.destination}".strip()
        table.add_row(
            f"{entry.at:%Y-%m-%d %H:%M}",
            escape(entry.user_name or entry.user_id),
            escape(where),
            escape(entry.action),
            escape(entry.target),
            entry.outcome,
            escape(entry.detail),
        )
    console.print(table)
