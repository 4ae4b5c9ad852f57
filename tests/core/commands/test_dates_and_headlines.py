"""What the team sees is right: publication time shown and used by windows, one headline per
story (issue 16, items 1 and 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import ThemeHit
from bot.core.routing import Route
from tests.core.commands.conftest import ARMS, BRIDGE, NOW, World, titles

PUBLISHED = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)  # long before its feed was added
# One story told three times: the lead matches no theme, the second report is the first to
# match (and is alerted), the third matches best.
LEAD = (
    "Tumen road bridge between Russia and North Korea completed",
    "Builders finished the Tumen River road bridge linking Khasan and Tumangang on Tuesday.",
)
FIRST_MATCH = (
    "Russian trucks make first crossing of Tumen road bridge between Russia and North Korea",
    "Builders finished the Tumen River road bridge linking Khasan and Tumangang on Tuesday.",
)
BEST_MATCH = (
    "First freight convoy crosses Tumen road bridge between Russia and North Korea",
    "Builders finished the Tumen River road bridge linking Khasan and Tumangang on Tuesday.",
)


class Scores:
    """A ThemeMatcher that files every article under tumen-bridge with one score (none: 0)."""

    def __init__(self, score: float) -> None:
        self.score = score

    def hits(self, title: str, summary: str) -> list[ThemeHit]:
        return [ThemeHit("tumen-bridge", self.score, f"scored {self.score}")] if self.score else []


async def test_latest_and_search_show_when_an_item_was_published_and_when_it_was_seen(
    world: World,
) -> None:
    await world.publish("economist", ARMS, "The Economist", NOW, published=PUBLISHED)

    for reply in (await world.run("latest"), await world.run("latest all")):
        [line] = reply.stories
        assert (line.when, line.seen) == (PUBLISHED, NOW)
    [found] = (await world.run("search rajin")).stories
    assert (found.when, found.seen) == (PUBLISHED, NOW)


async def test_a_time_shown_is_never_later_than_first_seen(world: World) -> None:
    ahead = NOW + timedelta(hours=3)  # a feed's clock or zone wrong
    await world.publish("ahead", ARMS, "Yonhap", NOW, published=ahead)

    [line] = (await world.run("latest")).stories
    assert (line.when, line.seen) == (NOW, None)  # seen is shown only where it differs


async def test_a_digest_leaves_out_a_backlog_older_than_its_period(world: World) -> None:
    await world.publish("economist", ARMS, "The Economist", NOW, published=PUBLISHED)
    await world.publish("bridge", BRIDGE, "TASS", NOW - timedelta(minutes=30))
    world.clock.advance(minutes=1)

    reply = await world.run("digest 2h")

    assert reply.digest is not None
    shown = [item.view.story.title for s in reply.digest.sections for item in s.items]
    assert shown == [BRIDGE[0]]


async def test_a_digest_keeps_a_report_seen_late_in_its_period(world: World) -> None:
    """A report first seen in the period, published up to one period before it, was in no
    earlier digest (not seen then): it is this one's."""
    await world.publish("bridge", BRIDGE, "TASS", NOW, published=NOW - timedelta(hours=3))
    world.clock.advance(minutes=1)

    reply = await world.run("digest 2h")

    assert reply.digest is not None and reply.digest.story_count == 1


async def test_alert_latest_digest_and_search_head_a_story_with_the_same_report(
    world: World,
) -> None:
    route = Route("slack:CALERT", frozenset({"tumen-bridge"}))
    at = NOW - timedelta(hours=2)
    await world.publish("lead", LEAD, "TASS", at, matcher=Scores(0), routes=[route])
    await world.publish("first", FIRST_MATCH, "Yonhap", at + timedelta(minutes=30),
                        matcher=Scores(1.0), routes=[route])  # fmt: skip
    await world.publish("best", BEST_MATCH, "Reuters", at + timedelta(hours=1),
                        matcher=Scores(3.0), routes=[route])  # fmt: skip
    async with world.store.transaction() as tx:
        alerts = await tx.outbox.due(NOW)
    assert {alert.title for alert in alerts} == {FIRST_MATCH[0]}

    [latest] = (await world.run("latest")).stories
    [every] = (await world.run("latest all")).stories
    digest = (await world.run("digest 1d")).digest
    assert digest is not None
    [item] = [item for section in digest.sections for item in section.items]
    [found] = (await world.run("search freight convoy")).stories
    assert latest.title == every.title == item.view.story.title == found.title == FIRST_MATCH[0]
    assert latest.url == item.view.url == found.url == "https://news.example/first"
    assert latest.source_name == "Yonhap" and set(latest.outlets) == {"TASS", "Reuters"}


async def test_latest_puts_a_story_with_a_new_report_first(world: World) -> None:
    """Ordered by each story's newest report: a story alerted now is at the top, however long
    ago it began."""
    await world.publish("lead", LEAD, "TASS", NOW - timedelta(hours=10), matcher=Scores(0))
    for number in range(6):
        text = (f"Convoy k{number}a k{number}b k{number}c", f"Details q{number}x q{number}y")
        at = NOW - timedelta(hours=5 - number / 2)
        await world.publish(f"bulk-{number}", text, "Wire", at, matcher=Scores(2.0))
    await world.publish("first", FIRST_MATCH, "Yonhap", NOW, matcher=Scores(1.0))

    assert titles(await world.run("latest"))[0] == FIRST_MATCH[0]
    assert titles(await world.run("latest all"))[0] == FIRST_MATCH[0]
