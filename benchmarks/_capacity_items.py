"""The capacity benchmark's feed items: deterministic text, cheap to make on demand.

Every item of feed `f` is a pure function of (f, seq), so the feed server keeps no bodies in
memory (100,000 feeds x 20 items would take gigabytes) and builds one only for a 200 answer.
Items with seq <= 0 are the feed's initial 20, off-topic (made-up words only: no watchlist
term, and no two alike, so no story joins another). Items with seq >= 1 are the new ones the
server publishes while the benchmark runs: a North Korea–Russia sentence the default
watchlist matches (a theme, so a route alerts), padded with made-up words so that two new
items never look like one story to the clustering (Jaccard far below its 0.25 threshold),
and tagged with `item_code(f, seq)` so the post in the fake chat can be traced back to it.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

SEED = 20260514
# Sentences the default watchlist matches (each one a theme: troops, summits, munitions...).
MATCHING = (
    "North Korean troops deployed to Russia's Kursk region, Seoul's spy agency says",
    "Kim Jong-un and Putin sign a mutual defence treaty in Pyongyang",
    "North Korea ships artillery shells to Russia for the war in Ukraine",
    "Russia and North Korea open the Tumen River road bridge at Khasan",
    "Russia vetoes the UN panel monitoring sanctions on North Korea",
    "North Korean workers sent to Russian construction sites despite UN sanctions",
    "Russian oil tankers deliver fuel to North Korea's Rajin port",
    "Lavrov meets Choe Son-hui in Wonsan to expand North Korea–Russia ties",
)
CODE_RE = re.compile(r"\bcap(\d+)n(\d+)\b")


def _made_up_words(count: int) -> tuple[str, ...]:
    """Pronounceable made-up words, distinct in their first six letters (the stemmer's cut)."""
    rng = random.Random(SEED)
    onsets = ("b", "d", "f", "g", "k", "l", "m", "p", "r", "t", "v", "z", "sh", "tr", "kr")
    vowels = ("a", "i", "o", "u", "ai", "ou")
    codas = ("", "", "n", "r", "k", "m", "l")
    words: dict[str, str] = {}
    while len(words) < count:
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(3)
        )
        if len(word) >= 6 and not word.endswith(("s", "e", "y")):
            words.setdefault(word[:6], word)
    return tuple(words.values())


WORDS = _made_up_words(30_000)


def item_code(feed: int, seq: int) -> str:
    """The tag that identifies a new item in a chat post."""
    return f"cap{feed}n{seq}"


def _rng(feed: int, seq: int) -> random.Random:
    return random.Random(SEED * 1_000_003 + feed * 100_003 + seq)


def _padding(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def text_of(feed: int, seq: int, matching: bool) -> tuple[str, str]:
    """(title, summary) of item `seq` of feed `feed`."""
    rng = _rng(feed, seq)
    if seq <= 0 or not matching:
        title = _padding(rng, 9).capitalize()
        return title, _padding(rng, 45).capitalize() + "."
    core = MATCHING[rng.randrange(len(MATCHING))]
    title = f"{item_code(feed, seq)}: {core} as {_padding(rng, 4)}"
    # The sentence is in the title only: a summary of made-up words keeps new items apart.
    return title, _padding(rng, 40).capitalize() + "."


def rss(
    feed: int,
    newest: int,
    count: int,
    published: dict[int, float],
    matching: dict[int, bool],
    now: float,
) -> bytes:
    """Feed `feed` as RSS 2.0 with items `newest` down to `newest - count + 1`.

    `published` gives the time (time.time()) of each new item, `matching` whether it is on
    the watchlist; initial items (seq <= 0) are dated a few minutes apart before `now`.
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>Capacity feed {feed}</title><link>https://news{feed}.example/</link>\n"
        f"<description>Synthetic feed {feed}</description>\n"
    ]
    start = datetime.fromtimestamp(now, UTC)
    for seq in range(newest, newest - count, -1):
        title, summary = text_of(feed, seq, matching.get(seq, True))
        if seq in published:
            when = datetime.fromtimestamp(published[seq], UTC)
        else:
            when = start - timedelta(minutes=7 * (1 - seq))
        parts.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://news{feed}.example/{seq}</link>"
            f'<guid isPermaLink="false">feed{feed}-item{seq}</guid>'
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f"<description>{escape(summary)}</description></item>\n"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()
