"""Deterministic synthetic news feeds and headlines for the benchmarks.

Everything is generated from word lists with a seeded ``random.Random``, so two runs produce
the same text (only the dates move with the clock, so that items stay inside the alert and
story windows). Items are sized like real agency copy: a ~70-character headline and a
300-600 character description with a little HTML (``<p>``, ``<a>``, ``<b>``, entities).

About 5 % of the items are near-duplicates of a shared pool of "big stories" (another outlet's
wording of the same event: a different prefix, reordered words, a different summary tail), so
the clustering path attaches as well as creates; the rest are distinct stories.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

SEED = 20261120

_SUBJECTS = (
    "Pyongyang", "Moscow", "Kremlin", "Kim", "Putin", "Lavrov", "Shoigu", "Choe Son Hui",
    "Seoul", "Tokyo", "Beijing", "Washington", "NATO", "The UN Security Council", "Kyiv",
    "Zelensky", "Yoon", "Lee Jae-myung", "The Pentagon", "Rosatom", "Roscosmos", "Gazprom",
    "Rosneft", "The Korean People's Army", "Russia's Far East Fleet", "Vladivostok officials",
    "Khabarovsk governor", "Primorye authorities", "Sakhalin regulators", "Ukrainian intelligence",
    "South Korean spy agency", "Japanese coast guard", "EU foreign ministers", "G7 envoys",
    "IAEA inspectors", "Sanctions monitors", "Shipping analysts", "Satellite imagery firm",
    "Defence researchers", "Border guards", "Railway operator", "Customs service",
)  # fmt: skip
_VERBS = (
    "signs", "expands", "suspends", "resumes", "denies", "confirms", "launches", "tests",
    "delivers", "ships", "blocks", "approves", "rejects", "probes", "warns of", "hails",
    "condemns", "upgrades", "halts", "reopens", "doubles", "cuts", "seizes", "unveils",
    "negotiates", "finalises", "postpones", "accelerates", "inspects", "tracks", "funds",
    "reinforces", "withdraws", "deploys", "trains", "boosts", "curbs", "extends", "opens",
)  # fmt: skip
_ADJECTIVES = (
    "new", "secret", "expanded", "emergency", "joint", "long-range", "bilateral", "naval",
    "strategic", "economic", "military", "nuclear", "humanitarian", "cross-border", "rail",
    "energy", "grain", "fuel", "satellite", "hypersonic", "cyber", "tourism", "banking",
    "maritime", "labour", "artillery", "air-defence", "medical", "educational", "fishing",
)  # fmt: skip
_NOUNS = (
    "treaty", "pipeline", "bridge", "exercise", "shipment", "corridor", "deal", "summit",
    "delegation", "programme", "exports", "imports", "drills", "missile", "satellite",
    "port", "railway", "agreement", "sanctions", "loan", "payments", "workers", "troops",
    "ammunition", "oil", "coal", "wheat", "fertiliser", "tankers", "flights", "visas",
    "hospital", "university", "fleet", "radar", "frigate", "submarine", "drones", "reactor",
    "factory", "mine", "terminal", "airport", "highway", "tunnel", "dam", "grid", "cable",
)  # fmt: skip
_PLACES = (
    "Rason", "Tumen River", "Vladivostok", "Khasan", "Wonsan", "Nampo", "Chongjin", "Sinuiju",
    "Kursk", "Donetsk", "Zaporizhzhia", "Kharkiv", "Crimea", "Black Sea", "Sea of Japan",
    "Yellow Sea", "Kamchatka", "Sakhalin", "Khabarovsk", "Novosibirsk", "Moscow region",
    "Pyongyang suburbs", "Kaesong", "Panmunjom", "Hamhung", "Kimchaek", "Vostochny",
    "Ussuriysk", "Nakhodka", "Primorye", "Amur region", "Irkutsk", "Busan", "Incheon",
)  # fmt: skip
_FILLER = (
    "officials", "said", "on", "the", "plan", "would", "allow", "more", "than", "tonnes",
    "per", "month", "according", "to", "documents", "seen", "by", "reporters", "while",
    "analysts", "cautioned", "that", "details", "remain", "unclear", "and", "previous",
    "pledges", "were", "not", "fulfilled", "in", "full", "a", "spokesperson", "declined",
    "comment", "citing", "security", "concerns", "local", "residents", "described", "heavy",
    "traffic", "near", "facility", "earlier", "this", "week", "satellite", "images", "showed",
    "construction", "equipment", "lined", "up", "along", "road", "diplomats", "expect",
    "further", "talks", "before", "end", "of", "year", "prices", "rose", "sharply",
    "after", "announcement", "observers", "noted", "timing", "coincided", "with", "visit",
)  # fmt: skip
_PREFIXES = ("", "", "", "UPDATE 1-", "UPDATE 2-", "EXCLUSIVE-", "Analysis: ", "BREAKING: ")
_OUTLET_WORDS = (
    "Daily", "Herald", "Wire", "Times", "Observer", "Post", "Monitor", "Review", "Gazette",
    "Dispatch", "Tribune", "Journal", "Chronicle", "Bulletin", "Courier", "Express",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Item:
    """One synthetic feed item, before serialisation."""

    guid: str
    guid_is_permalink: bool
    link: str
    title: str
    description_html: str
    published: datetime


@dataclass(frozen=True, slots=True)
class SyntheticFeed:
    """A serialised feed and what it is."""

    index: int
    kind: str  # "rss" | "atom"
    name: str
    host: str
    body: bytes
    content_type: str


def _long_tail(count: int) -> tuple[str, ...]:
    """Pronounceable made-up words standing for the long tail of names and terms in news."""
    rng = random.Random(SEED - 1)
    onsets = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh",
              "ch", "br", "tr", "kr", "st")  # fmt: skip
    vowels = ("a", "i", "o", "u", "a", "o", "ai", "ou")
    codas = ("", "", "", "n", "r", "k", "m", "l", "t")
    words: dict[str, str] = {}
    while len(words) < count:
        syllables = rng.choice((2, 3, 3, 3))
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)
        )
        # Distinct in their first 6 letters (the stemmer's cut) and with no ending it strips.
        if len(word) >= 5 and not word.endswith(("s", "e", "ed", "ing", "al", "er", "ly", "y")):
            words.setdefault(word[:6], word)
    return tuple(words.values())


_TAIL = _long_tail(20_000)
_TAIL_SHARE = 0.8  # share of content words drawn from the long tail (the rest: topic words)
_TOPIC = _NOUNS + _PLACES + _ADJECTIVES
_FUNCTION = (
    "the", "the", "a", "of", "to", "in", "on", "and", "by", "with", "was", "were", "for",
    "from", "that", "this", "said", "after", "while", "its", "their", "has", "have", "will",
)  # fmt: skip


def _content_word(rng: random.Random) -> str:
    if rng.random() < _TAIL_SHARE:
        word = rng.choice(_TAIL)
        return word.capitalize() if rng.random() < 0.3 else word
    return rng.choice(_TOPIC)


def headline(rng: random.Random) -> str:
    """A distinct ~70-character headline."""
    while True:
        words = [
            rng.choice(_SUBJECTS),
            rng.choice(_VERBS),
            rng.choice(_ADJECTIVES),
            _content_word(rng),
            rng.choice(_NOUNS),
            "with" if rng.random() < 0.5 else "near",
            rng.choice(_PLACES) if rng.random() < 0.5 else rng.choice(_TAIL).capitalize(),
        ]
        if rng.random() < 0.5:
            words += ["amid", _content_word(rng), rng.choice(_NOUNS)]
        title = " ".join(words)
        if 55 <= len(title) <= 90:
            return title


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(_FUNCTION) if rng.random() < 0.35 else _content_word(rng) for _ in range(n)]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def description(rng: random.Random, lead: str) -> str:
    """A 300-600 character HTML description starting from `lead` (plain text)."""
    target = rng.randint(300, 600)
    parts = [f"<p>{escape(lead)}."]
    size = len(lead)
    while size < target - 40:
        sentence = _sentence(rng, rng.randint(8, 16))
        if rng.random() < 0.15:
            sentence = f"<b>{escape(sentence)}</b>"
        elif rng.random() < 0.1:
            sentence = sentence.replace(" and ", " &amp; ", 1)
        parts.append(" " + sentence)
        size += len(sentence) + 1
    link = f'<a href="https://media.example/photo/{rng.randrange(10**6)}.jpg">Photo</a>'
    parts.append(f" {link}</p>")
    return "".join(parts)


def _big_stories(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(headline, lead sentence) of events that several outlets report."""
    return [(headline(rng), _sentence(rng, 28)[:-1]) for _ in range(count)]


def _variant(rng: random.Random, title: str) -> str:
    """Another outlet's wording of the same headline."""
    words = title.split()
    if len(words) > 6 and rng.random() < 0.5:
        i = rng.randrange(2, len(words) - 1)
        words[i], words[i - 1] = words[i - 1], words[i]
    return rng.choice(_PREFIXES) + " ".join(words)


def make_items(
    feed_index: int, count: int, now: datetime, host: str, shared: list[tuple[str, str]]
) -> list[Item]:
    """The items of one feed (newest first)."""
    rng = random.Random(SEED * 7919 + feed_index)
    items = []
    for i in range(count):
        if shared and rng.random() < 0.05:
            title, lead = shared[rng.randrange(len(shared))]
            title = _variant(rng, title)
        else:
            title = headline(rng)
            lead = _sentence(rng, rng.randint(10, 18))[:-1]
        slug = "-".join(w.lower() for w in title.split()[:6] if w.isalnum())
        link = f"https://{host}/2026/11/{slug}-{feed_index}-{i}?utm_source=rss&utm_medium=feed"
        permalink = i % 3 != 0
        guid = f"https://{host}/a/{feed_index}/{i}" if permalink else f"{host}-{feed_index}-{i}"
        published = now - timedelta(minutes=7 * i + rng.randrange(7), seconds=rng.randrange(60))
        items.append(Item(guid, permalink, link, title, description(rng, lead), published))
    return items


def rss(name: str, host: str, items: list[Item], now: datetime) -> bytes:
    """An RSS 2.0 document."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(name)}</title>\n<link>https://{host}/</link>\n"
        f"<description>Latest news from {escape(name)}</description>\n"
        f"<language>en</language>\n<lastBuildDate>{format_datetime(now)}</lastBuildDate>\n"
        "<ttl>15</ttl>\n"
    ]
    for item in items:
        permalink = "true" if item.guid_is_permalink else "false"
        out.append(
            "<item>\n"
            f"  <title>{escape(item.title)}</title>\n"
            f"  <link>{escape(item.link)}</link>\n"
            f'  <guid isPermaLink="{permalink}">{escape(item.guid)}</guid>\n'
            f"  <pubDate>{format_datetime(item.published)}</pubDate>\n"
            f"  <description>{escape(item.description_html)}</description>\n"
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode()


def atom(name: str, host: str, items: list[Item], now: datetime) -> bytes:
    """An Atom 1.0 document."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{escape(name)}</title>\n"
        f'<link rel="alternate" href="https://{host}/"/>\n'
        f"<id>tag:{host},2026:feed</id>\n<updated>{now.isoformat()}</updated>\n"
    ]
    for item in items:
        guid = item.guid if item.guid_is_permalink else f"tag:{host},2026:{item.guid}"
        out.append(
            "<entry>\n"
            f"  <title>{escape(item.title)}</title>\n"
            f'  <link rel="alternate" href="{escape(item.link)}"/>\n'
            f"  <id>{escape(guid)}</id>\n"
            f"  <published>{item.published.isoformat()}</published>\n"
            f"  <updated>{item.published.isoformat()}</updated>\n"
            f'  <summary type="html">{escape(item.description_html)}</summary>\n'
            f"  <author><name>Staff {escape(name)}</name></author>\n"
            "</entry>\n"
        )
    out.append("</feed>\n")
    return "".join(out).encode()


def outlet_name(rng: random.Random, index: int) -> str:
    """A plausible outlet name, unique by its index."""
    return f"{rng.choice(_PLACES)} {rng.choice(_OUTLET_WORDS)} #{index}"


def make_feeds(count: int, items_per_feed: int, now: datetime | None = None) -> list[SyntheticFeed]:
    """`count` feeds, even indexes RSS 2.0 and odd ones Atom 1.0."""
    now = now or datetime.now(UTC)
    rng = random.Random(SEED)
    shared = _big_stories(rng, max(10, count // 4))
    feeds = []
    for index in range(count):
        host = f"news{index}.example"
        name = outlet_name(rng, index)
        items = make_items(index, items_per_feed, now, host, shared)
        if index % 2 == 0:
            body, kind, ctype = rss(name, host, items, now), "rss", "application/rss+xml"
        else:
            body, kind, ctype = atom(name, host, items, now), "atom", "application/atom+xml"
        feeds.append(SyntheticFeed(index, kind, name, host, body, ctype + "; charset=utf-8"))
    return feeds


def headlines(count: int, seed: int) -> list[tuple[str, str]]:
    """`count` distinct (headline, plain-text summary) pairs for clustering benchmarks."""
    return list(itertools.islice(iter_headlines(seed), count))


def iter_headlines(seed: int) -> Iterator[tuple[str, str]]:
    """The pairs of `headlines`, one at a time (a million do not need to be held at once)."""
    rng = random.Random(seed)
    while True:
        yield headline(rng), _sentence(rng, rng.randint(30, 60))


def near_duplicate(rng: random.Random, title: str, summary: str) -> tuple[str, str]:
    """Another outlet's report of the same story."""
    words = summary.split()
    return _variant(rng, title), " ".join(words[: max(5, len(words) - 6)]) + " Officials said."
