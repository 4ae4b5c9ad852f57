"""`/nkru watch …` and `/nkru audit` through the real CommandService, on both backends.

The watchlist is the default one, seeded from a copy of `watchlists/nkru.toml` by a started
LiveWatchlist (as `open_runtime` does); admins and members are told apart by the real
AdminPolicy; every change is checked in the stored documents and the audit log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.core.commands.model import Caller, Invocation, Reply, ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.registry import UsageError
from bot.core.commands.service import CommandService
from bot.core.commands.watch import split_quoted
from bot.core.records import AuditEntry
from bot.core.routing import Route
from bot.core.watchlist import load_watchlists
from bot.core.watchlist_editing import LiveWatchlist, WatchlistEditor
from bot.core.watchlist_editing.document import add_terms
from bot.core.watchlist_editing.files import WatchedFile
from storage.engine import Store
from tests.core.commands.conftest import Clock
from tests.watchlist_editing.harness import WATCHLIST, documents, watchlist_folder

CHANNEL = "slack:C0123"
BOSS = Caller("slack", "U0BOSS", "boss")
MEMBER = Caller("slack", "U0MEMBER", "member")
DORA = Caller("discord", "900", "Dora", roles=frozenset({"77"}))  # an admin by role
DAN = Caller("discord", "901", "Dan", roles=frozenset({"78"}))  # not an admin
POLICY = AdminPolicy(slack_user_ids=frozenset({"U0BOSS"}), discord_role_ids=frozenset({"77"}))
TEXT = WATCHLIST.read_text(encoding="utf-8")
REFUSED = "Refused: the watchlist would not be valid"
# Matches no theme until an admin adds "pontoon crossing" to tumen-bridge.
PONTOON = "Russia and North Korea open pontoon crossing"
TROOPS = "North Korean troops deployed to Russia's Kursk region"


@dataclass
class Desk:
    """A CommandService wired to a live watchlist the way `open_runtime` wires it."""

    store: Store
    live: LiveWatchlist
    service: CommandService

    async def run(self, text: str, caller: Caller = BOSS, destination: str = CHANNEL) -> Reply:
        """`/nkru <text>` as Slack passes it (free text)."""
        return await self.service.handle(Invocation.from_text(caller, destination, text))

    async def call(self, *args: str, caller: Caller = DORA) -> Reply:
        """`/nkru watch <args>` as Discord passes it (typed options)."""
        return await self.service.handle(Invocation(caller, "discord:1", "watch", args))

    async def audit(self) -> list[AuditEntry]:
        """The audit log, newest first."""
        async with self.store.transaction() as conn:
            return await conn.audit.recent(100)

    async def state(self) -> tuple[int | None, int | None, list[str]]:
        """What must not move when a change is refused: stored and live version, documents."""
        return (
            await self.live.editor.latest_number(),
            self.live.version,
            await documents(self.store),
        )


async def open_desk(store: Store, folder: Path | None, *routes: Route) -> Desk:
    clock = Clock()
    routed = frozenset(t for route in routes for t in route.themes or ())
    editor = WatchlistEditor(store, clock, routed_themes=routed)
    live = LiveWatchlist(editor, WatchedFile(folder) if folder else None)
    if folder is not None:
        await live.start()

    def catalog() -> ThemeCatalog:
        return live.matcher.catalog() if live.matcher else ThemeCatalog()

    service = CommandService(store, catalog, routes, clock, admin=POLICY, services=[editor, live])
    return Desk(store, live, service)


@pytest.fixture
async def desk(store: Store, tmp_path: Path) -> Desk:
    """The default watchlist stored as v1; a route follows `troops` (so it cannot go)."""
    return await open_desk(store, watchlist_folder(tmp_path), Route(CHANNEL, frozenset({"troops"})))


def latest_entry(entries: list[AuditEntry]) -> tuple[str, str, str, str, str, str, str]:
    entry = entries[0]
    return (
        entry.platform, entry.user_id, entry.destination, entry.action, entry.target,
        entry.outcome, entry.detail,
    )  # fmt: skip


# --- split_quoted and the parsers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('troops "pontoon crossing" Rason', ["troops", "pontoon crossing", "Rason"]),
        ("“Tumannaya River” «Туманная   река»", ["Tumannaya River", "Туманная река"]),
        ("„Khasan station“ 두만강", ["Khasan station", "두만강"]),
        ('  spaced   "  out   words "  ', ["spaced", "out words"]),
        ("Kim's troops", ["Kim's", "troops"]),  # an apostrophe is not a quote
        ('"Storm Corps"', ["Storm Corps"]),
        ('""', [""]),
        ("", []),
    ],
)
def test_split_quoted_keeps_quoted_runs_together(text: str, words: list[str]) -> None:
    assert split_quoted(text) == words


@pytest.mark.parametrize("text", ['troops "pontoon crossing', '«Tumen» "bridge', "„one"])
def test_split_quoted_refuses_an_unclosed_quote(text: str) -> None:
    with pytest.raises(UsageError, match="a quote is not closed"):
        split_quoted(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ('troops foo"bar baz"', 'foo"bar'),
        ('"a b"c', '"a'),
        ('O"Neil"', 'O"Neil"'),
        ("«a»«b»", "«a»«b»"),
    ],
)
def test_split_quoted_refuses_a_quote_inside_a_word(text: str, word: str) -> None:
    # Guessing would store a term with a stray quote in it, or split one the admin meant whole.
    with pytest.raises(UsageError, match=f"a quote inside '{re.escape(word)}'"):
        split_quoted(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("watch frob", "unknown watch command 'frob'"),
        ('watch add troops foo"bar baz"', "a quote inside 'foo\"bar'"),
        ("watch show", "watch show needs one theme"),
        ("watch show troops summits", "watch show needs one theme"),
        ("watch list troops summits", "watch list takes at most one theme"),
        ("watch add troops", "watch add needs a theme and at least one term"),
        ('watch add troops ""', "watch add needs a theme and at least one term"),
        ("watch remove", "watch remove needs a theme and at least one term"),
        ('watch exclude troops "Kursk', "a quote is not closed"),
        ("watch new kaesong", "watch new needs a slug and a title"),
        ("watch test", "watch test needs text"),
        ("watch test |", "watch test needs text"),
        ("watch undo last", "watch undo takes at most a version number"),
        ("watch undo 2 3", "watch undo takes at most a version number"),
        ("audit 0", "give how many entries to show, 1 to 100"),
        ("audit 101", "give how many entries to show, 1 to 100"),
        ("audit five", "give how many entries to show, 1 to 100"),
    ],
)
async def test_usage_mistakes_get_an_ephemeral_line_and_change_nothing(
    desk: Desk, text: str, message: str
) -> None:
    before = await desk.state()

    reply = await desk.run(text)

    assert reply.ephemeral and reply.error
    assert reply.title.startswith(message), reply.title
    assert await desk.state() == before
    assert [e.action for e in await desk.audit()] == ["watchlist seed"]  # nothing audited


# --- what anyone may do --------------------------------------------------------------------


async def test_list_shows_every_theme_then_one_themes_terms(desk: Desk) -> None:
    [watchlist] = load_watchlists(WATCHLIST)
    bare, listed = await desk.run("watch", caller=MEMBER), await desk.run("watch list", MEMBER)

    assert bare == listed
    assert listed.ephemeral and not listed.error
    assert listed.title == "Watchlist v1: 8 themes"
    assert [line.split(" ", 1)[0] for line in listed.lines] == [t.slug for t in watchlist.themes]
    assert listed.lines[0] == (
        "tumen-bridge (Tumen River bridge): 41 terms, 10 exclusions; needs North Korea and Russia"
    )
    terms = await desk.run("watch list TUMEN-BRIDGE", MEMBER)  # slugs are case-blind
    [tumen] = [t for t in watchlist.themes if t.slug == "tumen-bridge"]
    assert terms.title == "tumen-bridge: terms"
    assert len(terms.lines) == len(tumen.terms) + len(tumen.exclude) == 51
    assert terms.lines[0] == 'term "Tumen" (word, ×1.2)'
    assert 'term "Tumangang" (word, fuzzy)' in terms.lines
    assert 'exclude "Yalu" (word)' in terms.lines
    assert all(line.startswith("exclude ") for line in terms.lines[len(tumen.terms) :])


async def test_show_says_what_decides_a_match(desk: Desk) -> None:
    reply = await desk.run("watch show tumen-bridge", MEMBER)

    assert reply.ephemeral and reply.title == "Tumen River bridge (watchlist v1)"
    assert reply.lines[0] == "tumen-bridge: Tumen River bridge"
    assert reply.lines[1].startswith("The Russia–North Korea road bridge")
    assert reply.lines[2] == "colour #2e86de"
    assert reply.lines[3].startswith("matches when: context has North Korea and Russia; ")
    assert "score ≥ 1.3" in reply.lines[3]
    assert reply.lines[4].startswith('context North Korea: "North Korea", "North Korean"')
    assert reply.lines[4].endswith(" more")
    assert reply.lines[5].startswith('context Russia: "Russia"')
    assert reply.lines[6] == 'term "Tumen" (word, ×1.2)'

    unknown = await desk.run("watch show tumen", MEMBER)
    assert unknown.ephemeral and unknown.error and unknown.title == "unknown theme 'tumen'"
    assert unknown.lines == (
        "themes: tumen-bridge, arms-transfers, troops, un-veto, sanctions-evasion, summits, "
        "energy-trade, military-tech",
    )


def _nkru_match(title: str, summary: str, folder: Path) -> dict[str, object]:
    """What `nkru match` says about one article (the typer app, in process)."""
    line = json.dumps({"id": "a1", "title": title, "summary": summary}) + "\n"
    result = CliRunner().invoke(app, ["match", "--watchlist", str(folder), "-"], input=line)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


async def test_test_explains_like_nkru_match(desk: Desk, tmp_path: Path) -> None:
    title = "Russia and North Korea open Tumen road bridge"
    summary = "Trucks crossed from Khasan."

    reply = await desk.run(f"watch test {title} | {summary}", MEMBER)

    expected = _nkru_match(title, summary, tmp_path / "watchlists")
    assert expected["themes"] == ["tumen-bridge"]
    assert reply.ephemeral and reply.title == "1 theme match (watchlist v1)"
    why = expected["why"]["tumen-bridge"]  # type: ignore[index]
    head, *details = reply.lines
    assert head == (
        f"tumen-bridge (Tumen River bridge): score {why['score']:g} (needs {why['min_score']:g})"
    )
    hits = [
        f'  • "{hit["term"]}" found as "{hit["matched"]}" in the {hit["field"]} (exact): '
        f"{hit['points']:g} points"
        for hit in why["hits"]
    ]
    context = [f'  • context {group}: "{found}"' for group, found in why["context"].items()]
    assert details == hits + context
    assert '  • "Khasan" found as "Khasan" in the summary (exact): 0.4 points' in details


async def test_test_lists_several_themes_best_first_and_says_when_none_match(
    desk: Desk, tmp_path: Path
) -> None:
    title = "Russian tanker delivers oil to North Korea in breach of UN sanctions cap"
    reply = await desk.run(f"watch test {title}", MEMBER)

    expected = _nkru_match(title, "", tmp_path / "watchlists")
    themes = expected["themes"]
    assert isinstance(themes, list) and len(themes) >= 2
    assert reply.title == f"{len(themes)} themes match (watchlist v1)"
    assert [line.split(" ", 1)[0] for line in reply.lines if not line.startswith(" ")] == themes

    none = await desk.run("watch test Heavy snow cuts roads in Hokkaido", MEMBER)
    assert none.ephemeral and not none.error and none.title == "No theme matches (watchlist v1)"
    assert "context group" in none.lines[0]


async def test_history_lists_versions_newest_first_and_by_theme(desk: Desk) -> None:
    first = await desk.run("watch history", MEMBER)
    assert first.ephemeral and first.title == "Watchlist history, newest first"
    assert first.lines == (
        "v1 (in force) · 2026-11-20 12:00 UTC · file (file, seed): "
        "seed nkru.toml: 8 themes, 1399 terms",
    )
    assert first.footer == "Go back with /nkru watch undo [version] (admins)"

    await desk.run("watch add troops Rason")
    await desk.run('watch add tumen-bridge "pontoon crossing"')
    await desk.run("watch exclude troops Mongolia")

    everything = await desk.run("watch history", MEMBER)
    assert [line.split(" ", 1)[0] for line in everything.lines] == ["v4", "v3", "v2", "v1"]
    troops = await desk.run("watch history troops", MEMBER)
    assert troops.title == "Watchlist history of troops, newest first"
    assert troops.lines == (
        "v4 (in force) · 2026-11-20 12:00 UTC · boss (slack, chat): "
        '+ exclude "Mongolia" (word) in troops',
        'v2 · 2026-11-20 12:00 UTC · boss (slack, chat): + term "Rason" (word) in troops',
    )
    quiet = await desk.run("watch history summits", MEMBER)
    assert quiet.ephemeral and quiet.title == "No changes of summits stored" and not quiet.lines


async def test_no_stored_watchlist_is_said_plainly(store: Store) -> None:
    desk = await open_desk(store, None)  # nothing seeded

    for text in ("watch list", "watch show troops", "watch test Tumen bridge", "watch undo"):
        reply = await desk.run(text)
        assert reply.ephemeral and reply.error and reply.title == "No watchlist yet", text
        assert "nkru watchlist import FILE" in reply.lines[0]
    history = await desk.run("watch history")
    assert history.title == "No changes stored"
    assert await desk.live.editor.latest_number() is None


# --- admin changes -------------------------------------------------------------------------


async def test_add_posts_the_diff_audits_it_and_applies_at_once(desk: Desk) -> None:
    before = await desk.run(f"watch test {PONTOON}", MEMBER)
    assert before.title == "No theme matches (watchlist v1)"

    reply = await desk.run('watch add tumen-bridge "pontoon  crossing" Rason')

    assert not reply.ephemeral and not reply.error  # the channel sees who changed what
    assert reply.title == "Watchlist v2 by boss"
    assert reply.lines == (
        '+ term "pontoon crossing" (word) in tumen-bridge',
        '+ term "Rason" (word) in tumen-bridge',
    )
    assert reply.footer == "/nkru watch undo reverts it (admins)"
    docs = await documents(desk.store)
    assert docs == [TEXT, add_terms(TEXT, "tumen-bridge", ["pontoon crossing", "Rason"])]
    kept = [line for line in TEXT.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in docs[1].splitlines() if line.lstrip().startswith("#")] == kept
    assert latest_entry(await desk.audit()) == (
        "slack", "U0BOSS", CHANNEL, "watch add", "tumen-bridge", "ok",
        '+ term "pontoon crossing" (word) in tumen-bridge; + term "Rason" (word) in tumen-bridge',
    )  # fmt: skip
    assert desk.live.version == 2
    after = await desk.run(f"watch test {PONTOON}", MEMBER)
    assert after.title == "1 theme match (watchlist v2)"
    assert after.lines[0].startswith("tumen-bridge (Tumen River bridge): score ")


async def test_typed_discord_options_edit_the_same_way(desk: Desk) -> None:
    reply = await desk.call("add", 'tumen-bridge "pontoon crossing"')

    assert reply.title == "Watchlist v2 by Dora"
    assert reply.lines == ('+ term "pontoon crossing" (word) in tumen-bridge',)
    [info, _] = await desk.live.editor.history()
    assert (info.author.platform, info.author.user_id, info.source) == ("discord", "900", "chat")
    assert latest_entry(await desk.audit())[:6] == (
        "discord", "900", "discord:1", "watch add", "tumen-bridge", "ok",
    )  # fmt: skip


async def test_exclude_then_remove_a_term_and_an_exclusion(desk: Desk) -> None:
    assert (await desk.run(f"watch test {TROOPS}", MEMBER)).lines[0].startswith("troops ")

    excluded = await desk.run('watch exclude troops "Kursk region" Mongolia')

    assert excluded.title == "Watchlist v2 by boss"
    assert excluded.lines == (
        '+ exclude "Kursk region" (word) in troops',
        '+ exclude "Mongolia" (word) in troops',
    )
    silent = await desk.run(f"watch test {TROOPS}", MEMBER)
    assert not any(line.startswith("troops ") for line in silent.lines)

    removed = await desk.run("watch remove troops kursk mongolia")  # case need not match

    assert removed.title == "Watchlist v3 by boss"
    assert removed.lines == (
        '− term "Kursk" (word, ×0.5) from troops',
        '− exclude "Mongolia" (word) from troops',
    )
    actions = [(e.action, e.target, e.outcome) for e in await desk.audit()]
    assert actions[:2] == [("watch remove", "troops", "ok"), ("watch exclude", "troops", "ok")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("watch add troops Kursk", 'troops already has the term "Kursk"'),
        ("watch exclude tumen-bridge yalu", 'tumen-bridge already has the exclusion "yalu"'),
        ("watch remove troops Nowhere", 'troops has no term or exclusion "Nowhere"'),
        ("watch add tumen Rason", "unknown theme 'tumen'"),
        ("watch new Kaesong_Zone Kaesong", "'kaesong_zone' is not a slug"),
        ("watch new troops Troops", "there is already a theme 'troops'"),
        ("watch delete kaesong", "unknown theme 'kaesong'"),
    ],
)
async def test_edits_that_cannot_be_made_say_why_and_store_nothing(
    desk: Desk, text: str, message: str
) -> None:
    before = await desk.state()

    reply = await desk.run(text)

    assert reply.ephemeral and reply.error and reply.title.startswith(message), reply.title
    assert await desk.state() == before
    entry = (await desk.audit())[0]  # an admin's attempt is on record even when it fails
    action = " ".join(text.split()[:2])
    assert (entry.user_id, entry.outcome, entry.action) == ("U0BOSS", "failed", action)
    assert entry.detail.startswith(message)


async def test_new_theme_then_delete_it_gets_back_the_same_document(desk: Desk) -> None:
    created = await desk.run('watch new kaesong "Kaesong industrial zone"')

    assert created.title == "Watchlist v2 by boss"
    assert created.lines == ('+ theme kaesong "Kaesong industrial zone" (1 term)',)
    assert "kaesong" in desk.live.slugs
    shown = await desk.run("watch show kaesong", MEMBER)
    # The context every theme requires (un-veto needs the UN instead of Russia).
    assert shown.lines[2].startswith("matches when: context has North Korea; no exclusion; ")
    assert shown.lines[-1] == 'term "Kaesong industrial zone" (word, fuzzy)'
    assert (await desk.run("latest kaesong", MEMBER)).error is False  # the catalog knows it
    match = await desk.run("watch test North Korea and Russia reopen Kaesong industrial zone")
    assert match.lines[0].startswith("kaesong (Kaesong industrial zone): score ")

    deleted = await desk.run("watch delete kaesong")

    assert deleted.title == "Watchlist v3 by boss" and deleted.lines == ("− theme kaesong",)
    docs = await documents(desk.store)
    assert docs[2] == docs[0] == TEXT
    assert "kaesong" not in desk.live.slugs
    assert (await desk.run("latest kaesong", MEMBER)).title == "unknown theme 'kaesong'"
    assert [(e.action, e.target) for e in (await desk.audit())[:2]] == [
        ("watch delete", "kaesong"),
        ("watch new", "kaesong"),
    ]


@pytest.mark.parametrize(
    ("text", "action", "problem"),
    [
        ("watch add troops ...", "watch add", "'...' has no letters or digits"),
        ('watch new kaesong "!!"', "watch new", "'!!' has no letters or digits"),
        ("watch delete troops", "watch delete", "NKRU_ROUTES follows troops, which this change"),
    ],
)
async def test_an_invalid_edit_is_refused_with_the_problem_audited_and_not_stored(
    desk: Desk, text: str, action: str, problem: str
) -> None:
    before = await desk.state()

    reply = await desk.run(text)

    assert reply.ephemeral and reply.error and reply.title == REFUSED
    assert len(reply.lines) == 1 and problem in reply.lines[0], reply.lines
    assert reply.lines[0].startswith("nkru.toml")  # where the problem is
    assert await desk.state() == before
    entry = (await desk.audit())[0]
    assert (entry.user_id, entry.outcome, entry.action) == ("U0BOSS", "invalid", action)
    assert problem in entry.detail


ADMIN_ONLY = [
    ("watch add tumen-bridge Rason", "watch add", "tumen-bridge"),
    ("watch exclude troops Mongolia", "watch exclude", "troops"),
    ("watch remove troops Kursk", "watch remove", "troops"),
    ('watch new kaesong "Kaesong zone"', "watch new", "kaesong"),
    ("watch delete summits", "watch delete", "summits"),
    ("watch add troops ...", "watch add", "troops"),  # refused before it is validated
    ("watch undo", "watch undo", "previous version"),
    ("watch undo 1", "watch undo", "v1"),
]


@pytest.mark.parametrize(("text", "action", "target"), ADMIN_ONLY)
@pytest.mark.parametrize("caller", [MEMBER, DAN], ids=["slack-member", "discord-member"])
async def test_a_member_is_refused_ephemerally_audited_and_nothing_changes(
    desk: Desk, caller: Caller, text: str, action: str, target: str
) -> None:
    await desk.run("watch add troops Rason")  # v2, so an undo would have work to do
    before = await desk.state()

    reply = await desk.run(text, caller, destination="discord:1" if caller is DAN else CHANNEL)

    assert reply.ephemeral and reply.error and reply.title == "Not allowed"
    assert reply.lines[0].startswith(f"Only admins can {action}.")
    assert await desk.state() == before
    assert before[:2] == (2, 2)
    entry = (await desk.audit())[0]
    assert (entry.user_id, entry.action, entry.target, entry.outcome, entry.detail) == (
        caller.user_id, action, target, "refused", "not an admin",
    )  # fmt: skip


async def test_undo_restores_earlier_versions_exactly(desk: Desk) -> None:
    nothing = await desk.run("watch undo")
    assert nothing.error and nothing.title == "nothing to undo: v1 is the first version"

    await desk.run('watch add troops Rason "sappers corps"')  # v2
    await desk.run("watch delete summits")  # v3
    undone = await desk.run("watch undo")  # v4 = v2

    assert not undone.ephemeral and undone.title == "Watchlist v4 by boss"
    assert undone.lines == ('+ theme summits "Summits and treaties" (94 terms)',)
    docs = await documents(desk.store)
    assert docs[3] == docs[1] and docs[1] != docs[0]
    assert "summits" in desk.live.slugs

    back = await desk.call("undo", "v1")  # v5 = v1, by a Discord admin
    assert back.title == "Watchlist v5 by Dora"
    assert back.lines == (
        '− term "Rason" (word) from troops',
        '− term "sappers corps" (word) from troops',
    )
    docs = await documents(desk.store)
    assert docs[4] == docs[0] == TEXT  # byte for byte, comments included
    assert desk.live.version == 5
    [v5, v4, *_] = await desk.live.editor.history()
    assert (v5.source, v5.change) == (
        "undo",
        'undo to v1: − term "Rason" (word) from troops; − term "sappers corps" (word) from troops',
    )
    assert (v4.source, v4.change) == (
        "undo",
        'undo to v2: + theme summits "Summits and treaties" (94 terms)',
    )
    assert [(e.action, e.target, e.outcome) for e in (await desk.audit())[:2]] == [
        ("watch undo", "v1", "ok"),
        ("watch undo", "previous version", "ok"),
    ]

    again = await desk.run("watch undo 1")
    assert again.ephemeral and again.error
    assert again.title == "no change: the watchlist in force (v5) is exactly that"
    missing = await desk.run("watch undo 99")
    assert missing.error and missing.title == "there is no version 99"
    assert len(await documents(desk.store)) == 5


# --- /nkru audit ---------------------------------------------------------------------------


async def test_audit_is_for_admins_and_lists_the_actions_newest_first(desk: Desk) -> None:
    await desk.run("watch add troops Rason")
    await desk.run("watch add troops ...")
    await desk.run("watch delete summits", MEMBER)

    refused = await desk.run("audit", MEMBER)

    assert refused.ephemeral and refused.error and refused.title == "Not allowed"
    assert refused.lines[0].startswith("Only admins can audit.")
    log = await desk.run("audit 4")
    assert log.ephemeral and not log.error and log.title == "Audit log: the latest 4"
    assert log.lines == (
        "2026-11-20 12:00 UTC · member (slack, slack:C0123) · audit last 20 · "
        "refused: not an admin",
        "2026-11-20 12:00 UTC · member (slack, slack:C0123) · watch delete summits · "
        "refused: not an admin",
        "2026-11-20 12:00 UTC · boss (slack, slack:C0123) · watch add troops · invalid: "
        "nkru.toml:336: themes[2].terms[89]: '...' has no letters or digits — give a word to "
        "look for",
        '2026-11-20 12:00 UTC · boss (slack, slack:C0123) · watch add troops · ok: + term "Rason"'
        " (word) in troops",
    )
    everything = await desk.run("audit")
    assert everything.title == "Audit log: the latest 5"
    assert everything.lines[-1].startswith("2026-11-20 12:00 UTC · file (file) · watchlist seed ")
    assert everything.lines[-1].endswith("nkru.toml · ok: seed nkru.toml: 8 themes, 1399 terms")


async def test_audit_of_an_empty_log(store: Store) -> None:
    desk = await open_desk(store, None)

    reply = await desk.run("audit")

    assert reply.lines == ("No admin actions recorded yet.",) and reply.ephemeral
