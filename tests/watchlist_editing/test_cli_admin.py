"""`nkru watchlist export|import` and `nkru audit`: the real `nkru` commands (in process, see
tests.test_cli.Nkru), one SQLite database shared with this test (which also makes chat edits
through the real CommandService)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.commands.model import Invocation, Reply, ThemeCatalog
from bot.core.commands.service import CommandService
from bot.core.poll.pipeline import utcnow
from bot.core.watchlist_editing import LiveWatchlist, WatchlistEditor
from bot.core.watchlist_editing.document import add_terms, delete_theme
from bot.settings import normalize_database_url
from storage.engine import Store
from tests.test_cli import Nkru, Result, error_line, nkru_in
from tests.watchlist_editing.harness import ADMIN, MEMBER, POLICY, WATCHLIST, documents

TEXT = WATCHLIST.read_text(encoding="utf-8")
# An operator's edit: a term with a comment of its own, and a new comment line elsewhere.
EDITED = add_terms(TEXT, "troops", ["Rason"]).replace(
    '  "Rason",\n', '  "Rason",  # workers shipped through the port\n', 1
)
BROKEN = TEXT.replace('colour = "#2e86de"', 'colour = "#2e86d"', 1)
BROKEN_LINE = BROKEN[: BROKEN.index('"#2e86d"')].count("\n") + 1  # wherever the theme is


@pytest.fixture
def nkru(tmp_path: Path) -> Nkru:
    """`nkru` with its own SQLite database and the default watchlist (seeded on first start)."""
    return nkru_in(tmp_path, 'url = "http://127.0.0.1:9/wire.xml"', columns=250)


def ok(result: Result) -> str:
    """The output of a command that succeeded."""
    assert result.code == 0, result
    return result.out


async def stored(nkru: Nkru) -> list[str]:
    """Every stored version's document, oldest first (read by this test, in process)."""
    store = await Store.open(normalize_database_url(nkru.env["NKRU_DATABASE_URL"]))
    try:
        return await documents(store)
    finally:
        await store.close()


async def test_export_edit_import_round_trip_keeps_every_comment(
    nkru: Nkru, tmp_path: Path
) -> None:
    nothing = await nkru("watchlist", "export")
    assert error_line(nothing).startswith("error: no watchlist is stored yet")
    ok(await nkru("latest"))  # the first start stores NKRU_WATCHLISTS as v1

    assert ok(await nkru("watchlist", "export")) == TEXT
    out = tmp_path / "out.toml"
    wrote = ok(await nkru("watchlist", "export", "--to", str(out)))
    assert " ".join(wrote.split()) == f"wrote watchlist v1 to {out}"
    assert out.read_text(encoding="utf-8") == TEXT

    out.write_text(EDITED, encoding="utf-8")
    imported = ok(await nkru("watchlist", "import", str(out)))

    assert (
        imported.strip() == 'stored watchlist v2: import out.toml: + term "Rason" (word) in troops'
    )
    assert ok(await nkru("watchlist", "export")) == EDITED  # byte for byte, comments included
    assert ok(await nkru("watchlist", "export", "--version", "1")) == TEXT
    assert await stored(nkru) == [TEXT, EDITED]

    again = ok(await nkru("watchlist", "import", str(out)))
    assert " ".join(again.split()) == f"unchanged: {out} is the watchlist in force"
    assert len(await stored(nkru)) == 2
    missing = await nkru("watchlist", "export", "--version", "3")
    assert error_line(missing) == "error: there is no version 3"

    commented = EDITED.replace("[watchlist]\n", "# reviewed by the desk\n[watchlist]\n", 1)
    out.write_text(commented, encoding="utf-8")
    layout = ok(await nkru("watchlist", "import", str(out)))
    assert layout.strip() == "stored watchlist v3: import out.toml: ~ comments or layout only"
    assert ok(await nkru("watchlist", "export")) == commented


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BROKEN, f':{BROKEN_LINE}: themes[0].colour: "#2e86d" is not a colour — use "#rrggbb"'),
        (TEXT.replace("[watchlist]", "[watchlist", 1), ":34: TOML syntax error: Expected ']'"),
    ],
    ids=["invalid-colour", "not-toml"],
)
async def test_importing_a_broken_file_is_one_line_and_stores_nothing(
    nkru: Nkru, tmp_path: Path, text: str, problem: str
) -> None:
    ok(await nkru("latest"))
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")

    result = await nkru("watchlist", "import", str(broken))

    line = error_line(result)
    assert line.startswith(f"error: {broken}{problem}"), line
    assert result.out == ""
    assert await stored(nkru) == [TEXT]
    assert ok(await nkru("watchlist", "export")) == TEXT


async def test_an_import_that_drops_a_routed_theme_is_refused(nkru: Nkru, tmp_path: Path) -> None:
    routes = '[{"destination": "console", "themes": ["summits"]}]'
    ok(await nkru("latest", NKRU_ROUTES=routes))
    exported = tmp_path / "mine.toml"
    ok(await nkru("watchlist", "export", "--to", str(exported)))
    exported.write_text(delete_theme(TEXT, "summits"), encoding="utf-8")

    result = await nkru("watchlist", "import", str(exported), NKRU_ROUTES=routes)

    assert error_line(result).startswith(
        "error: nkru.toml: NKRU_ROUTES follows summits, which this change removes"
    )
    assert await stored(nkru) == [TEXT]


async def test_a_missing_file_is_one_line(nkru: Nkru, tmp_path: Path) -> None:
    result = await nkru("watchlist", "import", str(tmp_path / "none.toml"))

    assert error_line(result).startswith(f"error: {tmp_path / 'none.toml'}: cannot read")


def rows(table: str) -> list[list[str]]:
    """The cells of each row of a rich table (the lines holding a │ cell border)."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in table.splitlines()
        if line.count("│") >= 6
    ]


async def chat(nkru: Nkru, *commands: tuple[str, bool]) -> list[Reply]:
    """Run `/nkru …` commands in this test, as an admin (True) or a member, on nkru's database."""
    store = await Store.open(normalize_database_url(nkru.env["NKRU_DATABASE_URL"]))
    try:
        editor = WatchlistEditor(store, utcnow)
        live = LiveWatchlist(editor, None)
        await live.start()
        service = CommandService(
            store, ThemeCatalog, (), utcnow, admin=POLICY, services=[editor, live]
        )
        return [
            await service.handle(
                Invocation.from_text(ADMIN if admin else MEMBER, "slack:C0123", text)
            )
            for text, admin in commands
        ]
    finally:
        await store.close()


async def test_audit_prints_every_action_newest_first(nkru: Nkru, tmp_path: Path) -> None:
    assert ok(await nkru("audit")).strip() == "No admin actions recorded yet."
    ok(await nkru("latest"))  # the seed
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    await nkru("watchlist", "import", str(broken))
    replies = await chat(nkru, ("watch add troops Rason", True), ("watch delete troops", False))
    assert [reply.title for reply in replies] == ["Watchlist v2 by boss", "Not allowed"]

    table = ok(await nkru("audit"))

    found = [row[1:6] for row in rows(table) if row[0]]  # who, where, action, target, outcome
    assert found == [
        ["member", "slack slack:C0123", "watch delete", "troops", "refused"],
        ["boss", "slack slack:C0123", "watch add", "troops", "ok"],
        [found[2][0], "cli", "watchlist import", str(broken), "invalid"],
        ["file", "file", "watchlist seed", found[3][3], "ok"],
    ]
    assert found[2][0] != "" and found[3][3].endswith("nkru.toml")
    assert re.search(r"│ 20\d\d-\d\d-\d\d \d\d:\d\d │ member ", table)  # when, in UTC
    assert "not an admin" in table and '"#2e86d" is not a colour' in " ".join(table.split())

    newest = ok(await nkru("audit", "-n", "1"))
    assert [row[3] for row in rows(newest) if row[0]] == ["watch delete"]
    bad = await nkru("audit", "-n", "0")
    assert bad.code == 2 and "Invalid value for '-n'" in bad.err


async def test_show_prints_the_version_in_force_not_the_seed_file(
    nkru: Nkru, tmp_path: Path
) -> None:
    before = await nkru("watchlist", "show", "--theme", "troops")
    assert before.code == 0, before
    assert "no watchlist version is stored yet" in before.err and "Zaisan" not in before.out
    edited = tmp_path / "edited.toml"
    edited.write_text(add_terms(TEXT, "troops", ["Zaisan"]), encoding="utf-8")
    ok(await nkru("watchlist", "import", str(edited)))  # v1: nothing was stored before

    shown = ok(await nkru("watchlist", "show", "--theme", "troops"))
    seed = ok(await nkru("watchlist", "show", str(WATCHLIST), "--theme", "troops"))

    assert shown.startswith("watchlist v1 in force: import edited.toml") and "Zaisan" in shown
    assert "Zaisan" not in seed  # a path still shows that file
