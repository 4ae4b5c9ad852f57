"""parse_feed over every file of ../shared/corpus: feedparser's own test suite and real feeds.

One test per feedparser-tests directory (not per file: ~2,100 files), each collecting
every failing file name into its assertion message. Real feeds are parsed once per module.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from bot.core.canonical import canonical_url
from bot.core.models import ParsedFeed
from bot.core.poll.parse import parse_feed
from tests.conftest import real_feed_bodies

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
FEEDPARSER_TESTS = CORPUS / "feedparser-tests"
REAL_FEEDS = CORPUS / "real-feeds"
# The real feeds were captured up to Feb 2026; "now" must be after their newest item or
# those dates would count as "in the future" and be replaced by the fetch time.
FETCHED_AT = datetime(2026, 3, 1, tzinfo=UTC)

# A "<" directly followed by a letter, "/", "!" or "?" is how every tag, end tag, comment,
# doctype and processing instruction starts. This is stricter than "a complete tag" (it
# also flags a dangling "<b" with no ">"), so any hit is a real leak or is listed below.
MARKUP_RE = re.compile(r"<[a-zA-Z/!?]")
# Files whose *text* legitimately contains such a sequence.
MARKUP_LOOKALIKE_TEXT = {
    # the description is the escaped text `<!' <a href="foo">`: its "<!'" is literal text
    # (the test exists because HTML parsers mistake it for a doctype); "<a ...>" is a real
    # tag and is removed
    "wellformed/rss/item_description_not_a_doctype.xml": "<!'",
}

# feedparser-tests files where fatal=True is the right answer.
EXPECTED_FATAL = {
    "illformed/rss_empty_document.xml": "an XML comment and nothing else",
    # Microsoft CDF channels with no items: feedparser reads the channel title but
    # reports no version, and with no entries either there is nothing to tell them
    # apart from any other non-feed XML document.
    **{
        f"wellformed/cdf/{name}.xml": "CDF channel without items"
        for name in (
            "channel_abstract_map_description",
            "channel_abstract_map_tagline",
            "channel_href_map_link",
            "channel_href_map_links",
            "channel_lastmod",
            "channel_lastmod_parsed",
            "channel_title",
        )
    },
}

# Real feeds that yield no entry at all, and why.
REAL_WITHOUT_ENTRIES = {
    "malformed_dylanharris.rss.xml": (
        "a comment before a broken '<?xml?xml ...??>' declaration: the XML parser stops at "
        "line 4 and feedparser's loose fallback parser does not recover any <item>"
    ),
    "reuters-mostread.invalid.rss.xml": (
        "the document is cut off inside the channel (expat: 'no element found'), before any <item>"
    ),
}
# Real feeds that must come with a `problem`, and the start of it.
REAL_PROBLEMS = {
    "malformed_dylanharris.rss.xml": "not well-formed XML: invalid token (line 4",
    "malformed_invalid-token.rss.xml": "not well-formed XML: invalid token (line 46",
    "malformed_junk-after-root.rss.xml": "not well-formed XML: junk after document element",
    "malformed_undefined-entity.atom.xml": "not well-formed XML: undefined entity",
    "malformed_wrong-encoding-decl.rss.xml": "character encoding: not valid utf-16",
    "reuters-mostread.invalid.rss.xml": "not well-formed XML: no element found",
    # no XML declaration and Latin-1 bytes: read correctly, but worth telling the owner
    "lecerclepsy.no-xml-decl.rss.xml": "character encoding: not valid utf-8",
    "uol-noticias.no-decl-latin1.rss.xml": "character encoding: not valid utf-8",
}
JSON_FEEDS = {"humanwhocodes.jsonfeed.json": 10, "influxdata.jsonfeed11.json": 3}

_HEADER_RE = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.M | re.I)


def _require(path: Path) -> None:
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path} (it lives next to the repo, in ../shared/corpus)")


def _content_type(body: bytes) -> str | None:
    # The upstream harness simulates an HTTP Content-Type given in the file's comment;
    # the encoding tests depend on it.
    match = _HEADER_RE.search(body[:2000])
    return match.group(1).decode("ascii", "replace") if match else None


def _violations(name: str, feed: object) -> list[str]:
    """Everything wrong with one parse result, as "name: reason" lines."""
    if not isinstance(feed, ParsedFeed):
        return [f"{name}: returned {type(feed).__name__}, not ParsedFeed"]
    found = []
    allowed = MARKUP_LOOKALIKE_TEXT.get(name)
    for i, entry in enumerate(feed.entries):
        for field, text in (("title", entry.title), ("summary", entry.summary)):
            for match in MARKUP_RE.finditer(text):
                if allowed is None or not text.startswith(allowed, match.start()):
                    snippet = text[max(0, match.start() - 30) : match.start() + 30]
                    found.append(f"{name}: entry {i} {field} has markup: {snippet!r}")
        published = entry.published
        if published is None or published.utcoffset() != timedelta(0):
            found.append(f"{name}: entry {i} published={published!r} is not aware UTC")
    if feed.fatal and feed.entries:
        found.append(f"{name}: fatal with {len(feed.entries)} entries")
    return found


def _parse_all(
    files: list[tuple[str, bytes, str | None]],
) -> tuple[dict[str, ParsedFeed], list[str]]:
    results: dict[str, ParsedFeed] = {}
    problems: list[str] = []
    for name, body, content_type in files:
        url = "http://example.com/" if content_type is None else "http://example.com/feed"
        try:
            feed = parse_feed(body, url=url, content_type=content_type, fetched_at=FETCHED_AT)
        except Exception as exc:  # the contract is "never raises": report, do not stop
            problems.append(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        problems += _violations(name, feed)
        results[name] = feed
    return results, problems


# --------------------------------------------------------------------------- feedparser-tests

# Per-directory file counts from SOURCE.txt (which sums them to 2106; they add up to 2107).
FEEDPARSER_COUNTS = {
    "encoding": 82,
    "entities": 256,
    "illformed": 19,
    "json": 1,
    "wellformed": 1749,
}
FEEDPARSER_DIRS = sorted(FEEDPARSER_COUNTS)


def _feedparser_files(directory: str) -> list[tuple[str, bytes, str | None]]:
    files = []
    for path in sorted((FEEDPARSER_TESTS / directory).rglob("*")):
        if path.is_file() and path.name not in {"LICENSE", "SOURCE.txt"}:
            body = path.read_bytes()  # raw bytes: UTF-16/32, BOMs, legacy charsets
            name = path.relative_to(FEEDPARSER_TESTS).as_posix()
            files.append((name, body, _content_type(body)))
    return files


def test_feedparser_corpus_is_complete() -> None:
    _require(FEEDPARSER_TESTS)
    top = {p.name for p in FEEDPARSER_TESTS.iterdir() if p.is_dir()}
    assert top == set(FEEDPARSER_DIRS)
    assert {d: len(_feedparser_files(d)) for d in FEEDPARSER_DIRS} == FEEDPARSER_COUNTS


@pytest.mark.parametrize("directory", FEEDPARSER_DIRS)
def test_feedparser_corpus(directory: str) -> None:
    _require(FEEDPARSER_TESTS)
    files = _feedparser_files(directory)
    assert files, f"no files under {FEEDPARSER_TESTS / directory}"
    results, problems = _parse_all(files)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:50])
    fatal = {name for name, feed in results.items() if feed.fatal}
    expected = {name for name in EXPECTED_FATAL if name.startswith(f"{directory}/")}
    assert fatal == expected, f"unexpected fatal: {sorted(fatal - expected)}; " + (
        f"expected fatal but parsed: {sorted(expected - fatal)}"
    )
    for name in fatal:
        assert results[name].problem, f"{name}: fatal without a problem"


def test_feedparser_json_example() -> None:
    _require(FEEDPARSER_TESTS)
    body = (FEEDPARSER_TESTS / "json" / "example.json").read_bytes()
    feed = parse_feed(body, url="https://example.org/feed.json", fetched_at=FETCHED_AT)
    assert (feed.title, feed.problem, feed.fatal) == ("My Example Feed", None, False)
    assert [(e.guid, e.link, e.title, e.summary) for e in feed.entries] == [
        ("2", "https://example.org/second-item", "post 2", "This is a second item."),
        # no title: the start of the text; the <script> in content_html is dropped
        ("1", "https://example.org/initial-post", "Hello, world!", "Hello, world!"),
    ]
    assert feed.entries[1].author == "you"


# --------------------------------------------------------------------------- real feeds


@pytest.fixture(scope="module")
def real() -> tuple[dict[str, ParsedFeed], list[str]]:
    return _parse_all([(name, body, None) for name, body in real_feed_bodies()])


def test_real_feeds_parse_cleanly(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    results, problems = real
    assert len(results) + len(problems) >= 55
    assert not problems, "\n".join(problems)
    fatal = sorted(name for name, feed in results.items() if feed.fatal)
    assert fatal == [], f"fatal: {[(n, results[n].problem) for n in fatal]}"


def test_real_feeds_yield_entries(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    results, _ = real
    empty = {name for name, feed in results.items() if not feed.entries}
    assert empty == set(REAL_WITHOUT_ENTRIES), f"without entries: {sorted(empty)}"


def test_real_feed_problems(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    results, _ = real
    flagged = {name: feed.problem for name, feed in results.items() if feed.problem}
    assert set(flagged) == set(REAL_PROBLEMS), f"problems: {flagged}"
    for name, start in REAL_PROBLEMS.items():
        problem = flagged[name]
        assert problem is not None
        assert problem.startswith(start), f"{name}: {problem!r}"
        assert "\n" not in problem


def test_real_json_feeds(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    results, _ = real
    for name, count in JSON_FEEDS.items():
        assert len(results[name].entries) == count, name
        assert all(e.link and e.link.startswith("https://") for e in results[name].entries)


@pytest.mark.parametrize(
    ("name", "title_start"),
    [
        ("ibash-ru.windows-1251.rss.xml", "Цитата #"),
        ("oren-ru.windows-1251.rss.xml", "В Бузулуке главные стройплощадки"),
        ("golem-de.iso-8859-1.rss.xml", "Red Dead Redemption 2: Hinweise"),
        ("jn-pt.iso-8859-1.rss.xml", "Mãe de utente é a nova presidente"),
        ("uol-noticias.no-decl-latin1.rss.xml", "Ibope: Bolsonaro perde de Haddad"),
        ("bbc-urdu.rss.xml", "امریکی عسکری امداد"),
    ],
)
def test_real_feeds_decode_their_encoding(
    real: tuple[dict[str, ParsedFeed], list[str]], name: str, title_start: str
) -> None:
    entries = real[0][name].entries
    assert entries[0].title.startswith(title_start)
    mojibake = [e.title for e in entries if re.search("[ÃÐÑ][\u0080-\u00bf]|\ufffd", e.title)]
    assert mojibake == []


def test_nk_item_in_economist(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    title = "What North Korea gains by sending troops to fight for Russia"
    link = "https://www.economist.com/asia/2025/01/15/what-north-korea-gains-by-sending-troops-to-fight-for-russia"
    hits = [e for e in real[0]["economist-asia.rss.xml"].entries if e.title == title]
    assert len(hits) == 1
    assert hits[0].link == link
    assert hits[0].summary == "Resources, technology, experience and a blood-soaked IOU"
    assert hits[0].published == datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)


def test_every_listed_nk_item_is_found(real: tuple[dict[str, ParsedFeed], list[str]]) -> None:
    with (REAL_FEEDS / "NK_RU_ITEMS.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) >= 12
    missing = []
    for row in rows:
        hits = [e for e in real[0][row["file"]].entries if e.title == row["title"]]
        expected = (canonical_url(row["link"]), parsedate_to_datetime(row["date"]))
        if [(e.link, e.published) for e in hits] != [expected]:
            missing.append(
                f"{row['file']}: {row['title']!r} -> {[(e.link, e.published) for e in hits]}"
            )
    assert not missing, "\n".join(missing)
