"""Issue 5's headline, end to end: an admin changes the watchlist from chat and the next poll
alerts on an article that needed the change — on Slack and on Discord.

The bot is wired by `open_runtime(settings, chat=chat_platforms("serve"))` exactly as `nkru run`
wires it (settings, stored watchlist kept live, command service, Slack over HTTP on its own
listener, Discord over its gateway); only the remote ends are fakes on loopback: the feed server,
the Slack Web API, the Discord REST API and gateway (still reached as discord.com and
gateway.discord.gg over TLS: `discord_network` resolves those names to the fakes). Slash
commands arrive as signed Slack form bodies and as INTERACTION_CREATE over the gateway; polls
and deliveries are the real pipeline.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.app import Runtime, open_runtime, poll_all_once, seed_feeds
from bot.chat import chat_platforms
from bot.core.delivery import DeliveryReport, deliver_due
from bot.settings import load_settings
from tests.adapters.discord.payloads import (
    CHANNEL,
    GUILD,
    MANAGE_GUILD,
    MOD_ROLE,
    SEND_AND_VIEW,
    guild_create,
    slash_command,
)
from tests.adapters.slack.samples import assert_within_limits, texts
from tests.adapters.slack.test_app import SECRET, command_form, signed
from tests.adapters.slack.test_watch_commands import documents, watchlist_folder
from tests.core.poll.test_pipeline import Item, rss
from tests.fakes.discord_api import NO_MENTIONS, TOKEN, FakeDiscord
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.waiting import wait_until

Json = dict[str, Any]
SLACK_CHANNEL = "C0NKRU"
SLACK_ADMIN, SLACK_SECOND, SLACK_MEMBER = "U0BOSS", "U0SECOND", "U0USER"
MANAGER = SEND_AND_VIEW | MANAGE_GUILD
# Off the watchlist until an admin adds "pontoon crossing" to tumen-bridge…
BEFORE = Item("pontoon-1", "Russia and North Korea open pontoon crossing")
AFTER = Item(  # another story (the clusterer keeps it apart from BEFORE)
    "pontoon-2",
    "Kim Jong-un inspects pontoon crossing built with Moscow's help",
    "State media showed the leader walking across the floating structure near Rason.",
)
# …and off it until "drone operators" is added to troops.
DRONES = Item("drones-1", "North Korean drone operators train in Russia")
_keys = itertools.count(1)


@dataclass
class Bot:
    """The running bot and the fakes around it."""

    runtime: Runtime
    http: aiohttp.ClientSession
    slack: FakeSlackApi
    discord: FakeDiscord
    gateway: FakeGateway
    feeds: FeedServer
    items: list[Item] = field(default_factory=list)

    async def slack_command(self, text: str, user: str) -> tuple[str, str]:
        """`/nkru <text>` typed in the Slack channel: (response_type, the text shown)."""
        key = f"r{next(_keys)}"
        form = command_form(self.slack, text, key) | {
            "user_id": user, "user_name": user.lower(), "channel_id": SLACK_CHANNEL,
        }  # fmt: skip
        body = urlencode(form)
        url = f"http://127.0.0.1:{self.runtime.chat.http_port}/slack/events"
        async with self.http.post(url, data=body, headers=signed(body)) as response:
            assert response.status == 200
        await self.slack.wait_for(lambda: any(r.key == key for r in self.slack.responses))
        [answer] = [r.body for r in self.slack.responses if r.key == key]
        assert_within_limits(answer)
        return answer["response_type"], "\n".join(texts(answer["blocks"]))

    async def discord_watch(
        self, subcommand: str, options: dict[str, str | int], **member: Any
    ) -> tuple[bool, str]:
        """`/nkru watch …` over the gateway: (ephemeral, the embeds' text)."""
        return await self.discord_group("watch", subcommand, options, **member)

    async def discord_group(
        self, group: str, subcommand: str, options: dict[str, str | int], **member: Any
    ) -> tuple[bool, str]:
        """`/nkru <group> <subcommand> …` over the gateway: (ephemeral, the embeds' text)."""
        payload, state = slash_command(self.discord, subcommand, options, **member)
        inner = payload["data"]["options"]  # the subcommand (type 1) inside its group (type 2)
        payload["data"]["options"] = [{"name": group, "type": 2, "options": inner}]
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        await wait_until(lambda: bool(state.shown), 10)
        [(ephemeral, message)] = state.shown
        assert message["allowed_mentions"] == NO_MENTIONS
        shown = [f"{e['title']}\n{e.get('description') or ''}" for e in message["embeds"]]
        return ephemeral, "\n".join(shown)

    async def publish_and_poll(self, *items: Item) -> None:
        """The feed publishes `items` after the earlier ones; every feed is polled once."""
        self.items.extend(items)
        self.feeds.set_body("/wire.xml", rss(self.items))
        [report] = await poll_all_once(self.runtime)
        assert report.outcome == "fetched" and report.new_articles == len(items), report

    async def deliver(self) -> DeliveryReport:
        """One delivery pass over the outbox, as the scheduler's delivery job runs it."""
        runtime = self.runtime
        return await deliver_due(
            runtime.store, runtime.adapters, runtime.ctx.clock,
            routes=runtime.ctx.alert_policy.routes,
        )  # fmt: skip

    def slack_alerts(self) -> list[str]:
        """The alerts posted in the Slack channel, as their text."""
        return [
            json.dumps(message, ensure_ascii=False)
            for message in self.slack.messages.get(SLACK_CHANNEL, [])
        ]

    def discord_alert_titles(self) -> list[str]:
        """The first embed's title of each alert posted in the Discord channel (command
        answers go to the interaction, not through this endpoint)."""
        posts = self.discord.calls("POST", f"/channels/{CHANNEL}/messages")
        assert all(post.body["allowed_mentions"] == NO_MENTIONS for post in posts)
        return [post.body["embeds"][0]["title"] for post in posts]

    async def stored_terms_of(self, *needles: str) -> dict[str, bool]:
        """Whether the newest stored version contains each needle."""
        async with self.runtime.store.transaction() as conn:
            latest = await conn.versions.latest()
        assert latest is not None
        return {needle: needle in latest.document for needle in needles}


@pytest.fixture
async def bot(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: FeedServer,
) -> AsyncIterator[Bot]:
    monkeypatch.chdir(tmp_path)  # no nkru.toml config file is picked up
    for key in [key for key in os.environ if key.startswith("NKRU_")]:
        monkeypatch.delenv(key)  # configured only by what this test says
    server.add_feed("/wire.xml", rss([]))
    (tmp_path / "feeds.toml").write_text(
        f'[[feed]]\nname = "Wire"\nurl = "{server.url("/wire.xml")}"\n', encoding="utf-8"
    )
    async with (
        FakeSlackApi() as slack,
        FakeDiscord() as fake_discord,
        FakeGateway(guilds=[guild_create()]) as gateway,
    ):
        settings = load_settings(
            database_url=store_url,
            feeds_file=tmp_path / "feeds.toml",
            watchlists=watchlist_folder(tmp_path),
            routes=[
                {"destination": f"slack:{SLACK_CHANNEL}", "themes": ["tumen-bridge", "troops"]},
                {"destination": f"discord:{CHANNEL}"},
            ],
            flood_guard=False,
            parse_workers=0,
            http_port=0,
            slack_bot_token=slack.bot_token,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            slack_admin_user_ids=[SLACK_ADMIN, SLACK_SECOND],
            discord_token=TOKEN,
            discord_admin_role_ids=[str(MOD_ROLE)],
            chat_feed_allow_networks=["127.0.0.1/32"],  # the loopback feeds stand for public ones
        )
        # discord.com and gateway.discord.gg lead to the fakes (the one thing not from settings)
        network = fake_discord.network(gateway.port)
        async with (
            open_runtime(settings, chat=chat_platforms("serve", network)) as runtime,
            aiohttp.ClientSession() as http,
        ):
            await seed_feeds(runtime)
            await gateway.wait_identified()
            gateway_bot = runtime.chat.gateway  # on PostgreSQL, the lease holder's (this process)
            await wait_until(lambda: (bot := gateway_bot()) and bot.get_guild(GUILD), 10)  # type: ignore[attr-defined]
            yield Bot(runtime, http, slack, fake_discord, gateway, server)
        assert fake_discord.mention_violations == []


async def test_an_article_off_the_watchlist_alerts_nobody(bot: Bot) -> None:
    await bot.publish_and_poll(BEFORE)

    assert (await bot.deliver()).sent == 0
    assert bot.slack_alerts() == [] and bot.discord_alert_titles() == []


async def test_a_term_added_from_slack_alerts_on_the_next_poll_everywhere(bot: Bot) -> None:
    await bot.publish_and_poll(BEFORE)  # stored, no theme, no alert
    refused_kind, refused = await bot.slack_command(
        'watch add tumen-bridge "pontoon crossing"', SLACK_MEMBER
    )
    assert refused_kind == "ephemeral" and "Only admins can watch add." in refused
    assert len(await documents(bot.runtime.store)) == 1

    kind, shown = await bot.slack_command('watch add tumen-bridge "pontoon crossing"', SLACK_ADMIN)

    assert kind == "in_channel"
    assert "Watchlist v2 by u0boss" in shown
    assert '+ term "pontoon crossing" (word) in tumen-bridge' in shown
    await bot.publish_and_poll(AFTER)
    report = await bot.deliver()

    assert (report.sent, report.retrying, report.dead) == (2, 0, 0)
    [slack_alert] = bot.slack_alerts()
    assert AFTER.title in slack_alert and "Tumen River bridge" in slack_alert
    assert "pontoon crossing" in slack_alert  # why it matched
    assert bot.discord_alert_titles() == [AFTER.title]
    assert BEFORE.title not in "".join(bot.slack_alerts())  # stored earlier: not re-alerted


async def test_a_term_added_from_discord_alerts_on_the_next_poll_everywhere(bot: Bot) -> None:
    await bot.publish_and_poll(BEFORE)
    ephemeral, refused = await bot.discord_watch(
        "add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}
    )
    assert ephemeral and "Only admins can watch add." in refused

    ephemeral, shown = await bot.discord_watch(
        "add", {"theme": "tumen-bridge", "terms": '"pontoon crossing"'}, roles=[MOD_ROLE]
    )

    assert not ephemeral
    assert "Watchlist v2 by analyst" in shown and 'term "pontoon crossing"' in shown
    await bot.publish_and_poll(AFTER)
    report = await bot.deliver()

    assert report.sent == 2
    [slack_alert] = bot.slack_alerts()
    assert AFTER.title in slack_alert
    assert bot.discord_alert_titles() == [AFTER.title]


async def test_undo_from_chat_stops_the_alerts_again(bot: Bot) -> None:
    await bot.slack_command('watch add tumen-bridge "pontoon crossing"', SLACK_ADMIN)
    ephemeral, shown = await bot.discord_watch("undo", {}, permissions=MANAGER)
    assert not ephemeral and "Watchlist v3 by analyst" in shown
    docs = await documents(bot.runtime.store)
    assert docs[2] == docs[0]

    await bot.publish_and_poll(AFTER)

    assert (await bot.deliver()).sent == 0
    assert bot.slack_alerts() == [] and bot.discord_alert_titles() == []


async def test_two_admins_editing_at_once_lose_neither_change(bot: Bot) -> None:
    slack_edit = bot.slack_command('watch add tumen-bridge "pontoon crossing"', SLACK_ADMIN)
    discord_edit = bot.discord_watch(
        "add", {"theme": "troops", "terms": '"drone operators"'}, permissions=MANAGER
    )

    (slack_kind, slack_shown), (private, discord_shown) = await asyncio.gather(
        slack_edit, discord_edit
    )

    assert slack_kind == "in_channel" and not private
    assert '+ term "pontoon crossing" (word) in tumen-bridge' in slack_shown
    assert 'term "drone operators" (word) in troops' in discord_shown
    versions = {
        re.findall(r"Watchlist v(\d+) by", shown)[0] for shown in (slack_shown, discord_shown)
    }
    assert versions == {"2", "3"}  # one version each, the second built on the first
    assert len(await documents(bot.runtime.store)) == 3
    assert await bot.stored_terms_of('"pontoon crossing"', '"drone operators"') == {
        '"pontoon crossing"': True,
        '"drone operators"': True,
    }
    assert bot.runtime.watchlist is not None and bot.runtime.watchlist.version == 3

    await bot.publish_and_poll(AFTER, DRONES)
    report = await bot.deliver()

    assert report.sent == 4  # both articles, both channels
    slack_alerts = "".join(bot.slack_alerts())
    assert AFTER.title in slack_alerts and DRONES.title in slack_alerts
    assert sorted(bot.discord_alert_titles()) == sorted([AFTER.title, DRONES.title])


async def test_two_slack_admins_at_once_lose_neither_change(bot: Bot) -> None:
    """The same on one platform: two signed requests in flight together."""
    answers = await asyncio.gather(
        bot.slack_command('watch add tumen-bridge "pontoon crossing"', SLACK_ADMIN),
        bot.slack_command('watch add troops "drone operators"', SLACK_SECOND),
    )

    assert [kind for kind, _ in answers] == ["in_channel", "in_channel"]
    assert {re.findall(r"Watchlist v(\d+) by", shown)[0] for _, shown in answers} == {"2", "3"}
    docs = await documents(bot.runtime.store)
    assert len(docs) == 3
    assert '"pontoon crossing"' in docs[2] and '"drone operators"' in docs[2]


async def test_feeds_are_managed_from_both_platforms(bot: Bot) -> None:
    bot.feeds.add_feed("/herald.xml", rss([BEFORE], title="Herald"))
    herald = bot.feeds.url("/herald.xml")

    private, added = await bot.discord_group("feeds", "add", {"url": herald}, permissions=MANAGER)
    assert not private and f"Added feed #2 Herald ({herald}) (by analyst)" in added
    assert bot.feeds.hits("/herald.xml") == 1  # fetched once and checked before it was stored

    kind, refused = await bot.slack_command("feeds disable 1", SLACK_MEMBER)
    assert kind == "ephemeral" and "Only admins can feeds disable." in refused
    kind, disabled = await bot.slack_command("feeds disable 1", SLACK_ADMIN)
    assert kind == "in_channel" and "Disabled feed #1 Wire" in disabled

    polled = await poll_all_once(bot.runtime)

    assert [report.feed_name for report in polled] == ["Herald"]
    assert bot.feeds.hits("/wire.xml") == 0
    kind, listed = await bot.slack_command("feeds list", SLACK_MEMBER)
    assert kind == "ephemeral" and "Feeds (2)" in listed

    private, enabled = await bot.discord_group("feeds", "enable", {"feed": "1"}, roles=[MOD_ROLE])
    assert not private and "Enabled feed #1 Wire" in enabled
    private, removed = await bot.discord_group(
        "feeds", "remove", {"feed": herald}, roles=[MOD_ROLE]
    )
    assert not private and "Removed feed #2 Herald" in removed
    private, status = await bot.discord_group("feeds", "status", {})
    assert private and "Feed status: 1 ok, 0 failing, 0 disabled" in status

    polled = await poll_all_once(bot.runtime)

    assert [report.feed_name for report in polled] == ["Wire"]
    kind, audit = await bot.slack_command("audit", SLACK_ADMIN)
    assert kind == "ephemeral"
    for action in ("feeds add", "feeds disable", "feeds enable", "feeds remove"):
        assert f" · {action} " in audit, action
    assert "u0user (slack, slack:C0NKRU) · feeds disable 1 · refused: not an admin" in audit
