"""Turning a fetched body into a ParsedFeed: feedparser for RSS/Atom/RDF, a small JSON Feed reader.

Parsing is CPU work: callers run ``parse_feed`` in a worker thread (``asyncio.to_thread``).
The module is synchronous and pure, and ``parse_feed`` never raises.
"""

from __future__ import annotations

import io
import json
import re
import xml.sax
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.core.canonical import canonical_url, html_to_text, to_utc, truncate
from bot.core.models import ParsedEntry, ParsedFeed

SUMMARY_MAX_CHARS = 2000
TITLE_MAX_CHARS = 300  # some feeds put a whole paragraph in <title>
TITLE_FROM_SUMMARY_CHARS = 80
AUTHOR_MAX_CHARS = 200
PROBLEM_MAX_CHARS = 300
IMAGE_URL_MAX_CHARS = 2000  # under Discord's 2,048 and Slack's 3,000 for an image URL
UNTITLED = "(untitled)"

# feedparser's date fields, in the order we trust them.
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")
_HTML_START_RE = re.compile(
    rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_BOM = b"\xef\xbb\xbf"
_WELL_FORMED_RE = re.compile(r"^not well-formed \((.*)\)$")
_OVERRIDE_RE = re.compile(r"declared as (\S+), but parsed as (\S+)")


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None, fetched_at: datetime
) -> ParsedFeed:
    """Parse a feed body (RSS, Atom, RDF or JSON Feed) into plain-text, UTC entries."""
    try:
        if not body.strip():
            return _fatal("empty response body: the server sent no feed content")
        if _looks_like_json(body, content_type):
            return _parse_json_feed(body, url, fetched_at)
        return _parse_xml_feed(body, url, content_type, fetched_at)
    except Exception as exc:
        # A parser bug must cost one poll of one feed, never the poller.
        return _fatal(f"parser error: {_one_line(f'{type(exc).__name__}: {exc}')}")


def _fatal(problem: str) -> ParsedFeed:
    return ParsedFeed(title=None, link=None, entries=[], problem=problem, fatal=True)


# --------------------------------------------------------------------------- RSS/Atom/RDF


def _parse_xml_feed(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime
) -> ParsedFeed:
    # Without a Content-Type feedparser assumes an HTTP body is ISO-8859-1 (RFC 2616)
    # and flags "no Content-type specified"; application/xml makes it honour the XML
    # declaration and default to UTF-8, as for a local file.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    # BytesIO, never the bytes themselves: feedparser first tries open(body) as a file
    # name, so a body reading "/etc/passwd" would otherwise be parsed from local disk.
    # No sanitising or resolving of links inside HTML content: html_to_text keeps only the
    # text (script and style content dropped), so that work would be thrown away, and it is
    # a fifth of feedparser's time (benchmarks/pipeline.py).
    result = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries = result.get("entries") or []
    if not result.get("version") and not entries:
        return _fatal(_not_a_feed(body, content_type, result.get("bozo_exception")))
    feed = result.get("feed") or {}
    return ParsedFeed(
        title=_line(_str(feed, "title"), TITLE_MAX_CHARS) or None,
        link=canonical_url(_str(feed, "link"), url),
        entries=[_xml_entry(e, url, fetched_at) for e in entries],
        ttl_minutes=_ttl(feed.get("ttl")),
        problem=_describe(result.get("bozo_exception")) if result.get("bozo") else None,
    )


def _xml_entry(entry: dict[str, Any], base: str, fetched_at: datetime) -> ParsedEntry:
    # dict.get, not FeedParserDict.get: the latter maps a missing updated_parsed to
    # published_parsed with a DeprecationWarning on every call.
    date = next((d for k in _DATE_KEYS if (d := dict.get(entry, k))), None)
    content = entry.get("content") or []
    content_html = _str(content[0], "value") if content else ""
    return _entry(
        guid=_str(entry, "id"),
        link=canonical_url(_str(entry, "link"), base),
        title_html=_str(entry, "title"),
        summary_html=(_str(entry, "summary"), content_html),
        published=to_utc(date, fetched_at),
        author=_str(entry, "author"),
        image=_xml_image(entry, base),
    )


def _xml_image(entry: Mapping[str, Any], base: str) -> str | None:
    """The item's picture: media:thumbnail, else an image media:content, else an image enclosure."""
    candidates = [_str(m, "url") for m in _dicts(entry.get("media_thumbnail"))]
    candidates += [
        _str(m, "url")
        for m in _dicts(entry.get("media_content"))
        if _is_image(_str(m, "medium"), _str(m, "type"))
    ]
    candidates += [
        _str(e, "href")
        for e in _dicts(entry.get("enclosures"))
        if _str(e, "type").startswith("image/")
    ]
    return next((url for c in candidates if (url := image_url(c, base))), None)


def _is_image(medium: str, mime: str) -> bool:
    # media:content without medium or type is most often the picture; a video or audio says so.
    if medium or mime:
        return medium == "image" or mime.lower().startswith("image/")
    return True


def image_url(candidate: str, base: str) -> str | None:
    """An absolute http(s) picture URL from a feed, or None: nothing else is ever shown."""
    value = candidate.strip()
    if not value or any(ch.isspace() or ord(ch) < 32 or ch in '<>"\\' for ch in value):
        return None
    try:
        absolute = urljoin(base, value)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return absolute if len(absolute) <= IMAGE_URL_MAX_CHARS else None


def _dicts(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _entry(
    *,
    guid: str,
    link: str | None,
    title_html: str,
    summary_html: tuple[str, ...],
    published: datetime,
    author: str,
    image: str | None = None,
) -> ParsedEntry:
    summary = _summary(summary_html)
    title = _line(title_html, TITLE_MAX_CHARS)
    if not title:
        # An item without a title still deserves a readable alert line.
        title = truncate(" ".join(summary.split()), TITLE_FROM_SUMMARY_CHARS) or UNTITLED
    return ParsedEntry(
        guid=guid.strip() or None,
        link=link,
        title=title,
        summary=summary,
        published=published,
        author=_line(author, AUTHOR_MAX_CHARS) or None,
        image_url=image,
    )


def _summary(candidates: tuple[str, ...]) -> str:
    # The first candidate (the feed's own summary) wins unless it has no text, e.g.
    # a description that is only an <img>; then fall back to the full content.
    for html in candidates:
        if html and (text := html_to_text(html, SUMMARY_MAX_CHARS)):
            return text
    return ""


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        return None
    return minutes if minutes > 0 else None


# --------------------------------------------------------------------------- JSON Feed
# feedparser 6 has no JSON Feed support (it reports "not well-formed"), so JSON Feed
# 1.0/1.1 (https://jsonfeed.org/version/1.1) is read here.


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    head = body[:64].removeprefix(_BOM).lstrip()
    if head.startswith(b"{"):
        return True
    # Trust a JSON Content-Type only if the body does not look like XML/HTML: servers
    # mislabel feeds often enough.
    return "json" in (content_type or "").lower() and not head.startswith(b"<")


def _parse_json_feed(body: bytes, url: str, fetched_at: datetime) -> ParsedFeed:
    try:
        doc = json.loads(body)  # detects UTF-8/16/32 and a BOM by itself
    except ValueError as exc:
        return _fatal(f"not a feed: the body is not valid JSON ({_one_line(str(exc))})")
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return _fatal("not a feed: JSON without a JSON Feed 'items' list — check the feed URL")
    version = doc.get("version")
    problem = None
    if not (isinstance(version, str) and "jsonfeed.org/version/" in version):
        problem = "JSON Feed without a https://jsonfeed.org/version/ 'version' (parsed anyway)"
    return ParsedFeed(
        title=_line(_str(doc, "title"), TITLE_MAX_CHARS) or None,
        link=canonical_url(_str(doc, "home_page_url"), url),
        entries=[_json_entry(i, url, fetched_at) for i in items if isinstance(i, dict)],
        problem=problem,
    )


def _json_entry(item: Mapping[str, Any], base: str, fetched_at: datetime) -> ParsedEntry:
    raw_id = item.get("id")
    # The spec says string, but 1.0 feeds in the wild use numbers.
    guid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    link = _str(item, "url") or _str(item, "external_url")
    date = _iso(_str(item, "date_published") or _str(item, "date_modified"))
    return _entry(
        guid=guid,
        link=canonical_url(link, base),
        title_html=_str(item, "title"),
        summary_html=tuple(_str(item, k) for k in ("summary", "content_text", "content_html")),
        published=to_utc(date, fetched_at),
        author=_json_author(item),
        image=_json_image(item, base),
    )


def _json_image(item: Mapping[str, Any], base: str) -> str | None:
    """JSON Feed's `image`, else `banner_image`, else an image attachment."""
    candidates = [_str(item, "image"), _str(item, "banner_image")]
    attachments = item.get("attachments")
    candidates += [
        _str(a, "url")
        for a in _dicts(attachments)
        if _str(a, "mime_type").lower().startswith("image/")
    ]
    return next((url for c in candidates if (url := image_url(c, base))), None)


def _json_author(item: Mapping[str, Any]) -> str:
    authors = item.get("authors")  # 1.1
    first = authors[0] if isinstance(authors, list) and authors else item.get("author")  # 1.0
    return _str(first, "name") if isinstance(first, dict) else ""


def _iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())  # RFC 3339, "Z" included (3.11+)
    except ValueError:
        return None


# --------------------------------------------------------------------------- messages


def _not_a_feed(body: bytes, content_type: str | None, exc: object) -> str:
    served = content_type or "no Content-Type"
    is_html = (content_type or "").lower().startswith("text/html")
    if is_html or _HTML_START_RE.match(body.removeprefix(_BOM)):
        return (
            f"not a feed: the server returned an HTML page ({served}), "
            "not RSS/Atom/JSON Feed — check the feed URL"
        )
    reason = _describe(exc)
    detail = f" — {reason}" if reason else ""
    return (
        f"not a feed: {len(body)} bytes ({served}) with no RSS, Atom or JSON Feed in them{detail}"
    )


def _describe(exc: object) -> str | None:
    """One line saying what was wrong with a feed, from feedparser's bozo_exception."""
    if exc is None:
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        where = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
        # expat says "not well-formed (invalid token)": keep just the reason.
        message = _WELL_FORMED_RE.sub(r"\1", exc.getMessage())
        return f"not well-formed XML: {message} ({where})"
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return _describe_encoding(str(exc))
    if isinstance(exc, feedparser.NonXMLContentType):
        return f"wrong Content-Type: {exc} (parsed anyway)"
    name = type(exc).__name__
    return _one_line(f"{name}: {exc}" if str(exc) else name)


def _describe_encoding(text: str) -> str | None:
    match = _OVERRIDE_RE.search(text)
    if not match:
        return f"character encoding: {_one_line(text)}"
    declared, used = match.groups()
    if declared == "us-ascii":
        # RFC 3023's default for a text/* type without a charset, not anything the
        # publisher said: common and harmless, not worth flagging.
        return None
    # "declared" may be our own default (no charset anywhere means UTF-8), so say so.
    return f"character encoding: not valid {declared} (declared or default), decoded as {used}"


def _one_line(text: str) -> str:
    return truncate(" ".join(text.split()), PROBLEM_MAX_CHARS)


# --------------------------------------------------------------------------- helpers


def _str(mapping: object, key: str) -> str:
    # Feeds are untrusted: a field can be missing, None, a number or a nested object.
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return value if isinstance(value, str) else ""


def _line(html: str, max_chars: int) -> str:
    """Plain text on a single line (titles, authors)."""
    return " ".join(html_to_text(html, max_chars).split()) if html else ""
