"""item_key order (GUID URL, opaque GUID, link, hash) and content_hash."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.dedup import MAX_KEY_CHARS, content_hash, item_key
from bot.core.models import ParsedEntry

FEED = "https://Feeds.Example.com:443/world/rss.xml"
OTHER_FEED = "https://aggregator.example.net/asia.xml"
WHEN = datetime(2025, 1, 15, 16, 6, 15, tzinfo=UTC)


def entry(
    guid: str | None = None,
    link: str | None = None,
    title: str = "Kim meets Putin",
    summary: str = "",
) -> ParsedEntry:
    return ParsedEntry(guid=guid, link=link, title=title, summary=summary, published=WHEN)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        # 1. a GUID that is an absolute http(s) URL wins over the link, canonicalised
        (
            entry(
                guid="HTTPS://News.Example.com/2025/kim-putin?utm_source=rss#top",
                link="https://news.example.com/other",
            ),
            "url:news.example.com/2025/kim-putin",
        ),
        (entry(guid="http://news.example.com:80/a?id=3"), "url:news.example.com/a?id=3"),
        # 2. an opaque GUID wins over the link, scoped to the feed's host
        (
            entry(guid="1234", link="https://news.example.com/kim-putin"),
            "guid:feeds.example.com:1234",
        ),
        (
            entry(guid="tag:blog.example.org,2025:1"),
            "guid:feeds.example.com:tag:blog.example.org,2025:1",
        ),
        (
            entry(guid="urn:uuid:ea63b8f4-99f4-41e9-bc3f-4efa4e9af153"),
            "guid:feeds.example.com:urn:uuid:ea63b8f4-99f4-41e9-bc3f-4efa4e9af153",
        ),
        # things that look like URLs but are not absolute http(s) ones are opaque
        (entry(guid="/2025/01/kim-putin"), "guid:feeds.example.com:/2025/01/kim-putin"),
        (
            entry(guid="ftp://files.example.com/a"),
            "guid:feeds.example.com:ftp://files.example.com/a",
        ),
        (entry(guid="http://"), "guid:feeds.example.com:http://"),
        # surrounding whitespace is not part of the GUID
        (entry(guid="  1234\n"), "guid:feeds.example.com:1234"),
        # 3. no GUID (or a blank one): the canonical link
        (
            entry(link="https://news.example.com/kim-putin?fbclid=x"),
            "url:news.example.com/kim-putin",
        ),
        (
            entry(guid="   ", link="https://news.example.com/kim-putin"),
            "url:news.example.com/kim-putin",
        ),
        # 4. neither: a hash of title and summary
        (
            entry(title="Kim meets Putin", summary="In Vladivostok."),
            "hash:" + content_hash("Kim meets Putin", "In Vladivostok."),
        ),
        (
            entry(link="javascript:void(0)", title="t", summary="s"),
            "hash:" + content_hash("t", "s"),
        ),
    ],
)
def test_item_key_order(item: ParsedEntry, expected: str) -> None:
    assert item_key(item, FEED) == expected


def test_title_edit_keeps_the_key_but_changes_the_content_hash() -> None:
    for before in (
        entry(guid="1234"),
        entry(guid="https://news.example.com/a"),
        entry(link="https://news.example.com/a"),
    ):
        after = replace(before, title="UPDATE: Kim meets Putin in Vladivostok")
        assert item_key(after, FEED) == item_key(before, FEED)
        assert content_hash(after.title, after.summary) != content_hash(
            before.title, before.summary
        )


def test_hash_keyed_items_change_key_when_their_text_changes() -> None:
    before = entry(title="Kim meets Putin")
    after = replace(before, title="Kim meets Putin again")
    assert item_key(before, FEED) != item_key(after, FEED)


def test_same_url_from_two_feeds_gives_one_key() -> None:
    from_publisher = entry(guid="https://news.example.com/2025/kim-putin?utm_source=rss")
    from_aggregator = entry(
        guid=None, link="https://NEWS.example.com:443/2025/kim-putin?utm_medium=aggregator#x"
    )
    key = item_key(from_publisher, FEED)
    assert key == item_key(from_aggregator, OTHER_FEED)
    assert key == "url:news.example.com/2025/kim-putin"


def test_same_opaque_guid_from_two_publishers_gives_two_keys() -> None:
    item = entry(guid="1234")
    assert item_key(item, FEED) == "guid:feeds.example.com:1234"
    assert item_key(item, OTHER_FEED) == "guid:aggregator.example.net:1234"


def test_opaque_guid_scope_is_the_host_so_two_feeds_of_one_site_agree() -> None:
    item = entry(guid="1234")
    assert item_key(item, "https://feeds.example.com/asia.xml") == item_key(item, FEED)


def test_hash_key_is_shared_across_feeds() -> None:
    item = entry(title="Kim meets Putin", summary="In Vladivostok.")
    assert item_key(item, FEED) == item_key(item, OTHER_FEED)


def test_unparseable_feed_url_still_scopes_opaque_guids() -> None:
    assert item_key(entry(guid="7"), "not a url") == "guid:not a url:7"


@pytest.mark.parametrize(
    ("item", "kind"),
    [
        (entry(guid="x" * 1000), "guid"),
        (entry(guid="https://news.example.com/" + "a" * 1000), "url"),
        (entry(link="https://news.example.com/?q=" + "b" * 1000), "url"),
    ],
)
def test_long_keys_are_hashed(item: ParsedEntry, kind: str) -> None:
    key = item_key(item, FEED)
    assert len(key) <= MAX_KEY_CHARS
    assert key.startswith(f"{kind}~sha256:")
    assert len(key) == len(kind) + len("~sha256:") + 64
    assert key == item_key(item, FEED)  # stable


def test_long_keys_stay_distinct() -> None:
    a = item_key(entry(guid="x" * 1000), FEED)
    b = item_key(entry(guid="x" * 999 + "y"), FEED)
    assert a != b


def test_key_at_the_limit_is_kept_verbatim() -> None:
    prefix = "guid:feeds.example.com:"
    guid = "g" * (MAX_KEY_CHARS - len(prefix))
    assert item_key(entry(guid=guid), FEED) == prefix + guid


def test_content_hash_value() -> None:
    expected = hashlib.sha256(b"kim meets putin\nin vladivostok.").hexdigest()
    assert content_hash("Kim meets Putin", "In Vladivostok.") == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Kim meets Putin", "x"), ("  kim   MEETS\nputin ", " x ")),
        (("Ｋｉｍ", ""), ("Kim", "")),  # full-width forms (NFKC)
        (("Straße", ""), ("STRASSE", "")),  # casefold, not lower
    ],
)
def test_content_hash_ignores_case_whitespace_and_unicode_form(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert content_hash(*a) == content_hash(*b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Kim meets Putin", ""), ("Kim meets Xi", "")),
        (("a", "b c"), ("a b", "c")),  # the title/summary boundary counts
        (("t", "summary"), ("t", "summary, edited")),
    ],
)
def test_content_hash_notices_edits(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert content_hash(*a) != content_hash(*b)


def test_http_and_https_versions_of_one_article_share_a_key() -> None:
    from datetime import UTC, datetime

    from bot.core.models import ParsedEntry

    def entry(link: str) -> ParsedEntry:
        return ParsedEntry(
            guid=None,
            link=link,
            title="t",
            summary="s",
            published=datetime(2026, 11, 1, tzinfo=UTC),
        )

    http = item_key(entry("http://news.example/a"), "https://news.example/feed")
    https = item_key(entry("https://news.example/a"), "https://news.example/feed")
    assert http == https == "url:news.example/a"
