"""Editing the watchlist from the panel: one part at a time, previewed, then saved.

GET /watchlist/edit?part=KEY shows a part of the version in force (`parts`: a theme, the head,
or the whole document) in a textarea. The form POSTs the edited text with the version it was
made from (`based_on`) and the part's key; the server puts the part back into *that* version's
document (`splice`), so the draft is always a whole document, and then:

* "Preview" compares it with the version in force over the stored articles of the last
  PREVIEW_DAYS days (`preview_draft`): its changes, and the articles it would newly match and
  stop matching, with explanations;
* "Save" stores it (`save_draft`: validated, audited, undoable; refused if another edit was
  saved since `based_on`).

An invalid draft, a stale one or anything else refused comes back on the same form with the
text as typed and the reason next to it (422 or 409): nothing typed is lost. Both actions
need an admin, checked on every POST by the chat's rules; a refused attempt is audited as from
chat.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.core.commands.model import Caller
from bot.core.records import AuditEntry, Author
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing import NoWatchlist, WatchlistEditor
from bot.core.watchlist_editing.document import EditError
from bot.core.watchlist_editing.parts import WHOLE, Part, find_part, part_text, parts, splice
from bot.core.watchlist_editing.preview import preview_draft
from bot.core.watchlist_editing.saving import DRAFT_ACTION, WEB, Actor, save_draft
from bot.panel.changes import set_flash
from bot.panel.render import caller_of, config_of, is_admin, page
from bot.panel.security import refusal
from bot.panel.watchlist import editor_of

log = logging.getLogger(__name__)
PREVIEW_DAYS = 7
PREVIEW_LISTED = 50  # articles listed on each side (the totals count them all)
_ADMINS_ONLY = "Only admins can edit the watchlist (README, “Admins”, says who counts as one)."


def add_routes(app: web.Application) -> None:
    """The editor's routes."""
    app.router.add_get("/watchlist/edit", edit_page)
    app.router.add_post("/watchlist/edit", edit_action)


async def edit_page(request: web.Request) -> web.Response:
    """A part of the version in force, in a form."""
    if not is_admin(request):
        return refusal(request, 403, "Admins only", _ADMINS_ONLY)
    editor = editor_of(request)
    try:
        version, _ = await editor.latest()
    except NoWatchlist as missing:
        raise web.HTTPNotFound(text=str(missing)) from None
    try:
        part = find_part(version.document, request.query.get("part", WHOLE))
    except EditError as error:
        raise web.HTTPNotFound(text=f"{error.message} ({error.hint})") from None
    text = part_text(version.document, part)
    return await _form(request, _Draft(part, version.version, text, version.document))


async def edit_action(request: web.Request) -> web.Response:
    """Preview or save the posted draft (see the module docstring)."""
    form = await request.post()
    fields = {name: str(form.get(name, "")) for name in ("part", "based_on", "text", "action")}
    if not is_admin(request):
        await _audit_refusal(request, fields["based_on"])
        return refusal(request, 403, "Admins only", _ADMINS_ONLY)
    editor = editor_of(request)
    based_on = int(fields["based_on"]) if fields["based_on"].isdigit() else 0
    base = await editor.version(based_on) if based_on else None
    if base is None:
        return await _problem(request, fields, f"there is no version '{fields['based_on'][:12]}'")
    try:
        part = find_part(base.document, fields["part"])
    except EditError as error:
        return await _problem(request, fields, error.message, error.hint or "")
    draft = _Draft(part, based_on, fields["text"], base.document)
    if fields["action"] == "save":
        return await _save(request, editor, draft)
    return await _preview(request, editor, draft)


class _Draft:
    """What the form holds: the part edited, the version it came from and the text as typed."""

    def __init__(self, part: Part, based_on: int, text: str, base: str) -> None:
        # Browsers send a textarea's lines ended with CRLF: shown again with plain newlines.
        self.part, self.based_on, self.text = part, based_on, text.replace("\r\n", "\n")
        self.document = splice(base, part, text)
        self.parts = parts(base)


async def _preview(request: web.Request, editor: WatchlistEditor, draft: _Draft) -> web.Response:
    now = config_of(request).clock()
    try:
        preview = await preview_draft(
            editor, draft.document, now, days=PREVIEW_DAYS, listed=PREVIEW_LISTED
        )
    except WatchlistError as error:
        return await _form(request, draft, problems=_problems(draft.part, error), status=422)
    stale = preview.version != draft.based_on
    return await _form(request, draft, preview=preview, stale=stale)


async def _save(request: web.Request, editor: WatchlistEditor, draft: _Draft) -> web.Response:
    caller = caller_of(request)
    actor = Actor(Author(caller.platform, caller.user_id, caller.user_name), WEB)
    try:
        saved = await save_draft(editor, actor, draft.document, based_on=draft.based_on)
    except WatchlistError as error:
        return await _form(request, draft, problems=_problems(draft.part, error), status=422)
    except EditError as error:
        message = {"text": error.message, "hint": error.hint}
        return await _form(request, draft, message=message, status=409)
    info = saved.info
    await set_flash(request, f"Saved watchlist v{info.version}", list(saved.lines) or [info.change])
    raise web.HTTPSeeOther("/watchlist")


async def _form(
    request: web.Request, draft: _Draft, *, status: int = 200, **shown: Any
) -> web.Response:
    """The editor page: the form as typed, and whatever the last action found."""
    context = {
        "draft": draft,
        "days": PREVIEW_DAYS,
        "problems": [],
        "message": None,
        "preview": None,
        "stale": False,
        "catalog": config_of(request).catalog(),
        **shown,
    }
    return await page(request, "watchlist_edit.html", context, status)


async def _problem(
    request: web.Request, fields: dict[str, str], text: str, hint: str = ""
) -> web.Response:
    """A form that names no usable version or part: the text as typed, and why."""
    context = {
        "fields": fields,
        "message": {"text": text, "hint": hint or "open the editor again from the watchlist page"},
    }
    return await page(request, "watchlist_lost.html", context, 409)


def _problems(part: Part, error: WatchlistError) -> list[dict[str, Any]]:
    """The loader's problems, each with the line in the part being edited when it is there."""
    return [{"text": str(p), "line": part.local_line(p.line)} for p in error.problems]


async def _audit_refusal(request: web.Request, based_on: str) -> None:
    """A non-admin's save or preview, refused and audited as a chat edit would be."""
    caller: Caller = caller_of(request)
    config = config_of(request)
    entry = AuditEntry(
        config.clock(), caller.platform, caller.user_id, caller.user_name, WEB, DRAFT_ACTION,
        f"draft from v{based_on[:12]}", "not an admin", outcome="refused",
    )  # fmt: skip
    async with config.store.transaction() as tx:
        await tx.audit.record(entry)
    log.warning("refused a watchlist edit from %s (%s): not an admin", caller.user_id, WEB)
