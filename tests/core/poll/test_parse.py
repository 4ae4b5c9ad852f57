"""parse_feed on hand-written feeds: every format, encoding, date and failure mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import ParsedEntry, ParsedFeed
from bot.core.poll import parse as parse_module
from bot.core.poll.parse import SUMMARY_MAX_CHARS, UNTITLED, parse_feed

URL = "https://news.example.com/feeds/world.xml"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def parse(body: bytes | str, content_type: str | None = None) -> ParsedFeed:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_feed(data, url=URL, content_type=content_type, fetched_at=NOW)


def only(feed: ParsedFeed) -> ParsedEntry:
    assert len(feed.entries) == 1, feed
    return feed.entries[0]


def rss_item(inner: str, channel: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>T</title><link>https://news.example.com/</link>{channel}"
        f"<item>{inner}</item></channel></rss>"
    )


# --------------------------------------------------------------------------- formats

RSS20 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>World &amp; More</title>
  <link>https://news.example.com/world?utm_source=rss</link>
  <ttl>30</ttl>
  <item>
    <title>Kim meets Putin</title>
    <link>https://news.example.com/2025/01/kim-putin?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="true">https://news.example.com/2025/01/kim-putin</guid>
    <description>&lt;p&gt;Leaders &lt;b&gt;met&lt;/b&gt; in Vladivostok.&lt;/p&gt;</description>
    <pubDate>Wed, 15 Jan 2025 16:06:15 +0900</pubDate>
    <author>desk@example.com (Foreign Desk)</author>
  </item>
  <item>
    <title>Second</title>
    <link>/2025/01/second.html</link>
    <guid isPermaLink="false">  item-2  </guid>
  </item>
</channel>
</rss>"""


def test_rss20() -> None:
    feed = parse(RSS20)
    assert feed.fatal is False
    assert feed.problem is None
    assert feed.title == "World & More"
    assert feed.link == "https://news.example.com/world"
    assert feed.ttl_minutes == 30
    first, second = feed.entries
    assert first == ParsedEntry(
        guid="https://news.example.com/2025/01/kim-putin",
        link="https://news.example.com/2025/01/kim-putin",
        title="Kim meets Putin",
        summary="Leaders met in Vladivostok.",
        published=datetime(2025, 1, 15, 7, 6, 15, tzinfo=UTC),
        author="desk@example.com (Foreign Desk)",
    )
    # relative link resolved against the feed URL; GUID stripped; no date -> fetched_at
    assert second == ParsedEntry(
        guid="item-2",
        link="https://news.example.com/2025/01/second.html",
        title="Second",
        summary="",
        published=NOW,
        author=None,
    )


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/atom/">
  <title type="html">Blog &lt;i&gt;of&lt;/i&gt; record</title>
  <link rel="alternate" href="https://blog.example.org/"/>
  <id>tag:blog.example.org,2025:feed</id>
  <updated>2025-01-15T16:06:15Z</updated>
  <entry>
    <title type="html">&lt;em&gt;Troops&lt;/em&gt; &amp;amp; drones</title>
    <link rel="alternate" href="../posts/troops#top"/>
    <id>tag:blog.example.org,2025:1</id>
    <updated>2025-01-15T16:06:15+05:30</updated>
    <author><name>Ann Analyst</name></author>
    <content type="html">&lt;p&gt;Full &lt;a href="/x"&gt;article&lt;/a&gt; text.&lt;/p&gt;
    </content>
  </entry>
</feed>"""


def test_atom() -> None:
    feed = parse(ATOM, "application/atom+xml")
    assert (feed.fatal, feed.problem) == (False, None)
    assert feed.title == "Blog of record"
    assert feed.link == "https://blog.example.org/"
    assert only(feed) == ParsedEntry(
        guid="tag:blog.example.org,2025:1",
        link="https://blog.example.org/posts/troops",  # xml:base applied, fragment dropped
        title="Troops & drones",
        summary="Full article text.",  # no <summary>: the content is used
        published=datetime(2025, 1, 15, 10, 36, 15, tzinfo=UTC),  # updated, +05:30
        author="Ann Analyst",
    )


RSS10 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.net/">
    <title>RDF news</title>
    <link>https://rdf.example.net/</link>
  </channel>
  <item rdf:about="https://rdf.example.net/a/1">
    <title>Sanctions talk</title>
    <link>https://rdf.example.net/a/1?maca=en-rss</link>
    <description>Envoys met.</description>
    <dc:date>2025-01-15T16:06:15-05:00</dc:date>
    <dc:creator>Reporter One</dc:creator>
  </item>
</rdf:RDF>"""


def test_rss10_rdf() -> None:
    feed = parse(RSS10)
    assert (feed.fatal, feed.problem, feed.title) == (False, None, "RDF news")
    assert only(feed) == ParsedEntry(
        guid="https://rdf.example.net/a/1",  # feedparser uses rdf:about as the id
        link="https://rdf.example.net/a/1",
        title="Sanctions talk",
        summary="Envoys met.",
        published=datetime(2025, 1, 15, 21, 6, 15, tzinfo=UTC),
        author="Reporter One",
    )


JSON_FEED_11 = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JSON News",
    "home_page_url": "https://json.example.com/",
    "feed_url": "https://json.example.com/feed.json",
    "items": [
        {
            "id": "https://json.example.com/a?utm_campaign=x",
            "url": "/a",
            "title": "Tom &amp; Jerry <b>bold</b>",
            "content_html": "<p>Hello</p><script>alert(1)</script>",
            "summary": "Short summary",
            "date_published": "2025-01-15T16:06:15+09:00",
            "authors": [{"name": "Jay Son"}],
        },
        {
            "id": 42,
            "content_text": "No title here, just text.",
            "date_modified": "2025-01-15T16:06:15Z",
        },
        {"id": "", "external_url": "https://elsewhere.example/x", "date_published": "garbage"},
        "not an item",
    ],
}


def test_json_feed_11() -> None:
    feed = parse(json.dumps(JSON_FEED_11), "application/feed+json")
    assert (feed.fatal, feed.problem) == (False, None)
    assert (feed.title, feed.link) == ("JSON News", "https://json.example.com/")
    assert feed.entries == [
        ParsedEntry(
            guid="https://json.example.com/a?utm_campaign=x",
            link="https://news.example.com/a",  # relative to the URL it was fetched from
            title="Tom & Jerry bold",
            summary="Short summary",  # the summary is preferred over content
            published=datetime(2025, 1, 15, 7, 6, 15, tzinfo=UTC),
            author="Jay Son",
        ),
        ParsedEntry(
            guid="42",
            link=None,
            title="No title here, just text.",
            summary="No title here, just text.",
            published=datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC),
            author=None,
        ),
        ParsedEntry(
            guid=None,
            link="https://elsewhere.example/x",
            title=UNTITLED,
            summary="",
            published=NOW,
            author=None,
        ),
    ]


def test_json_feed_10_author_and_html_content_without_content_type() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old JSON",
        "items": [
            {
                "id": "1",
                "url": "https://json.example.com/1",
                "title": "One",
                "content_html": "<p>Hello, world!</p>\n\n<script>alert();</script>",
                "author": {"name": "you"},
            }
        ],
    }
    body = b"\xef\xbb\xbf" + json.dumps(doc).encode()  # with a UTF-8 BOM
    entry = only(parse(body))
    assert (entry.summary, entry.author, entry.guid) == ("Hello, world!", "you", "1")


def test_json_feed_without_version_is_parsed_with_a_problem() -> None:
    feed = parse(json.dumps({"items": [{"id": "1", "title": "x"}]}))
    assert feed.fatal is False
    assert [e.title for e in feed.entries] == ["x"]
    assert feed.problem is not None
    assert "version" in feed.problem


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        (b'{"title": "no items"}', None, "'items'"),
        (b"[1, 2, 3]", "application/json", "'items'"),
        (b'{"items": [', None, "not valid JSON"),
        (b"not json at all", "application/json", "not valid JSON"),
    ],
)
def test_json_that_is_not_a_json_feed_is_fatal(
    body: bytes, content_type: str | None, needle: str
) -> None:
    feed = parse(body, content_type)
    assert (feed.fatal, feed.entries) == (True, [])
    assert feed.problem is not None
    assert feed.problem.startswith("not a feed:")
    assert needle in feed.problem


# --------------------------------------------------------------------------- text


def test_markup_in_title_and_summary_is_removed() -> None:
    # feedparser's own sanitiser is off (parse.py): the text extractor alone must drop
    # script and style content.
    entry = only(
        parse(
            rss_item(
                "<title>&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;</title>"
                "<description><![CDATA[<script>alert(1)</script><style>b{}</style><b>x</b>"
                " <i onclick='alert(2)'>y</i> &amp; z]]>"
                "</description>"
            )
        )
    )
    assert (entry.title, entry.summary) == ("x", "x y & z")


def test_entities() -> None:
    entry = only(
        parse(
            rss_item(
                "<title>Seoul &amp;amp; Moscow &#8212; caf&#233; &#x2019;s</title>"
                "<description>&lt;p&gt;5 &amp;lt; 6 &amp;amp; 7 &amp;gt; 3&lt;/p&gt;</description>"
            )
        )
    )
    assert entry.title == "Seoul & Moscow — café ’s"
    assert entry.summary == "5 < 6 & 7 > 3"


def test_untitled_item_takes_the_start_of_its_summary() -> None:
    words = "Pyongyang sent troops " * 10
    entry = only(parse(rss_item(f"<description>{words}</description>")))
    assert entry.title == truncated(words.strip(), 80)
    assert len(entry.title) <= 80
    assert entry.summary == words.strip()


def truncated(text: str, limit: int) -> str:
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")] + "…"


def test_item_without_title_or_summary_is_untitled() -> None:
    entry = only(parse(rss_item("<link>https://news.example.com/x</link>")))
    assert (entry.title, entry.summary, entry.link) == (UNTITLED, "", "https://news.example.com/x")


def test_summary_is_capped_and_prefers_the_summary_over_content() -> None:
    long_text = "word " * 1000
    body = rss_item(
        f"<title>t</title><description>{long_text}</description>"
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<![CDATA[<p>the full article</p>]]></content:encoded>"
    )
    entry = only(parse(body))
    assert len(entry.summary) <= SUMMARY_MAX_CHARS
    assert entry.summary.startswith("word word")
    assert entry.summary.endswith("…")


def test_summary_falls_back_to_content_when_the_summary_has_no_text() -> None:
    body = rss_item(
        '<title>t</title><description>&lt;img src="https://x.example/i.jpg"&gt;</description>'
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<![CDATA[<p>the full article</p>]]></content:encoded>"
    )
    assert only(parse(body)).summary == "the full article"


def test_empty_guid_is_none() -> None:
    entry = only(parse(rss_item("<title>t</title><guid isPermaLink='false'>   </guid>")))
    assert entry.guid is None


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "title"),
    [
        ("windows-1251", "Ким Чен Ын и Путин подписали договор"),
        ("ISO-8859-1", "Größe, café, Señor"),
        ("koi8-r", "Северная Корея"),
    ],
)
def test_declared_legacy_encodings(encoding: str, title: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f"<rss version='2.0'><channel><title>{title}</title>"
        f"<item><title>{title}</title><description>{title}</description></item></channel></rss>"
    ).encode(encoding)
    feed = parse(body)
    assert (feed.problem, feed.title) == (None, title)
    assert (only(feed).title, only(feed).summary) == (title, title)


def test_charset_from_content_type_when_the_body_declares_nothing() -> None:
    title = "Новости Кореи"
    body = f"<rss version='2.0'><channel><item><title>{title}</title></item></channel></rss>"
    feed = parse(body.encode("windows-1251"), "application/rss+xml; charset=windows-1251")
    assert (feed.problem, only(feed).title) == (None, title)


def test_undeclared_utf8_is_utf8_when_the_server_sends_no_content_type() -> None:
    body = (
        "<rss version='2.0'><channel><item><title>Пхеньян — Москва</title></item></channel></rss>"
    )
    feed = parse(body.encode("utf-8"))
    assert (feed.problem, only(feed).title) == (None, "Пхеньян — Москва")


def test_undeclared_latin1_is_still_read_and_flagged() -> None:
    body = "<rss version='2.0'><channel><item><title>Coréia do Norte</title></item></channel></rss>"
    feed = parse(body.encode("iso-8859-1"))
    assert only(feed).title == "Coréia do Norte"
    assert feed.problem == (
        "character encoding: not valid utf-8 (declared or default), decoded as windows-1252"
    )


def test_utf16_with_bom() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-16"?>'
        '<rss version="2.0"><channel><item><title>Ким</title></item></channel></rss>'
    )
    feed = parse(body.encode("utf-16"))
    assert (feed.fatal, feed.problem, only(feed).title) == (False, None, "Ким")


# --------------------------------------------------------------------------- bozo and fatal

BOZO = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Broken</title>
<item><title>First</title><link>https://x.example/1</link></item>
<item><title>Second</title><link>https://x.example/2</link></item>
<item><title>Third</titel></item>
</channel></rss>"""


def test_bozo_feed_still_yields_its_items_and_a_one_line_problem() -> None:
    feed = parse(BOZO)
    assert feed.fatal is False
    assert [(e.title, e.link) for e in feed.entries[:2]] == [
        ("First", "https://x.example/1"),
        ("Second", "https://x.example/2"),
    ]
    assert feed.problem == "not well-formed XML: mismatched tag (line 5, column 20)"


def test_undefined_entity_is_a_problem_not_a_failure() -> None:
    feed = parse(rss_item("<title>A &nbsp; B</title>"))
    assert only(feed).title == "A B"
    assert feed.problem is not None
    assert feed.problem.startswith("not well-formed XML: undefined entity (line 2")


HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Welcome</title></head><body><h1>News</h1><p>Read our news.</p></body></html>"""


@pytest.mark.parametrize(
    ("body", "content_type", "served"),
    [
        (HTML_PAGE, "text/html; charset=utf-8", "(text/html; charset=utf-8)"),
        (HTML_PAGE, None, "(no Content-Type)"),
        (b"\n  <!-- cms --><html lang='en'><body>hi</body></html>", None, "(no Content-Type)"),
        (b"<p>a fragment served as html</p>", "text/html", "(text/html)"),
    ],
)
def test_html_page_is_fatal_with_a_clear_message(
    body: bytes, content_type: str | None, served: str
) -> None:
    feed = parse(body, content_type)
    assert (feed.fatal, feed.entries, feed.title) == (True, [], None)
    assert feed.problem == (
        f"not a feed: the server returned an HTML page {served}, not RSS/Atom/JSON Feed"
        " — check the feed URL"
    )


@pytest.mark.parametrize("body", [b"", b"   \n\t  "])
def test_empty_body_is_fatal(body: bytes) -> None:
    feed = parse(body)
    assert (feed.fatal, feed.entries) == (True, [])
    assert feed.problem == "empty response body: the server sent no feed content"


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64,
        b"Just some plain text, no markup.",
        b'<?xml version="1.0"?><config><title>not a feed</title></config>',
    ],
)
def test_garbage_is_fatal(body: bytes) -> None:
    feed = parse(body, "application/octet-stream")
    assert (feed.fatal, feed.entries) == (True, [])
    assert feed.problem is not None
    assert feed.problem.startswith(f"not a feed: {len(body)} bytes (application/octet-stream)")
    assert "\n" not in feed.problem


def test_body_naming_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    # feedparser.parse(bytes) would open() a body that happens to be a file path.
    local = tmp_path / "secret.xml"
    local.write_text(rss_item("<title>local secret</title>"), encoding="utf-8")
    feed = parse(str(local).encode())
    assert (feed.fatal, feed.entries) == (True, [])


def test_xml_feed_served_as_json_is_still_parsed() -> None:
    feed = parse(rss_item("<title>ok</title>"), "application/json")
    assert (feed.fatal, only(feed).title) == (False, "ok")


def test_valid_feed_served_as_text_html_is_parsed_with_a_warning() -> None:
    feed = parse(rss_item("<title>ok</title>"), "text/html")
    assert (feed.fatal, only(feed).title) == (False, "ok")
    assert feed.problem == "wrong Content-Type: text/html is not an XML media type (parsed anyway)"


def test_text_xml_without_charset_is_not_flagged() -> None:
    # RFC 3023 says text/xml without charset is us-ascii; servers mean UTF-8.
    feed = parse(rss_item("<title>Ким Чен Ын</title>"), "text/xml")
    assert (feed.problem, only(feed).title) == (None, "Ким Чен Ын")


def test_parse_feed_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("feedparser\nexploded")

    monkeypatch.setattr(parse_module.feedparser, "parse", boom)
    feed = parse(RSS20)
    assert (feed.fatal, feed.entries) == (True, [])
    assert feed.problem == "parser error: RuntimeError: feedparser exploded"


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Wed, 15 Jan 2025 16:06:15 +0000", datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)),
        ("Wed, 15 Jan 2025 16:06:15 GMT", datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)),
        ("Wed, 15 Jan 2025 16:06:15 +0900", datetime(2025, 1, 15, 7, 6, 15, tzinfo=UTC)),
        ("Wed, 15 Jan 2025 01:05:00 -0500", datetime(2025, 1, 15, 6, 5, tzinfo=UTC)),
        ("Wed, 15 Jan 2025 16:06:15 EST", datetime(2025, 1, 15, 21, 6, 15, tzinfo=UTC)),
        ("Thu, 16 Jan 2025 00:36:15 +0530", datetime(2025, 1, 15, 19, 6, 15, tzinfo=UTC)),
        ("2025-01-15T16:06:15+03:00", datetime(2025, 1, 15, 13, 6, 15, tzinfo=UTC)),
        ("2025-01-15", datetime(2025, 1, 15, tzinfo=UTC)),
        # missing, unparseable, far future and pre-1990 dates fall back to the fetch time
        ("", NOW),
        ("sometime last week", NOW),
        ("Fri, 01 Jan 2100 00:00:00 GMT", NOW),
        ("Thu, 01 Jan 1970 00:00:00 GMT", NOW),
    ],
)
def test_pubdate_to_utc(date: str, expected: datetime) -> None:
    entry = only(parse(rss_item(f"<title>t</title><pubDate>{date}</pubDate>")))
    assert entry.published == expected
    assert entry.published is not None
    assert entry.published.utcoffset() == timedelta(0)


def test_updated_is_used_when_published_is_missing() -> None:
    body = rss_item(
        "<title>t</title>"
        '<dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">2025-01-15T16:06:15Z</dc:date>'
    )
    assert only(parse(body)).published == datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ttl", "expected"), [("60", 60), (" 15 ", 15), ("0", None), ("soon", None), ("-5", None)]
)
def test_ttl(ttl: str, expected: int | None) -> None:
    feed = parse(rss_item("<title>t</title>", channel=f"<ttl>{ttl}</ttl>"))
    assert feed.ttl_minutes == expected
