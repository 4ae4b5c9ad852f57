"""Saving a watchlist change as every front end does: stored by the editor, always audited.

`WatchlistEditor` validates a change with the real loader and stores it as the next version
(which `watch undo` can revert); `save_audited` adds the audit entry whatever the outcome: "ok"
with what changed, "failed" with why it could not be made (`EditError`: an unknown theme, no
change, a stale draft), "invalid" with the loader's problems (`WatchlistError`), re-raising
those for the front end to answer. Chat's `watch …` edits and the web editor's save both go
through it, so an edit is recorded the same way wherever it was made.

`save_draft` is the web editor's save: a whole document, made from version `based_on` (and
previewed against it), replaces that version. If another edit was stored in the meantime the
draft is refused rather than silently undoing that edit: the admin previews again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

from bot.core.records import AuditEntry, Author
from bot.core.repositories import Database
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing.document import EditError
from bot.core.watchlist_editing.editor import Saved, WatchlistEditor

DRAFT_ACTION = "watch edit"  # the audit log's action for a saved draft
WEB = "web"  # the destination (and version source) of edits made in the web panel


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, and where: a chat channel ("slack:C0123") or the web panel."""

    author: Author
    destination: str


async def save_audited(
    store: Database,
    actor: Actor,
    when: datetime,
    action: str,
    target: str,
    saving: Awaitable[Saved],
) -> Saved:
    """Await the editor's change and audit it, or why it was not made (then re-raise)."""
    try:
        saved = await saving
    except EditError as error:
        await _audit(store, actor, when, action, target, error.message, "failed")
        raise
    except WatchlistError as error:
        problems = "; ".join(str(problem) for problem in error.problems)
        await _audit(store, actor, when, action, target, problems, "invalid")
        raise
    await _audit(store, actor, when, action, target, saved.info.change, "ok")
    return saved


async def save_draft(editor: WatchlistEditor, actor: Actor, draft: str, *, based_on: int) -> Saved:
    """Store `draft` (a whole watchlist document made from version `based_on`) as the next
    version, audited; EditError if a newer version exists or nothing changes, WatchlistError
    (each problem with line, field and fix) if the draft is not a valid watchlist.

    The caller has checked that the actor may edit (an admin, by the same rules as chat).
    """
    base = await editor.version(based_on)

    def replace(current: str) -> str:
        # Runs under the editor's lock, on the newest document: the check cannot race a save.
        if base is None:
            raise EditError(f"there is no version {based_on}: reload the watchlist and edit again")
        if current != base.document:
            raise EditError(
                f"the watchlist changed since v{based_on}, which this draft was made from",
                "reload it, apply your change again and preview it before saving",
            )
        return draft

    saving = editor.edit(actor.author, replace, source=WEB)
    target = f"draft from v{based_on}"
    return await save_audited(editor.store, actor, editor.clock(), DRAFT_ACTION, target, saving)


async def _audit(
    store: Database,
    actor: Actor,
    when: datetime,
    action: str,
    target: str,
    detail: str,
    outcome: str,
) -> None:
    who = actor.author
    entry = AuditEntry(
        when, who.platform, who.user_id, who.user_name, actor.destination, action, target,
        detail, outcome,
    )  # fmt: skip
    async with store.transaction() as tx:
        await tx.audit.record(entry)
