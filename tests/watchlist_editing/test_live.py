"""LiveWatchlist: the seed, a file edited on disk, a broken file, and two processes on one
database (SQLite and PostgreSQL), with real files, the real loader and the real store."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.core.records import AuditEntry, Author, NewVersion
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist.model import WatchlistError
from bot.core.watchlist_editing import LiveWatchlist, WatchlistEditor
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.files import WatchedFile
from storage.engine import Store
from tests.watchlist_editing.harness import PONTOON, WATCHLIST, documents, watchlist_folder

TEXT = WATCHLIST.read_text(encoding="utf-8")
ANA = Author("slack", "U01", "Ana")
BORIS = Author("discord", "42", "Boris")
LIVE_LOG = "bot.core.watchlist_editing.live"
# tumen-bridge with "pontoon crossing" and a comment: the edit an operator makes in an editor.
EDITED = add_terms(TEXT, "tumen-bridge", ["pontoon crossing"]).replace(
    '  "pontoon crossing",\n', '  "pontoon crossing",  # the temporary crossing of 2025\n', 1
)
BROKEN = TEXT.replace('colour = "#2e86de"', 'colour = "#2e86d"', 1)


class Process:
    """One bot process's watchlist parts: its editor, its LiveWatchlist, what it was told."""

    def __init__(self, store: Store, folder: Path | None) -> None:
        self.editor = WatchlistEditor(store, lambda: datetime.now(UTC))
        self.live = LiveWatchlist(self.editor, WatchedFile(folder) if folder else None)
        self.applied: list[WatchlistMatcher] = []
        self.live.on_change(self.applied.append)

    async def start(self) -> Process:
        await self.live.start()
        return self


def themes_of(matcher: WatchlistMatcher | None, title: str) -> set[str]:
    """The themes the matcher finds in a headline."""
    assert matcher is not None
    return {hit.theme for hit in matcher.hits(title, "")}


def write(path: Path, text: str) -> None:
    """Save the file the way an editor does, with a modification time that surely moved."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


async def audit_log(store: Store) -> list[AuditEntry]:
    async with store.transaction() as conn:
        return await conn.audit.recent(100)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LIVE_LOG and r.levelno >= 40]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return watchlist_folder(tmp_path)


@pytest.fixture
def file(folder: Path) -> Path:
    return folder / "nkru.toml"


async def test_start_seeds_version_1_from_the_file(store: Store, folder: Path) -> None:
    process = Process(store, folder)
    assert (process.live.version, process.live.matcher, process.live.slugs) == (None, None, [])

    await process.start()

    live = process.live
    assert live.version == 1 and live.matcher is not None
    assert live.slugs == [
        "tumen-bridge", "arms-transfers", "troops", "un-veto", "sanctions-evasion", "summits",
        "energy-trade", "military-tech",
    ]  # fmt: skip
    assert await documents(store) == [TEXT]
    [seed] = await live.editor.history()
    assert (seed.version, seed.source, seed.author.platform) == (1, "seed", "file")
    assert process.applied == [live.matcher]  # the pipeline hears of the first one too
    assert themes_of(live.matcher, "Russia and North Korea open Tumen road bridge") == {
        "tumen-bridge"
    }
    assert await live.refresh() is False  # nothing changed since
    assert len(await documents(store)) == 1


async def test_start_names_the_problem_when_nothing_is_stored_and_the_file_is_broken(
    store: Store, folder: Path, file: Path
) -> None:
    write(file, BROKEN)

    with pytest.raises(WatchlistError, match=r'"#2e86d" is not a colour'):
        await Process(store, folder).start()
    assert await documents(store) == []


async def test_start_keeps_the_stored_version_when_the_file_broke_while_stopped(
    store: Store, folder: Path, file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await Process(store, folder).start()
    write(file, BROKEN)

    again = await Process(store, folder).start()

    assert again.live.version == 1 and again.live.matcher is not None
    assert await documents(store) == [TEXT]
    assert any("is not a valid watchlist" in line for line in errors_logged(caplog))
    [invalid] = [e for e in await audit_log(store) if e.outcome == "invalid"]
    assert (invalid.action, invalid.target) == ("watchlist file", str(file))


async def test_start_runs_on_the_stored_version_and_says_so_when_the_file_is_gone(
    store: Store, folder: Path, file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await Process(store, folder).start()
    await asyncio.to_thread(file.unlink)

    again = await Process(store, folder).start()

    assert again.live.version == 1 and again.live.matcher is not None
    assert any("the watchlist file cannot be read" in line for line in errors_logged(caplog))


async def test_a_file_edited_on_disk_is_validated_and_adopted(
    store: Store, folder: Path, file: Path
) -> None:
    process = await Process(store, folder).start()
    live, first = process.live, process.live.matcher
    assert "tumen-bridge" not in themes_of(first, PONTOON.title)

    write(file, EDITED)
    changed = await live.refresh()

    assert changed is True and live.version == 2
    assert await documents(store) == [TEXT, EDITED]  # as saved, comment included
    [edit, _] = await live.editor.history()
    assert (edit.source, edit.author.platform) == ("file", "file")
    assert edit.change == 'file nkru.toml: + term "pontoon crossing" (word) in tumen-bridge'
    assert process.applied == [first, live.matcher] and live.matcher is not first
    assert themes_of(process.applied[-1], PONTOON.title) == {"tumen-bridge"}
    entry = (await audit_log(store))[0]
    assert (entry.action, entry.target, entry.outcome, entry.detail) == (
        "watchlist file", str(file), "ok", edit.change,
    )  # fmt: skip
    assert await live.refresh() is False  # seen once, stored once
    assert len(await documents(store)) == 2 and len(process.applied) == 2


async def test_a_broken_file_is_rejected_logged_once_audited_and_the_version_stays(
    store: Store, folder: Path, file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    process = await Process(store, folder).start()
    live, first = process.live, process.live.matcher

    write(file, BROKEN)
    assert await live.refresh() is False
    write(file, BROKEN)  # saved again, unchanged: the same problem
    assert await live.refresh() is False
    write(file, BROKEN + "\n")  # saved again with the same problem
    assert await live.refresh() is False

    assert (live.version, live.matcher) == (1, first) and process.applied == [first]
    assert await documents(store) == [TEXT]
    [logged] = errors_logged(caplog)
    assert logged.startswith(f"{file} changed but is not a valid watchlist; keeping watchlist v1:")
    assert '"#2e86d" is not a colour' in logged
    [invalid] = [e for e in await audit_log(store) if e.outcome == "invalid"]
    assert (invalid.platform, invalid.action, invalid.target) == (
        "file",
        "watchlist file",
        str(file),
    )
    assert 'themes[0].colour: "#2e86d" is not a colour' in invalid.detail

    write(file, EDITED)  # fixed
    assert await live.refresh() is True and live.version == 2
    assert await documents(store) == [TEXT, EDITED]


async def test_the_same_breakage_after_a_good_version_is_reported_again(
    store: Store, folder: Path, file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Once a good file is in force, breaking it again is news: it is logged and audited."""
    live = (await Process(store, folder).start()).live
    write(file, BROKEN)
    await live.refresh()
    write(file, EDITED)
    await live.refresh()

    write(file, BROKEN)
    assert await live.refresh() is False

    assert live.version == 2
    assert len(errors_logged(caplog)) == 2
    assert len([e for e in await audit_log(store) if e.outcome == "invalid"]) == 2


async def test_a_folder_with_two_files_is_logged_once_and_the_version_stays(
    store: Store, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = (await Process(store, folder).start()).live
    (folder / "extra.toml").write_text(TEXT, encoding="utf-8")

    assert [await live.refresh() for _ in range(3)] == [False, False, False]

    [logged] = errors_logged(caplog)
    assert "holds 2 watchlist files (extra.toml, nkru.toml)" in logged
    assert live.version == 1 and await documents(store) == [TEXT]


async def test_an_older_file_does_not_undo_a_chat_edit(
    store: Store, folder: Path, file: Path
) -> None:
    process = await Process(store, folder).start()
    await process.editor.edit(ANA, partial(add_terms, slug="troops", terms=["Rason"]))
    assert process.live.version == 2  # this process's own edit applies at once

    write(file, TEXT)  # touched, same text as v1
    assert await process.live.refresh() is False
    restarted = await Process(store, folder).start()  # the next start reads the old file

    assert process.live.version == restarted.live.version == 2
    assert len(await documents(store)) == 2
    assert "troops" in themes_of(
        restarted.live.matcher, "North Korea and Russia ship workers via Rason"
    )


async def test_a_stored_version_that_does_not_load_is_not_adopted(
    store: Store, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """E.g. written by a newer release: this process keeps the version it has."""
    live = (await Process(store, folder).start()).live
    async with store.transaction() as conn:
        bad = NewVersion("nkru", BROKEN, BORIS, "from elsewhere", "import")
        await conn.versions.insert_version(bad, datetime.now(UTC))

    assert await live.refresh() is False
    assert await live.refresh() is False

    assert live.version == 1 and live.matcher is not None
    [logged] = errors_logged(caplog)
    assert logged.startswith("the newest stored watchlist cannot be loaded; keeping watchlist v1")


@pytest.fixture
async def two_stores(store_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two engines on one database: two processes (migrated once, by the first)."""
    first = await Store.open(store_url)
    second = await Store.open(store_url, migrate=False)
    yield first, second
    await first.close()
    await second.close()


async def test_an_edit_in_one_process_is_adopted_by_the_other_on_its_next_refresh(
    two_stores: tuple[Store, Store], folder: Path
) -> None:
    first, second = two_stores
    a = await Process(first, folder).start()
    b = await Process(second, folder).start()  # same file, already stored: no new version
    assert (a.live.version, b.live.version) == (1, 1) and len(await documents(first)) == 1

    saved = await a.editor.edit(
        ANA, partial(add_terms, slug="tumen-bridge", terms=["pontoon crossing"])
    )

    assert saved.info.version == 2 and a.live.version == 2  # at once where it was made
    assert b.live.version == 1 and "tumen-bridge" not in themes_of(b.live.matcher, PONTOON.title)
    assert await b.live.refresh() is True
    assert b.live.version == 2
    assert themes_of(b.applied[-1], PONTOON.title) == {"tumen-bridge"}
    assert await a.live.refresh() is False  # its own version: nothing to do

    await b.editor.edit(BORIS, partial(add_terms, slug="troops", terms=["Rason"]))
    assert await a.live.refresh() is True and a.live.version == 3
    assert "troops" in themes_of(a.live.matcher, "North Korea and Russia ship workers via Rason")
    assert await documents(first) == await documents(second)
    assert len(await documents(first)) == 3


async def test_a_file_both_processes_watch_is_stored_once(
    two_stores: tuple[Store, Store], folder: Path, file: Path
) -> None:
    first, second = two_stores
    a = await Process(first, folder).start()
    b = await Process(second, folder).start()

    write(file, EDITED)
    assert await a.live.refresh() is True
    assert await b.live.refresh() is True  # adopts v2; the file is no new version to it

    assert (a.live.version, b.live.version) == (2, 2)
    assert await documents(second) == [TEXT, EDITED]
    assert len([e for e in await audit_log(first) if e.action == "watchlist file"]) == 1
