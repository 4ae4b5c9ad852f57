"""The default watchlist on real news: 55 feeds nobody here wrote (../shared/corpus/real-feeds).

Of their 1,860 items, exactly one is a North Korea–Russia story on a watched theme (The
Economist's on North Korean troops fighting for Russia, listed in NK_RU_ITEMS.tsv with the
other North Korea items the corpus's curators found). Everything else — North Korea without
Russia, Kim and Putin in one sentence of a story about China, Russia's war reporting, other
countries' vetoes — must stay quiet: any other alert here is a false alert a team would see.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from bot.core.poll.parse import parse_feed
from bot.core.watchlist import Matcher, load_watchlists
from bot.core.watchlist.scoring import explain_text
from tests.conftest import REAL_FEEDS, real_feed_bodies
from tests.watchlist.conftest import DEFAULT_WATCHLISTS

pytestmark = pytest.mark.corpus

FETCHED_AT = datetime(2026, 3, 1, tzinfo=UTC)  # after the newest item of the corpus
ON_TOPIC = {
    ("economist-asia.rss.xml", "What North Korea gains by sending troops to fight for Russia"): [
        "troops"
    ],
}


@pytest.fixture(scope="module")
def alerts() -> tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], str], int]:
    """(file, title) -> matched slugs for every item that matches, why, and items seen."""
    matcher = Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))
    found: dict[tuple[str, str], list[str]] = {}
    why: dict[tuple[str, str], str] = {}
    items = 0
    for name, body in real_feed_bodies():
        feed = parse_feed(body, url="http://example.com/", fetched_at=FETCHED_AT)
        for entry in feed.entries:
            items += 1
            matches = matcher.match(entry.title, entry.summary)
            if matches:
                found[name, entry.title] = sorted(m.slug for m in matches)
                why[name, entry.title] = " | ".join(explain_text(m) for m in matches)
    return found, why, items


def test_only_the_on_topic_item_alerts(
    alerts: tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], str], int],
) -> None:
    found, why, items = alerts
    assert items >= 1_800
    unexpected = [f"{key}: {found[key]} ({why[key]})" for key in found if key not in ON_TOPIC]
    assert not unexpected, "false alerts on real news:\n" + "\n".join(unexpected)
    assert found == ON_TOPIC


def test_listed_north_korea_items_alert_as_assessed(
    alerts: tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], str], int],
) -> None:
    """NK_RU_ITEMS.tsv's own verdicts: "should alert" alerts, the rest stays quiet."""
    found, _, _ = alerts
    with (REAL_FEEDS / "NK_RU_ITEMS.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) >= 12
    wrong = [
        f"{row['file']}: {row['title']!r} ({row['assessment']}): "
        f"{found.get((row['file'], row['title']), 'no alert')}"
        for row in rows
        if ((row["file"], row["title"]) in found) != ("should alert" in row["assessment"])
    ]
    assert not wrong, "\n".join(wrong)
