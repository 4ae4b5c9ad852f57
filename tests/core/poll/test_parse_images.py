"""An item's picture: media:thumbnail, media:content, enclosure, JSON Feed image; http(s) only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.core.models import ParsedEntry
from bot.core.poll.parse import IMAGE_URL_MAX_CHARS, parse_feed

URL = "https://news.example.com/feeds/world.xml"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'


def rss_entry(inner: str) -> ParsedEntry:
    body = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" {MEDIA}><channel>'
        f"<title>T</title><item><title>Kim meets Putin</title>"
        f"<link>https://news.example.com/a</link>{inner}</item></channel></rss>"
    )
    feed = parse_feed(body.encode(), url=URL, fetched_at=NOW)
    assert len(feed.entries) == 1, feed
    return feed.entries[0]


def json_entry(item: dict[str, object]) -> ParsedEntry:
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [item]}
    feed = parse_feed(json.dumps(doc).encode(), url=URL, fetched_at=NOW)
    return feed.entries[0]


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ('<media:thumbnail url="https://img.example.com/t.jpg" width="120"/>', "t.jpg"),
        ('<media:content url="https://img.example.com/c.jpg" medium="image"/>', "c.jpg"),
        ('<media:content url="https://img.example.com/c.png" type="image/png"/>', "c.png"),
        ('<media:content url="https://img.example.com/bare.jpg"/>', "bare.jpg"),
        ('<enclosure url="https://img.example.com/e.jpg" type="image/jpeg" length="1"/>', "e.jpg"),
        (
            '<media:group><media:content url="https://img.example.com/g.jpg" medium="image"/>'
            "</media:group>",
            "g.jpg",
        ),
    ],
)
def test_rss_picture_sources(inner: str, expected: str) -> None:
    assert rss_entry(inner).image_url == f"https://img.example.com/{expected}"


def test_thumbnail_wins_over_content_and_enclosure() -> None:
    entry = rss_entry(
        '<enclosure url="https://img.example.com/e.jpg" type="image/jpeg" length="1"/>'
        '<media:content url="https://img.example.com/c.jpg" medium="image"/>'
        '<media:thumbnail url="https://img.example.com/t.jpg"/>'
    )
    assert entry.image_url == "https://img.example.com/t.jpg"


def test_video_audio_and_non_image_enclosures_are_not_pictures() -> None:
    entry = rss_entry(
        '<media:content url="https://cdn.example.com/v.mp4" medium="video"/>'
        '<enclosure url="https://cdn.example.com/a.mp3" type="audio/mpeg" length="1"/>'
    )
    assert entry.image_url is None


def test_relative_picture_resolves_against_the_feed() -> None:
    entry = rss_entry('<media:thumbnail url="/img/t.jpg"/>')
    assert entry.image_url == "https://news.example.com/img/t.jpg"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "ftp://img.example.com/t.jpg",
        "https://img.example.com/a b.jpg",
        "https://img.example.com/a&quot;onerror=x.jpg",
        "https://img.example.com/<b>.jpg",
        "https://img.example.com/" + "x" * IMAGE_URL_MAX_CHARS,
    ],
)
def test_unsafe_pictures_are_dropped(url: str) -> None:
    assert rss_entry(f'<media:thumbnail url="{url}"/>').image_url is None


def test_an_unsafe_thumbnail_falls_back_to_the_next_candidate() -> None:
    entry = rss_entry(
        '<media:thumbnail url="javascript:alert(1)"/>'
        '<enclosure url="https://img.example.com/e.jpg" type="image/jpeg" length="1"/>'
    )
    assert entry.image_url == "https://img.example.com/e.jpg"


def test_atom_enclosure_link() -> None:
    body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        '<entry><title>a</title><id>1</id><link href="https://news.example.com/a"/>'
        '<link rel="enclosure" type="image/png" href="https://img.example.com/a.png"/></entry>'
        "</feed>"
    )
    (entry,) = parse_feed(body.encode(), url=URL, fetched_at=NOW).entries
    assert entry.image_url == "https://img.example.com/a.png"


def test_json_feed_image_banner_and_attachment() -> None:
    base = {"id": "1", "url": "https://news.example.com/a", "title": "A"}
    assert json_entry(base | {"image": "https://img.example.com/i.jpg"}).image_url == (
        "https://img.example.com/i.jpg"
    )
    assert json_entry(base | {"banner_image": "https://img.example.com/b.jpg"}).image_url == (
        "https://img.example.com/b.jpg"
    )
    attachments = [
        {"url": "https://cdn.example.com/a.mp3", "mime_type": "audio/mpeg"},
        {"url": "https://img.example.com/att.webp", "mime_type": "image/webp"},
    ]
    assert json_entry(base | {"attachments": attachments}).image_url == (
        "https://img.example.com/att.webp"
    )
    assert json_entry(base | {"image": "javascript:alert(1)", "attachments": 5}).image_url is None


def test_no_picture() -> None:
    assert rss_entry("").image_url is None
    assert json_entry({"id": "1", "title": "A", "image": {"url": "x"}}).image_url is None
