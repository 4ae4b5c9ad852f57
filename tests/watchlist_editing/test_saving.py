"""Saving a draft from the web editor: a new version like a chat edit's — validated, audited,
undoable — that the next poll of a loopback feed matches with (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.models import ThemeHit
from bot.core.poll.fetch import FeedFetcher
from bot.core.records import AuditEntry, Author
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing.document import EditError, add_terms
from bot.core.watchlist_editing.preview import preview_draft
from bot.core.watchlist_editing.saving import Actor, save_draft
from storage.engine import Store
from storage.schema import article_themes, articles
from tests.fakes.feed_server import FeedServer
from tests.watchlist_editing.harness import (
    PONTOON,
    PONTOON_AGAIN,
    WATCHLIST,
    Bench,
    documents,
    open_live,
    watchlist_folder,
)

TEXT = WATCHLIST.read_text(encoding="utf-8")
DRAFT = add_terms(TEXT, "tumen-bridge", ["pontoon crossing"])
ANA = Actor(Author("slack", "U0BOSS", "boss"), "web")


async def last_audit(store: Store) -> AuditEntry:
    async with store.transaction() as tx:
        [entry] = await tx.audit.recent(1)
    return entry


async def stored_hits(store: Store, title: str) -> list[ThemeHit]:
    """The themes the poll stored for the article with this title, with explanations."""
    columns = (article_themes.c.theme, article_themes.c.score, article_themes.c.why)
    stmt = select(*columns, article_themes.c.explanation).join(
        articles, articles.c.id == article_themes.c.article_id
    )
    async with store.transaction() as tx:
        rows = await tx.connection.execute(stmt.where(articles.c.title == title))
    return [ThemeHit(theme, score, why, explanation) for theme, score, why, explanation in rows]


async def test_a_saved_draft_is_a_new_audited_undoable_version_the_next_poll_alerts_on(
    store: Store, fetcher: FeedFetcher, server: FeedServer, tmp_path: Path
) -> None:
    bench = await Bench.open(store, fetcher, server, watchlist_folder(tmp_path), "slack:C1")
    await bench.poll(PONTOON)  # stored under v1: no theme, no alert
    assert await bench.alerted_themes(PONTOON.title) == set()
    preview = await preview_draft(bench.live.editor, DRAFT, datetime.now(UTC))
    [newly] = preview.comparison.newly
    assert newly.article.title == PONTOON.title

    saved = await save_draft(bench.live.editor, ANA, DRAFT, based_on=preview.version)

    assert (saved.info.version, saved.info.source, saved.info.author) == (2, "web", ANA.author)
    assert saved.lines == ['+ term "pontoon crossing" (word) in tumen-bridge']
    assert (await documents(store))[1] == DRAFT
    entry = await last_audit(store)
    assert (entry.action, entry.target, entry.outcome) == ("watch edit", "draft from v1", "ok")
    assert (entry.user_id, entry.destination, entry.detail) == ("U0BOSS", "web", saved.info.change)
    assert bench.live.version == 2  # adopted at once, as after a chat edit
    await bench.poll(PONTOON_AGAIN)
    assert await bench.alerted_themes(PONTOON_AGAIN.title) == {"tumen-bridge"}
    # What the preview explained is what the poll stored: one matcher, one explanation.
    [stored] = await stored_hits(store, PONTOON_AGAIN.title)
    back = await preview_draft(bench.live.editor, TEXT, datetime.now(UTC))  # undoing it
    again, first = back.comparison.stopped  # the newest first
    assert (again.article.title, first.article.title) == (PONTOON_AGAIN.title, PONTOON.title)
    assert again.themes == (stored,) and again.themes[0].explanation == stored.explanation

    undone = await bench.live.editor.undo(ANA.author)
    assert undone.info.version == 3 and (await documents(store))[2] == TEXT


async def test_a_draft_made_from_an_older_version_is_refused_and_audited(
    store: Store, tmp_path: Path
) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))
    await live.editor.edit(ANA.author, lambda text: add_terms(text, "troops", ["Rason"]))

    with pytest.raises(EditError, match="changed since v1") as raised:
        await save_draft(live.editor, ANA, DRAFT, based_on=1)

    assert raised.value.hint is not None and "preview it" in raised.value.hint
    assert len(await documents(store)) == 2  # the chat edit stands
    entry = await last_audit(store)
    assert (entry.action, entry.outcome) == ("watch edit", "failed")
    assert entry.detail.startswith("the watchlist changed since v1")


async def test_an_invalid_draft_is_refused_with_its_problems_and_audited(
    store: Store, tmp_path: Path
) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))

    with pytest.raises(WatchlistError) as raised:
        await save_draft(live.editor, ANA, add_terms(TEXT, "troops", ["..."]), based_on=1)

    assert await documents(store) == [TEXT]
    entry = await last_audit(store)
    assert (entry.action, entry.outcome) == ("watch edit", "invalid")
    assert entry.detail == str(raised.value.problems[0])


@pytest.mark.parametrize(("based_on", "message"), [(1, "no change"), (7, "no version 7")])
async def test_a_draft_that_changes_nothing_or_names_no_version_is_refused(
    store: Store, tmp_path: Path, based_on: int, message: str
) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))

    with pytest.raises(EditError, match=message):
        await save_draft(live.editor, ANA, TEXT, based_on=based_on)

    assert await documents(store) == [TEXT]
    assert (await last_audit(store)).outcome == "failed"
