"""WatchlistEditor on SQLite and PostgreSQL: seeding, validated edits, exact undo, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.core.records import Author
from bot.core.routing import Route
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing import WatchlistEditor, When
from bot.core.watchlist_editing.document import EditError, add_terms, delete_theme
from storage.engine import Store
from tests.watchlist_editing.harness import WATCHLIST, documents, open_live, watchlist_folder

TEXT = WATCHLIST.read_text(encoding="utf-8")
ANA = Author("slack", "U01", "Ana")
BORIS = Author("discord", "42", "Boris")


def editor_of(store: Store, *routes: Route) -> WatchlistEditor:
    routed = frozenset(t for route in routes for t in route.themes or ())
    return WatchlistEditor(store, lambda: datetime.now(UTC), routed_themes=routed)


async def test_the_file_is_seeded_once_as_version_1(store: Store, tmp_path: Path) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))
    again = await open_live(store, tmp_path / "watchlists")  # a second start, or process

    assert (live.version, again.version) == (1, 1)
    assert await documents(store) == [TEXT]
    [seed] = await live.editor.history()
    assert (seed.source, seed.author.platform, seed.change) == (
        "seed", "file", "seed nkru.toml: 8 themes, 1399 terms",
    )  # fmt: skip
    async with store.transaction() as conn:
        [entry] = await conn.audit.recent()
    assert (entry.action, entry.outcome, entry.platform) == ("watchlist seed", "ok", "file")


async def test_an_edit_is_stored_with_what_changed(store: Store, tmp_path: Path) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))

    saved = await live.editor.edit(ANA, partial(add_terms, slug="troops", terms=["Rason"]))

    assert saved.lines == ['+ term "Rason" (word) in troops']
    assert (saved.info.version, saved.info.source, saved.info.author) == (2, "chat", ANA)
    assert live.version == 2 and "troops" in {
        h.theme
        for h in live.matcher.hits(  # type: ignore[union-attr]
            "North Korea and Russia ship workers via Rason", ""
        )
    }
    assert (await documents(store))[1] == add_terms(TEXT, "troops", ["Rason"])


async def test_an_invalid_edit_is_refused_and_nothing_is_stored(
    store: Store, tmp_path: Path
) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))

    with pytest.raises(WatchlistError) as raised:
        await live.editor.edit(ANA, partial(add_terms, slug="troops", terms=["..."]))

    [problem] = raised.value.problems
    assert "has no letters or digits" in str(problem) and problem.file == "nkru.toml"
    assert await documents(store) == [TEXT]


async def test_a_theme_a_route_follows_cannot_be_deleted(store: Store, tmp_path: Path) -> None:
    live = await open_live(
        store, watchlist_folder(tmp_path), (Route("slack:C1", frozenset({"troops"})),)
    )

    with pytest.raises(WatchlistError, match="NKRU_ROUTES follows troops"):
        await live.editor.edit(ANA, partial(delete_theme, slug="troops"))
    assert len(await documents(store)) == 1


async def test_undo_restores_the_previous_version_exactly(store: Store, tmp_path: Path) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))
    editor = live.editor
    await editor.edit(ANA, partial(add_terms, slug="troops", terms=["Rason"]))
    await editor.edit(BORIS, partial(delete_theme, slug="summits"))

    undone = await editor.undo(ANA)
    back_to_seed = await editor.undo(BORIS, 1)

    docs = await documents(store)
    assert docs[3] == docs[1] and docs[4] == docs[0] == TEXT  # byte for byte, comments included
    assert undone.info.change == 'undo to v2: + theme summits "Summits and treaties" (94 terms)'
    assert back_to_seed.lines == ['− term "Rason" (word) from troops']
    assert "summits" in live.slugs and live.version == 5
    with pytest.raises(
        EditError, match=r"no change: the watchlist in force \(v5\) is exactly that"
    ):
        await editor.undo(ANA, 1)
    with pytest.raises(EditError, match="there is no version 99"):
        await editor.undo(ANA, 99)


async def test_nothing_to_undo_at_the_first_version(store: Store, tmp_path: Path) -> None:
    live = await open_live(store, watchlist_folder(tmp_path))

    with pytest.raises(EditError, match="nothing to undo: v1 is the first version"):
        await live.editor.undo(ANA)


async def test_concurrent_edits_from_two_admins_lose_neither(
    store_url: str, tmp_path: Path
) -> None:
    """Two processes (two engines on one database), each an admin editing at the same moment."""
    first, second = await Store.open(store_url), await Store.open(store_url, migrate=False)
    try:
        await open_live(first, watchlist_folder(tmp_path))
        ana, boris = editor_of(first), editor_of(second)

        saved = await asyncio.gather(
            ana.edit(ANA, partial(add_terms, slug="troops", terms=["Rason"])),
            boris.edit(BORIS, partial(add_terms, slug="summits", terms=["Vladivostok summit"])),
            ana.edit(ANA, partial(add_terms, slug="troops", terms=["sappers corps"])),
        )

        assert sorted(s.info.version for s in saved) == [2, 3, 4]
        _, final = await boris.latest()
        by_slug = {theme.slug: [t.text for t in theme.terms] for theme in final.themes}
        assert {"Rason", "sappers corps"} <= set(by_slug["troops"])
        assert "Vladivostok summit" in by_slug["summits"]
        assert len(await documents(first)) == 4
    finally:
        await first.close()
        await second.close()


async def test_import_stores_a_changed_document_only(store: Store, tmp_path: Path) -> None:
    editor = editor_of(store)
    file = tmp_path / "mine.toml"

    first = await editor.store_document(TEXT, file, ANA, source="import", when=When.CHANGED)
    same = await editor.store_document(TEXT, file, ANA, source="import", when=When.CHANGED)

    assert first is not None and first.info.name == "mine" and same is None
    with pytest.raises(WatchlistError) as raised:
        await editor.store_document("[watchlist]\n", file, ANA, source="import", when=When.CHANGED)
    assert raised.value.problems[0].file == str(file)  # problems name the imported file
