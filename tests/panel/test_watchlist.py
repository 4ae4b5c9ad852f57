"""The watchlist pages over real HTTP on both databases: the watchlist read-only, its history
with each version's changes, and an admin's edit of one theme: previewed against the stored
articles, saved as a new audited version, refused when invalid, stale, or not an admin's."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.core.records import Author
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.parts import find_part, part_text
from tests.core.commands.conftest import NOW
from tests.panel.support import ADMIN, MEMBER, WATCHLIST, Panel, browser_session
from tests.panel.test_auth import signed_in
from tests.panel.test_pages import text_of

TEXT = WATCHLIST.read_text(encoding="utf-8")
DRAFT = add_terms(TEXT, "tumen-bridge", ["pontoon crossing"])
PART = "theme:tumen-bridge"
EDITED = part_text(DRAFT, find_part(DRAFT, PART))  # the theme as the admin leaves the textarea
PONTOON = ("Russia and North Korea open pontoon crossing", "Engineers laid it in two days.")
TEXTAREA = re.compile(r'<textarea[^>]*name="text"[^>]*>\n(.*?)</textarea>', re.DOTALL)


async def session_of(panel: Panel, caller: object) -> tuple[aiohttp.ClientSession, str]:
    session = browser_session()
    return session, await signed_in(session, panel, await panel.link(caller))  # type: ignore[arg-type]


@pytest.fixture
async def admin(panel: Panel) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    session, token = await session_of(panel, ADMIN)
    async with session:
        yield session, token


@pytest.fixture
async def member(panel: Panel) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    session, token = await session_of(panel, MEMBER)
    async with session:
        yield session, token


async def post(
    session: aiohttp.ClientSession, url: str, form: dict[str, str]
) -> tuple[int, str, str]:
    """Status, body and Location of a form POST (redirects not followed)."""
    async with session.post(url, data=form, allow_redirects=False) as answer:
        return answer.status, await answer.text(), answer.headers.get("Location", "")


def typed(page: str) -> str:
    found = TEXTAREA.search(page)
    assert found is not None, page
    return html.unescape(found.group(1))


async def documents(panel: Panel) -> int:
    latest = await panel.editor.latest_number()
    return latest or 0


async def test_everyone_reads_every_theme_its_terms_groups_and_the_history(
    panel: Panel, member: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = member
    page = html.unescape(await text_of(session, f"{panel.url}/watchlist"))
    _, watchlist = await panel.editor.latest()
    for theme in watchlist.themes:
        assert f"<strong>{theme.title}</strong> <code>{theme.slug}</code>" in page
    assert '"Tumen" (word, ×1.2)' in page and "min score" in page
    assert "<code>north-korea</code>" in page and '"Pyongyang" (word, fuzzy)' in page
    assert '"북한" (prefix) except "북한산", "북한강"' in page
    assert "v1</a> (in force)" in page
    assert "Only admins can change the watchlist." in page
    assert "/watchlist/edit" not in page  # read-only: no edit link


async def test_a_version_page_lists_every_change_it_made(
    panel: Panel, member: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = member
    await panel.editor.edit(Author("slack", "U0ADMIN", "Ada"), lambda _: DRAFT)
    page = html.unescape(await text_of(session, f"{panel.url}/watchlist/versions/2"))
    assert '+ term "pontoon crossing" (word) in tumen-bridge' in page
    assert "Changes from" in page and 'href="/watchlist/versions/1"' in page
    await text_of(session, f"{panel.url}/watchlist/versions/9", 404)


async def test_an_admin_previews_a_theme_edit_then_saves_it(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = admin
    await panel.world.publish("pontoon", PONTOON, "TASS", NOW - timedelta(hours=2))
    form_page = await text_of(session, f"{panel.url}/watchlist/edit?part={PART}")
    assert typed(form_page) == part_text(TEXT, find_part(TEXT, PART))
    assert "Save as version" not in form_page  # saving comes after a preview
    form = {"csrf": token, "part": PART, "based_on": "1", "text": EDITED.replace("\n", "\r\n")}

    status, page, _ = await post(
        session, f"{panel.url}/watchlist/edit", form | {"action": "preview"}
    )

    assert status == 200, page
    shown = html.unescape(page)
    assert '+ term "pontoon crossing" (word) in tumen-bridge' in shown
    newly = shown.split("Would newly match")[1].split("Would stop matching")[0]
    assert PONTOON[0] in newly and "pontoon crossing (title)" in newly  # with why it matches
    assert "gains Tumen" in newly
    assert typed(page) == EDITED  # the text as typed stays in the form
    assert "Save as version 2" in page
    assert await documents(panel) == 1  # a preview saves nothing

    status, _, where = await post(session, f"{panel.url}/watchlist/edit", form | {"action": "save"})

    assert (status, where) == (303, "/watchlist")
    version, _ = await panel.editor.latest()
    assert version.version == 2 and version.document == DRAFT
    assert (version.info.source, version.info.author.user_id) == ("web", ADMIN.user_id)
    [entry, *_] = await panel.audit()
    assert (entry.action, entry.outcome, entry.destination) == ("watch edit", "ok", "web")
    after = html.unescape(await text_of(session, f"{panel.url}/watchlist"))
    assert "Saved watchlist v2" in after and "v2</a> (in force)" in after


async def test_an_invalid_draft_comes_back_with_the_problem_and_the_text_as_typed(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = admin
    broken = EDITED.replace("min_score = ", "min_score = -", 1)
    assert broken != EDITED
    form = {"csrf": token, "part": PART, "based_on": "1", "text": broken}
    for action in ("preview", "save"):
        status, page, _ = await post(
            session, f"{panel.url}/watchlist/edit", form | {"action": action}
        )
        assert status == 422, page
        assert "not a valid watchlist" in page and "min_score" in page
        lines = broken.splitlines()
        line = lines.index(next(text for text in lines if text.startswith("min_score")))
        assert f"Line {line + 1} of this part" in page
        assert typed(page) == broken
    assert await documents(panel) == 1
    [entry, *_] = await panel.audit()
    assert (entry.action, entry.outcome) == ("watch edit", "invalid")


async def test_a_draft_made_before_another_edit_is_refused_on_save_and_kept(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = admin
    await panel.editor.edit(
        Author("slack", "U0OTHER", "Other"), lambda text: add_terms(text, "troops", ["Rason"])
    )
    form = {"csrf": token, "part": PART, "based_on": "1", "text": EDITED}
    status, page, _ = await post(
        session, f"{panel.url}/watchlist/edit", form | {"action": "preview"}
    )
    assert status == 200 and "changed since version 1" in page and "Save as version" not in page
    status, page, _ = await post(session, f"{panel.url}/watchlist/edit", form | {"action": "save"})
    assert status == 409 and "changed since v1" in page
    assert typed(page) == EDITED
    assert await documents(panel) == 2  # the other edit stands


async def test_a_team_member_can_neither_open_the_editor_nor_save(
    panel: Panel, member: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = member
    await text_of(session, f"{panel.url}/watchlist/edit?part={PART}", 403)
    form = {"csrf": token, "part": PART, "based_on": "1", "text": EDITED, "action": "save"}
    status, page, _ = await post(session, f"{panel.url}/watchlist/edit", form)
    assert status == 403 and "Only admins can edit the watchlist" in page
    assert await documents(panel) == 1
    [entry, *_] = await panel.audit()
    assert (entry.user_id, entry.action, entry.outcome) == (MEMBER.user_id, "watch edit", "refused")


async def test_an_edit_without_the_sessions_token_is_refused(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, _ = admin
    form = {"csrf": "forged", "part": PART, "based_on": "1", "text": EDITED, "action": "save"}
    status, page, _ = await post(session, f"{panel.url}/watchlist/edit", form)
    assert status == 403 and "Form refused" in page
    assert await documents(panel) == 1


async def test_a_form_naming_no_version_keeps_the_text(
    panel: Panel, admin: tuple[aiohttp.ClientSession, str]
) -> None:
    session, token = admin
    form = {"csrf": token, "part": PART, "based_on": "7", "text": EDITED, "action": "save"}
    status, page, _ = await post(session, f"{panel.url}/watchlist/edit", form)
    assert status == 409 and "no version &#39;7&#39;" in page
    assert EDITED.splitlines()[3] in html.unescape(page)
