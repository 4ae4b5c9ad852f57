"""canonical_url, html_to_text and to_utc: table-driven, every case with its expected value."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core import canonical
from bot.core.canonical import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    canonical_url,
    html_to_text,
    to_utc,
    truncate,
)

FEED = "https://news.example.com/feeds/world/rss.xml"

# --------------------------------------------------------------------------- canonical_url

CANONICAL_CASES = [
    # scheme and host are lower-cased, the path keeps its case
    ("HTTP://News.Example.COM/World/Story.HTML", None, "http://news.example.com/World/Story.HTML"),
    # default ports dropped, other ports kept
    ("http://example.com:80/a", None, "http://example.com/a"),
    ("https://example.com:443/a", None, "https://example.com/a"),
    ("https://example.com:80/a", None, "https://example.com:80/a"),
    ("http://example.com:8080/a", None, "http://example.com:8080/a"),
    # empty path becomes "/", fragments go (a "#!" route names the page and stays)
    ("https://example.com", None, "https://example.com/"),
    ("https://example.com/a#comments", None, "https://example.com/a"),
    ("https://example.com/#!/story/42", None, "https://example.com/#!/story/42"),
    # tracking parameters go, in any case; the rest keep their order and bytes
    (
        "https://example.com/a?utm_source=rss&id=7&fbclid=abc&UTM_Medium=x&gclid=1&b=2",
        None,
        "https://example.com/a?id=7&b=2",
    ),
    (
        "https://www.bbc.com/news/articles/x?at_medium=RSS&at_campaign=KARANGA",
        None,
        "https://www.bbc.com/news/articles/x",
    ),
    (
        "https://e.com/p?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&yclid=5&_ga=6&igshid=7&ref_src=8"
        "&cmpid=9&ocid=10&keep=yes",
        None,
        "https://e.com/p?keep=yes",
    ),
    (
        "https://example.com/s?q=a+b&path=%2Fx&utm_term=z",
        None,
        "https://example.com/s?q=a+b&path=%2Fx",
    ),
    # feed-specific trackers from the real-feeds corpus; Al Jazeera's ?t= is an id, kept
    (
        "https://www.dw.com/en/x/a-75995188?maca=en-rss-en-all-1573-rdf",
        None,
        "https://www.dw.com/en/x/a-75995188",
    ),
    (
        "https://www.heise.de/-4205274?wt_mc=rss.ho.beitrag.rdf",
        None,
        "https://www.heise.de/-4205274",
    ),
    (
        "https://www.aljazeera.com/news/x?traffic_source=rss",
        None,
        "https://www.aljazeera.com/news/x",
    ),
    ("https://www.aljazeera.com/?t=1771350737", None, "https://www.aljazeera.com/?t=1771350737"),
    # a trailing "?" or "&", and a query that was all tracking, leave no "?"
    ("https://example.com/a?", None, "https://example.com/a"),
    ("https://example.com/a?x=1&", None, "https://example.com/a?x=1"),
    ("https://example.com/a?utm_source=x&utm_medium=y", None, "https://example.com/a"),
    # relative links resolve against the base
    ("/2025/01/story.html", FEED, "https://news.example.com/2025/01/story.html"),
    ("story.html?id=3", FEED, "https://news.example.com/feeds/world/story.html?id=3"),
    ("../asia/", FEED, "https://news.example.com/feeds/asia/"),
    ("//cdn.example.net/a", FEED, "https://cdn.example.net/a"),
    ("https://other.example.org/x", FEED, "https://other.example.org/x"),
    # IDNA host, IPv6 literal, percent-encoding of spaces and non-ASCII, upper-case escapes
    ("https://Bücher.example/a", None, "https://xn--bcher-kva.example/a"),
    ("http://[2001:DB8::1]:80/a", None, "http://[2001:db8::1]/a"),
    ("https://example.com/a b/é?q=ü", None, "https://example.com/a%20b/%C3%A9?q=%C3%BC"),
    ("https://example.com/%c3%a9", None, "https://example.com/%C3%A9"),
    # surrounding whitespace (common in hand-written feeds) is not part of the URL
    ("  https://example.com/a \n", None, "https://example.com/a"),
]


@pytest.mark.parametrize(("url", "base", "expected"), CANONICAL_CASES)
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(("url", "base", "expected"), CANONICAL_CASES)
def test_canonical_url_is_idempotent(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(expected) == expected


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("", None),
        ("   ", None),
        ("javascript:alert(1)", None),
        ("mailto:news@example.com", None),
        ("ftp://example.com/file", None),
        ("data:text/html,<b>x</b>", None),
        ("http://", None),
        ("https:///path-only", None),
        ("http://[::1", None),  # unclosed IPv6 literal: urlsplit raises
        ("http://example.com:99999/", None),  # port out of range
        ("http://example.com:port/", None),
        ("http://exa\nmple.com/", None),  # control character inside
        ("/relative/without/base", None),
        ("not a url at all", None),
        ("javascript:alert(1)", FEED),  # an absolute non-http URL ignores the base
        ("https://example.com/a", "http://[::1"),  # a broken base
    ],
)
def test_canonical_url_rejects_garbage(url: str, base: str | None) -> None:
    assert canonical_url(url, base) is None


def test_tracking_list_is_documented_and_complete() -> None:
    brief = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "yclid", "_ga"}
    brief |= {"igshid", "ref_src", "cmpid", "ocid"}
    assert isinstance(TRACKING_PARAMS, frozenset)
    assert brief <= TRACKING_PARAMS
    assert {"utm_", "at_"} <= set(TRACKING_PREFIXES)
    # generic names that some sites use to select content must never be stripped
    assert not {"id", "p", "t", "q", "page", "ref", "rss", "src", "source"} & TRACKING_PARAMS


# --------------------------------------------------------------------------- html_to_text

HTML_CASES = [
    ("<script>alert(1)</script><b>x</b>", "x"),
    ("<style>p { color: red }</style><p>Hello</p>", "Hello"),
    ("<noscript>Enable JS</noscript>Story", "Story"),
    ('<img src="x" onerror="alert(1)">', ""),
    ("<!-- hidden -->shown", "shown"),
    ("Tom &amp; Jerry &lt;3 &#8217;s caf&eacute; &#x41;", "Tom & Jerry <3 ’s café A"),
    ("a < b and c > d", "a < b and c > d"),
    ("profits <5% in Q3", "profits <5% in Q3"),
    ("<p>One</p><p>Two<br/>Three</p>", "One\nTwo\nThree"),
    ("<div>Line<div>Nested</div></div>", "Line\nNested"),
    ("  lots   of\n\t space  ", "lots of space"),
    ("<p>  wrapped\n   source\n  lines </p>", "wrapped source lines"),
    ("a&nbsp;b", "a b"),
    ("", ""),
    ("plain title", "plain title"),
    # double-escaped HTML, common in real feeds: one more layer is removed
    ("&lt;p&gt;Hello &amp;amp; bye&lt;/p&gt;", "Hello & bye"),
    ("&amp;#8217;", "’"),
    # truncated or unclosed markup at the end is dropped, as a browser would
    ("Read more <a href='https://example.com/x", "Read more"),
    ("<b>x</b><script>evil()", "x"),
    ("Kim <i>and</i> Putin<!-- unterminated", "Kim and Putin"),
    # mis-nested skipped elements do not swallow the rest
    ("<script><style></script>after", "after"),
]


@pytest.mark.parametrize(("html", "expected"), HTML_CASES)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_html_to_text_truncates_at_a_word_boundary() -> None:
    text = html_to_text("<p>" + "word " * 100 + "</p>", max_chars=50)
    assert len(text) <= 50
    assert text.endswith("…")
    assert set(text[:-1].split()) == {"word"}
    assert text == ("word " * 10).strip()[:44] + "…"


def test_html_to_text_short_text_is_not_marked_truncated() -> None:
    assert html_to_text("<b>short</b>", max_chars=50) == "short"


def test_html_to_text_cuts_one_long_word_mid_way() -> None:
    assert html_to_text("x" * 100, max_chars=10) == "x" * 9 + "…"


def test_html_to_text_stops_early_on_huge_input() -> None:
    html = "<p>" + "<b>word</b> " * 200_000 + "</p>"
    start = time.perf_counter()
    text = html_to_text(html, max_chars=2000)
    assert len(text) <= 2000
    assert text.startswith("word word")
    assert time.perf_counter() - start < 0.5  # the whole input would take seconds


# Pieces of markup for comparing html_to_text's tokeniser for simple markup with html.parser:
# simple ones, and ones it must leave to the parser.
MARKUP_PIECES = [
    *("<p>", "</p>", "<P>", "</DIV>", "<br/>", "<br />", "<p/>", "<b>", "</b>", "<li>", "<h1>"),
    *('<a href="x">', "<a href='y>z'>", "</a>", "<div class=\"a\" id='b'>", '<img src="x"/>'),
    *("text", "word " * 5, " ", "  ", "\n", "\t", "\r\n", "\xa0", "\u3000", "é", "\x0b"),
    *("&amp;", "&lt;p&gt;", "&nbsp;", "&#8217;", "&amp", "&", "&eacute", "&;", "<", ">", "a < b"),
    *("<!-- c -->", "<script>x</script>", "<style>", "</script>", "<title>", "<textarea>", "</>"),
    *("<o:p>", "<a href=x>", "</p class='x'>", "<p\xa0class='x'>", "<a title=\"a\"title='b'>"),
    *("<x-y>", "<br/ >", "< p>", "</ p>", '<p ="x">', "<input disabled>", "<a\nhref='x'>"),
]


def test_simple_markup_tokeniser_agrees_with_html_parser() -> None:
    rng = random.Random(20261202)
    simple = 0
    for _ in range(5_000):
        html = "".join(rng.choice(MARKUP_PIECES) for _ in range(rng.randint(1, 12)))
        for limit in (None, 3, 40):
            fast = canonical._extract_simple(html, limit)
            if fast is not None:
                simple += 1
                assert fast == canonical._TextExtractor(limit, True).text(html), html
                assert fast == canonical._TextExtractor(limit, False).text(html), html
    assert simple > 1_000  # the comparison covered both paths


@pytest.mark.parametrize(
    "html", ["a < b", "<!-- c -->x", "<script>x</script>", "<a href=x>y</a>", "</p class='x'>"]
)
def test_markup_beyond_simple_goes_to_html_parser(html: str) -> None:
    assert canonical._extract_simple(html, None) is None


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcd", 3, "ab…"),
        ("one two three", 9, "one two…"),
        ("anything", 1, "…"),
        ("anything", 0, ""),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


# --------------------------------------------------------------------------- to_utc

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # feedparser's struct_time is already UTC
        (
            time.struct_time((2025, 1, 15, 16, 6, 15, 2, 15, 0)),
            datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC),
        ),
        # aware datetimes in other zones are converted
        (
            datetime(2025, 1, 15, 21, 6, 15, tzinfo=timezone(timedelta(hours=5))),
            datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC),
        ),
        (
            datetime(2025, 1, 14, 23, 6, 15, tzinfo=timezone(timedelta(hours=-17))),
            datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC),
        ),
        # naive datetimes are taken as UTC
        (datetime(2025, 1, 15, 16, 6, 15), datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)),
        # a leap second (struct_time allows 60) is clamped, not rejected
        (
            time.struct_time((2016, 12, 31, 23, 59, 60, 5, 366, 0)),
            datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
        # up to a day ahead is clock skew and kept
        (NOW + timedelta(hours=23), NOW + timedelta(hours=23)),
        (datetime(1990, 1, 1, tzinfo=UTC), datetime(1990, 1, 1, tzinfo=UTC)),
    ],
)
def test_to_utc(value: time.struct_time | datetime, expected: datetime) -> None:
    result = to_utc(value, NOW)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        NOW + timedelta(days=1, seconds=1),  # absurdly in the future
        datetime(2099, 1, 1, tzinfo=UTC),
        datetime(1989, 12, 31, 23, 59, tzinfo=UTC),  # before 1990
        time.gmtime(0),  # the epoch: a broken default, not a date
        time.struct_time((2025, 2, 30, 0, 0, 0, 0, 61, 0)),  # no such day
    ],
)
def test_to_utc_falls_back(value: time.struct_time | datetime | None) -> None:
    assert to_utc(value, NOW) == NOW


def test_to_utc_makes_a_naive_fallback_aware() -> None:
    result = to_utc(None, datetime(2026, 3, 1, 12, 0))
    assert result == NOW
    assert result.tzinfo is UTC
