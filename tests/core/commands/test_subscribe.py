"""`/nkru subscribe`, `subscriptions [undo]`, `unsubscribe`: admins only, checked, versioned,
audited, and routed at once here and by another process on its next check."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.commands.model import Caller, Invocation, Reply
from bot.core.commands.permissions import AdminPolicy
from bot.core.commands.service import CommandService
from bot.core.models import ThemeHit
from bot.core.quiet_hours import QuietHours
from bot.core.routing import Route, instant_destinations
from bot.core.subscriptions.live import Digests, LiveRoutes
from bot.core.theme_hits import WatchlistMatcher
from storage.engine import Store
from tests.core.commands.conftest import ANA, CHANNEL, Clock

BOB = Caller("slack", "U02", "Bob")  # not an admin
POLICY = AdminPolicy(slack_user_ids=frozenset({ANA.user_id}))
CONFIGURED = (Route("slack:CFG", frozenset({"troops"})),)
BRIDGE_HIT = [ThemeHit("tumen-bridge", 3.0, "test")]


class Bot:
    """One process: its live routes and its command service over a shared database."""

    def __init__(self, store: Store, matcher: WatchlistMatcher) -> None:
        self.routes = LiveRoutes(store, CONFIGURED)
        catalog = matcher.catalog()
        self.service = CommandService(
            store, lambda: catalog, self.routes, Clock(), admin=POLICY, services=[self.routes]
        )

    async def run(self, text: str, caller: Caller = ANA, where: str = CHANNEL) -> Reply:
        return await self.service.handle(Invocation.from_text(caller, where, text))


@pytest.fixture
async def bot(store: Store, matcher: WatchlistMatcher) -> Bot:
    made = Bot(store, matcher)
    await made.routes.refresh()
    return made


async def audit_actions(store: Store) -> list[tuple[str, str, str]]:
    async with store.transaction() as tx:
        entries = await tx.audit.recent(20)
    return [(e.action, e.outcome, e.detail) for e in reversed(entries)]


async def test_subscribing_routes_this_channel_at_once(bot: Bot, store: Store) -> None:
    assert instant_destinations(bot.routes, BRIDGE_HIT) == []
    reply = await bot.run("subscribe tumen-bridge 2 22:00-07:00 Europe/Berlin")
    assert not reply.error and not reply.ephemeral  # posted: the channel sees who did it
    assert reply.title == "Subscribed this channel (by Ana)"
    expected = Route(
        CHANNEL,
        frozenset({"tumen-bridge"}),
        2.0,
        "instant",
        QuietHours.parse("22:00-07:00", "Europe/Berlin"),
    )
    assert list(bot.routes) == [*CONFIGURED, expected]  # the config route stays first
    assert instant_destinations(bot.routes, BRIDGE_HIT) == [CHANNEL]
    [(action, outcome, detail)] = await audit_actions(store)
    assert (action, outcome) == ("subscribe", "ok")
    assert "tumen-bridge · instant · min score 2 · quiet 22:00-07:00 Europe/Berlin" in detail


async def test_a_digest_subscription_is_scheduled(bot: Bot) -> None:
    seen: list[Digests] = []
    bot.routes.on_digests(seen.append)
    await bot.run("subscribe all digest 30 7 * * 1-5")
    route = Route(CHANNEL, frozenset(), 0.0, "digest")
    assert seen == [[], [(route, "30 7 * * 1-5")]]
    assert instant_destinations(bot.routes, BRIDGE_HIT) == []  # a digest alerts nothing instantly


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("subscribe kaesong-zone", "unknown theme 'kaesong-zone'"),
        ("subscribe digest 0 8 * *", "five fields"),
        ("subscribe digest 0 25 * * *", "is not a crontab line"),
        ("subscribe tumen-bridge 101", "out of range: use 0 to 100"),
        ("subscribe 25:00-07:00", "hours run 00–23"),
        ("subscribe 22:00-07:00 Mars/Olympus", "is not a time zone"),
        ("subscribe digest 0 8 * * * 22:00-07:00", "quiet hours hold instant alerts"),
        ("subscribe instant instant", "say instant or digest once"),
        ("subscribe 1 2", "one minimum score"),
    ],
)
async def test_bad_subscriptions_are_refused_and_nothing_is_stored(
    bot: Bot, store: Store, words: str, says: str
) -> None:
    reply = await bot.run(words)
    assert reply.error and reply.ephemeral
    assert says in " ".join([reply.title, *reply.lines, reply.footer or ""])
    async with store.transaction() as tx:
        assert await tx.subscriptions.latest_id() is None


async def test_only_admins_may_subscribe_list_or_unsubscribe(bot: Bot, store: Store) -> None:
    for words in ("subscribe", "subscriptions", "unsubscribe", "subscriptions undo"):
        reply = await bot.run(words, caller=BOB)
        assert reply.title == "Not allowed" and reply.ephemeral
    assert [(a, o) for a, o, _ in await audit_actions(store)] == [
        ("subscribe", "refused"),
        ("subscriptions", "refused"),
        ("unsubscribe", "refused"),
        ("subscriptions undo", "refused"),
    ]
    assert list(bot.routes) == list(CONFIGURED)


async def test_subscriptions_lists_config_routes_as_read_only(bot: Bot) -> None:
    await bot.run("subscribe troops digest 0 8 * * *", where="discord:42")
    reply = await bot.run("subscriptions")
    assert reply.lines[0] == "slack:CFG: troops · instant (config file, read-only)"
    assert reply.lines[1].startswith("discord:42: troops · digest 0 8 * * * (by Ana, ")


async def test_a_config_route_cannot_be_unsubscribed_from_chat(bot: Bot) -> None:
    reply = await bot.run("unsubscribe", where="slack:CFG")
    assert reply.title == "This channel has no subscription from chat"
    assert "change it there" in reply.lines[0]
    assert list(bot.routes) == list(CONFIGURED)


async def test_unsubscribe_then_undo_restores_the_subscription(bot: Bot, store: Store) -> None:
    await bot.run("subscribe tumen-bridge")
    await bot.run("subscribe troops 1.5")  # replaces the first
    assert [r.themes for r in bot.routes[1:]] == [frozenset({"troops"})]
    reply = await bot.run("unsubscribe")
    assert reply.lines == ("unsubscribed (was: troops · instant · min score 1.5)",)
    assert list(bot.routes) == list(CONFIGURED)
    await bot.run("subscriptions undo")
    assert [(r.themes, r.min_score) for r in bot.routes[1:]] == [(frozenset({"troops"}), 1.5)]
    await bot.run("subscriptions undo")  # undoes the undo: unsubscribed again
    assert list(bot.routes) == list(CONFIGURED)
    actions = [a for a, _, _ in await audit_actions(store)]
    assert actions == [
        "subscribe",
        "subscribe",
        "unsubscribe",
        "subscriptions undo",
        "subscriptions undo",
    ]


async def test_two_undos_at_once_go_back_two_steps(bot: Bot, store: Store) -> None:
    # Regression: each undo read the channel's last two versions in one transaction and wrote
    # in another, so two at once both wrote the same "before" (the second undo was lost).
    await bot.run("subscribe troops")
    await bot.run("subscribe tumen-bridge")
    first, second = await asyncio.gather(
        bot.run("subscriptions undo"), bot.run("subscriptions undo")
    )
    # One goes back to troops, the other undoes that: tumen-bridge again, as one after the other.
    assert sorted([first.lines[0], second.lines[0]]) == [
        "undo: back to troops · instant",
        "undo: back to tumen-bridge · instant",
    ]
    assert [r.themes for r in bot.routes[1:]] == [frozenset({"tumen-bridge"})]


async def test_undo_of_the_first_subscription_unsubscribes(bot: Bot) -> None:
    assert (await bot.run("subscriptions undo")).title.startswith("Nothing to undo")
    await bot.run("subscribe tumen-bridge")
    reply = await bot.run("subscriptions undo")
    assert reply.lines == ("undo: back to not subscribed",)
    assert list(bot.routes) == list(CONFIGURED)


async def test_another_process_picks_up_the_change_on_its_check(
    bot: Bot, store: Store, matcher: WatchlistMatcher
) -> None:
    other = Bot(store, matcher)
    assert await other.routes.refresh() is False  # nothing stored yet: nothing to adopt
    await bot.run("subscribe tumen-bridge")
    assert instant_destinations(other.routes, BRIDGE_HIT) == []  # not before its check
    assert await other.routes.refresh() is True
    assert instant_destinations(other.routes, BRIDGE_HIT) == [CHANNEL]
    assert await other.routes.refresh() is False  # nothing new: one cheap query
