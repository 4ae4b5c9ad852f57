"""`/nkru watch …` and `/nkru audit` typed in Slack: signed slash commands into the real Bolt app.

The watchlist is the default one, stored as version 1 the way the bot stores it on first start
and kept live; edits go through the real WatchlistEditor. Who is an admin is decided by the
core from the caller's Slack facts: a configured user id, a configured user group (looked up
by Bolt's client in the fake's `usergroups.list`) or a workspace admin (`users.info`).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import add_slack_routes, build_slack_app
from bot.adapters.slack.callers import Lookups
from bot.adapters.slack.render import render_reply
from bot.core.commands.model import Invocation, Reply, ThemeCatalog
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.routing import Route
from bot.core.watchlist_editing import LiveWatchlist, WatchlistEditor
from bot.core.watchlist_editing.files import WatchedFile
from storage.engine import Store
from tests.adapters.slack.samples import CHANNEL, assert_inert, assert_within_limits, texts
from tests.adapters.slack.test_app import SECRET, command_form, signed
from tests.conftest import REPO_ROOT
from tests.fakes.slack_api import FakeSlackApi

Client = TestClient[web.Request, web.Application]
Json = dict[str, Any]
WATCHLIST = REPO_ROOT / "watchlists" / "nkru.toml"
ADMIN = "U0BOSS"  # NKRU_SLACK_ADMIN_USER_IDS
EDITOR = "U0EDITOR"  # a member of the configured user group
OWNER = "U0OWNER"  # a workspace owner (users.info)
MEMBER = "U0USER"  # nobody in particular
EDITORS_GROUP = "S0EDITORS"
POLICY = AdminPolicy(
    slack_user_ids=frozenset({ADMIN}),
    slack_usergroup_ids=frozenset({EDITORS_GROUP}),
    slack_workspace_admins=True,
)
# Needs a term no theme has yet: tumen-bridge matches it once "pontoon crossing" is added.
PONTOON = "Russia and North Korea open pontoon crossing"
_keys = itertools.count(1)


def watchlist_folder(root: Path) -> Path:
    """A folder holding a copy of the default watchlist (NKRU_WATCHLISTS)."""
    folder = root / "watchlists"
    folder.mkdir()
    shutil.copy(WATCHLIST, folder / "nkru.toml")
    return folder


async def open_live(store: Store, folder: Path, routed: frozenset[str]) -> LiveWatchlist:
    """The stored watchlist kept live, as `bot.service.load_matcher` builds it."""
    editor = WatchlistEditor(store, lambda: datetime.now(UTC), routed_themes=routed)
    live = LiveWatchlist(editor, WatchedFile(folder))
    await live.start()
    return live


def live_catalog(live: LiveWatchlist) -> ThemeCatalog:
    """The themes of the version in force."""
    return live.matcher.catalog() if live.matcher is not None else ThemeCatalog()


def themes_of(live: LiveWatchlist, title: str) -> set[str]:
    """The themes the version in force finds in a headline."""
    assert live.matcher is not None
    return {hit.theme for hit in live.matcher.hits(title, "")}


async def documents(store: Store) -> list[str]:
    """Every stored version's document, oldest first."""
    async with store.transaction() as conn:
        latest = await conn.versions.latest_number() or 0
        found = [await conn.versions.get(n) for n in range(1, latest + 1)]
    return [version.document for version in found if version is not None]


async def audit_outcomes(store: Store, platform: str = "slack") -> list[tuple[str, str, str, str]]:
    """(user, action, target, outcome) of the platform's audit entries, newest first."""
    async with store.transaction() as conn:
        entries = await conn.audit.recent(100)
    return [(e.user_id, e.action, e.target, e.outcome) for e in entries if e.platform == platform]


@dataclass
class Recording:
    """The command service, keeping each reply: its rendering says how many messages answer."""

    service: CommandService
    replies: list[Reply] = field(default_factory=list)

    async def handle(self, invocation: Invocation) -> Reply:
        """The service's reply, kept."""
        reply = await self.service.handle(invocation)
        self.replies.append(reply)
        return reply


@dataclass
class Served:
    """The Bolt app on loopback over the real core, and the store behind it."""

    client: Client
    slack: FakeSlackApi
    store: Store
    live: LiveWatchlist
    handler: Recording

    async def post(self, text: str, user: str, *, secret: str = SECRET) -> tuple[int, str]:
        """Post `/nkru <text>` typed by `user`; the HTTP status and the response_url key."""
        key = f"r{next(_keys)}"
        form = command_form(self.slack, text, key) | {"user_id": user, "user_name": user.lower()}
        body = urlencode(form)
        response = await self.client.post(
            "/slack/events", data=body, headers=signed(body, secret=secret)
        )
        return response.status, key

    async def answers(self, key: str) -> list[Json]:
        """Every message posted to the command's response_url (a long reply is several)."""
        await self.slack.wait_for(lambda: any(r.key == key for r in self.slack.responses))
        # The first message came after the reply was made: wait for as many as it renders to.
        expected = len(render_reply(self.handler.replies[-1], live_catalog(self.live)))
        await self.slack.wait_for(
            lambda: sum(r.key == key for r in self.slack.responses) >= expected
        )
        found = [r.body for r in self.slack.responses if r.key == key]
        assert len(found) == expected
        for body in found:
            assert_within_limits(body)
        return found

    async def slash(self, text: str, user: str) -> tuple[str, str]:
        """`/nkru <text>` by `user`: (response_type, all the text shown), one type for all."""
        status, key = await self.post(text, user)
        assert status == 200
        answers = await self.answers(key)
        [kind] = {answer["response_type"] for answer in answers}
        return kind, "\n".join(line for answer in answers for line in texts(answer["blocks"]))


@pytest.fixture
async def served(store: Store, slack: FakeSlackApi, tmp_path: Path) -> AsyncIterator[Served]:
    slack.usergroups = {EDITORS_GROUP: [EDITOR], "S0OTHERS": [MEMBER]}
    slack.users = {OWNER: {"is_owner": True}, MEMBER: {}, EDITOR: {}, ADMIN: {}}
    routes = (Route(f"slack:{CHANNEL}", frozenset({"troops"})),)  # troops must stay
    live = await open_live(store, watchlist_folder(tmp_path), frozenset({"troops"}))
    service = CommandService(
        store,
        lambda: live_catalog(live),
        routes,
        lambda: datetime.now(UTC),
        admin=POLICY,
        services=[live.editor, live],
    )
    handler = Recording(service)
    lookups = Lookups(usergroups=True, workspace_admins=True)
    bolt = build_slack_app(
        slack.bot_token, SECRET, slack.api_url, handler, lambda: live_catalog(live), lookups
    )
    web_app = web.Application()
    add_slack_routes(web_app, bolt, SECRET)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as client:
        yield Served(client, slack, store, live, handler)


@pytest.mark.parametrize("admin", [ADMIN, EDITOR, OWNER], ids=["user-id", "user-group", "owner"])
async def test_an_admin_adds_a_term_and_the_channel_sees_the_change(
    served: Served, admin: str
) -> None:
    assert "tumen-bridge" not in themes_of(served.live, PONTOON)

    kind, shown = await served.slash('watch add tumen-bridge "pontoon crossing"', admin)

    assert kind == "in_channel"
    assert f"Watchlist v2 by {admin.lower()}" in shown
    assert '+ term "pontoon crossing" (word) in tumen-bridge' in shown
    assert "/nkru watch undo reverts it (admins)" in shown
    [seed, edited] = await documents(served.store)
    assert "pontoon crossing" not in seed and '"pontoon crossing"' in edited
    assert served.live.version == 2  # in force at once in this process
    assert "tumen-bridge" in themes_of(served.live, PONTOON)
    assert (admin, "watch add", "tumen-bridge", "ok") in await audit_outcomes(served.store)


async def test_a_non_admin_is_refused_privately_and_the_watchlist_is_unchanged(
    served: Served,
) -> None:
    before = await documents(served.store)

    for text in (
        'watch add tumen-bridge "pontoon crossing"',
        "watch remove tumen-bridge Tumen",
        "watch exclude tumen-bridge Tyumen",
        "watch new kaesong Kaesong",
        "watch delete summits",
        "watch undo",
    ):
        kind, shown = await served.slash(text, MEMBER)
        action = " ".join(text.split()[:2])
        assert kind == "ephemeral", text
        assert f"Only admins can {action}." in shown, shown

    assert await documents(served.store) == before
    assert served.live.version == 1
    refused = [entry for entry in await audit_outcomes(served.store) if entry[3] == "refused"]
    assert len(refused) == 6 and {entry[0] for entry in refused} == {MEMBER}


async def test_a_forged_request_changes_nothing(served: Served) -> None:
    status, _ = await served.post("watch add tumen-bridge pontoon", ADMIN, secret="not-it")

    assert status == 401
    assert len(await documents(served.store)) == 1
    assert served.slack.responses == []


async def test_undo_restores_the_previous_version_exactly(served: Served) -> None:
    await served.slash('watch add tumen-bridge "pontoon crossing"', ADMIN)
    await served.slash("watch new kaesong Kaesong", EDITOR)

    kind, shown = await served.slash("watch undo", ADMIN)

    assert kind == "in_channel"
    assert "Watchlist v4 by u0boss" in shown and "− theme kaesong" in shown
    docs = await documents(served.store)
    assert len(docs) == 4 and docs[3] == docs[1]  # byte for byte, comments and layout included
    assert "kaesong" not in served.live.slugs and served.live.version == 4

    kind, shown = await served.slash("watch undo 1", OWNER)

    assert kind == "in_channel"
    assert '− term "pontoon crossing" (word) from tumen-bridge' in shown
    docs = await documents(served.store)
    assert docs[4] == docs[0] == WATCHLIST.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('watch add troops "..."', "'...' has no letters or digits — give a word to look for"),
        (
            "watch new kaesong! Kaesong",
            "'kaesong!' is not a slug: use lower-case words and hyphens",
        ),
        ("watch delete troops", "NKRU_ROUTES follows troops, which this change removes"),
        ("watch add nope pontoon", "unknown theme 'nope'"),
        ("watch add tumen-bridge Tumen", 'tumen-bridge already has the term "Tumen"'),
        ("watch undo 99", "there is no version 99"),
    ],
)
async def test_an_invalid_edit_is_refused_privately_with_the_reason(
    served: Served, text: str, message: str
) -> None:
    kind, shown = await served.slash(text, ADMIN)

    assert kind == "ephemeral"
    assert message in shown, shown
    assert len(await documents(served.store)) == 1 and served.live.version == 1


async def test_removing_a_themes_last_term_is_refused_and_audited_as_invalid(
    served: Served,
) -> None:
    await served.slash("watch new kaesong Kaesong", ADMIN)

    kind, shown = await served.slash("watch remove kaesong Kaesong", ADMIN)

    assert kind == "ephemeral"
    assert "Refused: the watchlist would not be valid" in shown
    assert "the list of terms is empty — add at least one term" in shown
    assert len(await documents(served.store)) == 2
    assert (ADMIN, "watch remove", "kaesong", "invalid") in await audit_outcomes(served.store)


async def test_anyone_can_list_show_test_and_read_the_history(served: Served) -> None:
    await served.slash('watch add tumen-bridge "pontoon crossing"', ADMIN)

    kind, listed = await served.slash("watch list", MEMBER)
    assert kind == "ephemeral"
    assert "Watchlist v2: 8 themes" in listed
    assert "tumen-bridge (Tumen River bridge): 42 terms, 10 exclusions" in listed

    kind, terms = await served.slash("watch list tumen-bridge", MEMBER)
    assert kind == "ephemeral" and 'term "pontoon crossing" (word)' in terms

    kind, shown = await served.slash("watch show tumen-bridge", MEMBER)
    assert kind == "ephemeral"
    assert "Tumen River bridge (watchlist v2)" in shown and "score ≥ 1.3" in shown

    kind, tested = await served.slash(f"watch test {PONTOON}", MEMBER)
    assert kind == "ephemeral"
    assert "1 theme match (watchlist v2)" in tested
    assert "tumen-bridge (Tumen River bridge): score 2 (needs 1.3)" in tested

    kind, missed = await served.slash("watch test Heavy snow in Hokkaido", MEMBER)
    assert kind == "ephemeral" and "No theme matches (watchlist v2)" in missed

    kind, history = await served.slash("watch history", MEMBER)
    assert kind == "ephemeral"
    assert "v2 (in force)" in history and "u0boss (slack, chat)" in history
    assert "v1 · " in history and "seed nkru.toml: 8 themes, 1399 terms" in history
    assert len(await documents(served.store)) == 2  # reading changed nothing


async def test_audit_is_for_admins_only(served: Served) -> None:
    await served.slash('watch add tumen-bridge "pontoon crossing"', MEMBER)  # refused
    await served.slash('watch add tumen-bridge "pontoon crossing"', ADMIN)

    kind, refused = await served.slash("audit", MEMBER)
    assert kind == "ephemeral" and "Only admins can audit." in refused

    kind, shown = await served.slash("audit 10", EDITOR)

    assert kind == "ephemeral"
    assert "Audit log: the latest 4" in shown  # seed, refused, added, refused
    lines = shown.splitlines()
    added = next(line for line in lines if "u0boss (slack, slack:C0123) · watch add" in line)
    assert added.endswith('ok: + term "pontoon crossing" (word) in tumen-bridge')
    assert any(
        "u0user (slack, slack:C0123) · watch add tumen-bridge · refused: not an admin" in line
        for line in lines
    )
    assert any("u0user (slack, slack:C0123) · audit last 20 · refused" in line for line in lines)


async def test_hostile_text_in_an_edit_pings_nobody(served: Served) -> None:
    status, key = await served.post(
        'watch new kaesong "@everyone <!channel> <@U0BOSS> *Kaesong*"', ADMIN
    )
    assert status == 200
    await served.answers(key)

    [answer] = [r for r in served.slack.responses if r.key == key]
    assert answer.body["response_type"] == "in_channel"
    assert "Watchlist v2 by u0boss" in "\n".join(texts(answer.body))
    assert "kaesong" in served.live.slugs
    assert_inert(answer.raw)  # no mention, broadcast or mrkdwn survives in what Slack shows


async def test_the_longest_term_list_is_shown_whole_within_slacks_limits(served: Served) -> None:
    _, watchlist = await served.live.editor.latest()
    theme = max(watchlist.themes, key=lambda t: len(t.terms) + len(t.exclude))

    status, key = await served.post(f"watch list {theme.slug}", MEMBER)
    assert status == 200
    answers = await served.answers(key)  # each within Block Kit limits

    lines = [line for a in answers for text in texts(a["blocks"]) for line in text.splitlines()]
    assert sum(line.startswith("term ") for line in lines) == len(theme.terms)
    assert sum(line.startswith("exclude ") for line in lines) == len(theme.exclude)
    assert {answer["response_type"] for answer in answers} == {"ephemeral"}
