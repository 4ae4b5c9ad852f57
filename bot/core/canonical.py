"""Normalising what feeds give us: canonical URLs, plain text from HTML, UTC datetimes.

Everything here is pure, synchronous and total: garbage in gives ``None`` (URLs), an
empty or best-effort string (text) or the fallback (dates) — never an exception.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import SplitResult, quote, unquote_plus, urljoin, urlsplit, urlunsplit

# --------------------------------------------------------------------------- URLs

#: Query parameters that only say *how* a reader arrived (campaign, click and share
#: ids), never *which* document it is. Compared case-insensitively. The first block is
#: the usual cross-site set; the second block are feed-specific trackers seen in the
#: real-feeds corpus (DW ``maca``, heise ``wt_mc``, WaPo ``wprss``, Al Jazeera
#: ``traffic_source``, CSMonitor ``icid``). Generic names such as ``ref``, ``rss``,
#: ``src`` or ``source`` are deliberately absent: some sites use them to pick content.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_cid", "mc_eid", "_ga", "_gl", "igshid", "ref_src", "ref_url", "cmpid", "ocid",
        "cmp", "icid", "xtor", "smid", "smtyp", "mkt_tok", "_hsenc", "_hsmi",
        "__twitter_impression", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "guccounter", "guce_referrer", "guce_referrer_sig", "wt.mc_id", "wt.mc_ev",
        "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "pk_content", "pk_cid",
        # feed-specific, seen in ../shared/corpus/real-feeds
        "maca", "wt_mc", "wprss", "traffic_source",
    }
)  # fmt: skip

#: Name prefixes of whole tracking families: Google Analytics ``utm_*``, AT Internet /
#: Piano ``at_*`` (BBC's ``at_medium``, ``at_campaign``), Matomo ``mtm_*``, HubSpot ads
#: ``hsa_*``.
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "at_", "mtm_", "hsa_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left alone when percent-encoding a path or query: RFC 3986 reserved and
# unreserved characters plus "%" so existing escapes are not double-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")
# Control characters inside a URL mean a broken feed, not an address to follow.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Return the canonical http(s) form of ``url`` (resolved against ``base``), or None."""
    try:
        return _canonical_url(url, base)
    except (ValueError, UnicodeError, TypeError):
        # urlsplit rejects bad IPv6 literals and ports; idna rejects bad labels.
        return None


# An absolute http(s) URL that is canonical but for its query: lower-case host name without
# port, user or trailing dot, a path of unreserved characters only, no fragment. Most feed
# links look like this, and for them the general path below changes nothing but the query.
_SIMPLE_URL_RE = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[A-Za-z0-9\-._~/]*)?(?:\?([^#\x00-\x20\x7f]*))?"
)


@functools.lru_cache(maxsize=1024)
def _joinable(base: str) -> bool:
    """Whether urljoin accepts `base` (a bad IPv6 literal makes it raise). Bases are feed URLs:
    a few, each used for every entry of its feed."""
    try:
        urlsplit(base.strip())
    except ValueError:
        return False
    return True


def _canonical_url(url: str, base: str | None) -> str | None:
    url = url.strip()
    simple = _SIMPLE_URL_RE.fullmatch(url)
    if simple and (not base or _joinable(base)):
        # urljoin returns such a URL as it is (it has a scheme and a host), and splitting,
        # lower-casing and quoting leave it alone: only tracking parameters can go.
        scheme, host, path, raw_query = simple.groups()
        query = _strip_tracking(raw_query) if raw_query else ""
        return f"{scheme}://{host}{path or '/'}{'?' if query else ''}{query}"
    if not url or _CONTROL_RE.search(url):
        return None
    if base:
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    netloc = _canonical_netloc(parts, scheme)
    if netloc is None:
        return None
    path = _normalise_escapes(quote(parts.path, safe=_PATH_SAFE)) or "/"
    query = _strip_tracking(parts.query)
    # A "#!" fragment ("hashbang" URLs of old single-page sites) names the document,
    # so it is kept; every other fragment only points inside the page.
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, query, fragment))


def _canonical_netloc(parts: SplitResult, scheme: str) -> str | None:
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    host = _idna(host)
    if ":" in host:  # IPv6 literal: urlsplit dropped the brackets
        host = f"[{host}]"
    port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo, sep, _ = parts.netloc.rpartition("@")
    return f"{userinfo}@{host}" if sep else host


def _idna(host: str) -> str:
    host = host.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        # Python's IDNA 2003 codec rejects some valid IDNA 2008 names (emoji, ß…);
        # the lower-cased Unicode host is still a stable key.
        return host


def _normalise_escapes(text: str) -> str:
    # %c3%a9 and %C3%A9 are the same URL: RFC 3986 says upper-case is canonical.
    return _PCT_RE.sub(lambda m: m.group(0).upper(), text)


def _strip_tracking(query: str) -> str:
    # Parameters are filtered as raw "name=value" strings, never decoded and
    # re-encoded, so the kept ones survive byte for byte and in their order.
    kept = [p for p in query.split("&") if p and not _is_tracking(p.partition("=")[0])]
    return _normalise_escapes(quote("&".join(kept), safe=_QUERY_SAFE))


def _is_tracking(raw_name: str) -> bool:
    name = unquote_plus(raw_name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


# --------------------------------------------------------------------------- text

# Elements whose content is never readable text.
_SKIP_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head"}
)
# Elements that end a line of text: they become a single "\n" in the output.
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th",
        "tr", "ul",
    }
)  # fmt: skip
# A complete tag, comment, declaration or processing instruction — what a browser
# would hide. A bare "<" ("a < b", "x <y") is text and is not matched.
TAG_RE = re.compile(r"<[a-zA-Z/!?][^<>]*>")
# An entity that survived one round of unescaping: the feed escaped its HTML twice.
_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_WS_RE = re.compile(r"\s+")  # what _collapse_spaces replaces
_SPACES_RE = re.compile(r" {2,}")
_BREAKS_RE = re.compile(r" ?\n[\n ]*")
# Incomplete markup at the very end of the input ("<a href='x", "<!-- c").
_TRUNCATED_MARKUP_RE = re.compile(r"<[a-zA-Z/!?]")


def _collapse_spaces(text: str) -> str:
    """`_WS_RE.sub(" ", text)`: every whitespace run becomes one space.

    str.split and re's \\s agree on what whitespace is (both use Unicode's), and splitting is
    several times faster than a substitution that rewrites every single space.
    """
    words = text.split()
    if not words:
        return " " if text else ""
    joined = " ".join(words)
    if text[0].isspace():
        joined = " " + joined
    if text[-1].isspace():
        joined += " "
    return joined


class _Enough(Exception):
    """Raised inside the parser to stop once enough text has been collected."""


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; see html_to_text."""

    def __init__(self, limit: int | None, skip_content: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.skip_content = skip_content
        self.skipping: list[str] = []

    def set_cdata_mode(self, elem: str, **kwargs: bool) -> None:
        """Read <script>/<style> content raw only when it is going to be skipped."""
        # In the literal pass, text after an unescaped "<script>" would otherwise be
        # swallowed as raw script and lost.
        if self.skip_content:
            super().set_cdata_mode(elem, **kwargs)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track skipped elements and line breaks."""
        if self.skip_content and tag in _SKIP_CONTENT:
            self.skipping.append(tag)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag (<br/>) opens nothing."""
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        """Leave a skipped element (tolerating mis-nesting) or end a block."""
        if tag in self.skipping:
            del self.skipping[self.skipping.index(tag) :]
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        """Keep text outside skipped elements; stop once past the limit."""
        if self.skipping:
            return
        piece = _collapse_spaces(data)
        self.parts.append(piece)
        # Count only what survives whitespace collapsing, so that stopping early always
        # leaves more than ``limit`` characters and the caller sees it must truncate.
        self.size += len(piece.strip())
        if self.limit is not None and self.size > self.limit:
            raise _Enough

    def text(self, html: str) -> str:
        """Feed ``html`` and return the collected, whitespace-collapsed text."""
        try:
            self.feed(html)
            # Python 3.11's close() would emit an unfinished tag at EOF as text; HTML5
            # drops it, and so do we.
            if _TRUNCATED_MARKUP_RE.match(self.rawdata):
                self.rawdata = ""
            self.close()
        except _Enough:
            pass
        joined = _SPACES_RE.sub(" ", "".join(self.parts))
        return _BREAKS_RE.sub("\n", joined).strip()


# The plain markup most feeds send: text without "<", start, end and self-closing tags with
# letters-and-digits names and quoted attribute values. Whitespace is ASCII only, as in
# HTMLParser's tag-name rule. Anything else (comments, "<" in text, unquoted or odd
# attributes, script and the other elements whose content is special) does not match.
_SIMPLE_TOKEN_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)"
    r"((?:[ \t\n\r\f]+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
    r"(?:[ \t\n\r\f]*=[ \t\n\r\f]*(?:\"[^\"<>]*\"|'[^'<>]*'))?)*)"
    r"[ \t\n\r\f]*(/?)>"
    r"|([^<]+)"
)
# Elements html.parser reads in a mode of their own (raw text, or content we skip), in this or
# later Python versions: always left to the full parser.
_SPECIAL_ELEMENTS = _SKIP_CONTENT | frozenset(
    {"textarea", "title", "xmp", "noembed", "noframes", "plaintext"}
)


def _extract_simple(html: str, limit: int | None) -> str | None:
    """What `_TextExtractor` returns for simple markup (see _SIMPLE_TOKEN_RE), else None.

    html.parser costs about 60 µs for a 500-character description, most of a poll's time after
    feedparser; this tokeniser does the same walk at regex speed. It mirrors the handlers above
    token by token (no skipped elements can occur here): a text run is one handle_data of the
    unescaped run, a block tag is a line break, and collecting stops past `limit`.
    """
    parts: list[str] = []
    size = 0
    position = 0
    for match in _SIMPLE_TOKEN_RE.finditer(html):
        if match.start() != position:
            return None  # something the simple grammar does not cover: use the parser
        position = match.end()
        closing, name, attributes, self_closing, data = match.groups()
        if data is not None:
            piece = _collapse_spaces(unescape(data))
            parts.append(piece)
            size += len(piece.strip())
            if limit is not None and size > limit:
                break
            continue
        tag = name.lower()
        if tag in _SPECIAL_ELEMENTS or (closing and (attributes or self_closing)):
            return None
        if tag in _BLOCK:
            parts.append("\n")
    else:
        if position != len(html):
            return None
    joined = _SPACES_RE.sub(" ", "".join(parts))
    return _BREAKS_RE.sub("\n", joined).strip()


def _extract(html: str, limit: int | None, skip_content: bool) -> str:
    simple = _extract_simple(html, limit)
    if simple is not None:
        return simple
    return _TextExtractor(limit, skip_content).text(html)


def html_to_text(html: str, max_chars: int | None = None) -> str:
    """Return the readable plain text of an HTML fragment, optionally cut to ``max_chars``."""
    if "<" not in html and "&" not in html:  # fast path: most titles are plain
        text = " ".join(html.split())
    else:
        # Collect a little more than needed so truncation can find a word boundary.
        limit = None if max_chars is None else max_chars + 1
        text = _extract(html, limit, skip_content=True)
        if TAG_RE.search(text) or _ENTITY_RE.search(text):
            # Markup or entities survived: the publisher escaped its HTML twice
            # ("&lt;p&gt;" -> "<p>"). A second pass removes that layer; it keeps element
            # content because real scripts were removed by the first pass and what is
            # left is text that only looks like markup.
            text = _extract(text, limit, skip_content=False)
        # Whatever is still tag-shaped (e.g. three layers of escaping) goes. The text is
        # already spaced as below by _extract, so it only needs it again if a tag went.
        text, removed = TAG_RE.subn("", text)
        if removed:
            text = _BREAKS_RE.sub("\n", _SPACES_RE.sub(" ", text)).strip()
    return text if max_chars is None else truncate(text, max_chars)


def truncate(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters at a word boundary, adding "…"."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return "…"[:max_chars]
    cut = text[: max_chars - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    # Only back up to a word boundary if that keeps most of the text: one very long
    # "word" (a URL) is better cut mid-way than dropped.
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,;:-–—") + "…"


# --------------------------------------------------------------------------- dates

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=1)


def to_utc(value: time.struct_time | datetime | None, fallback: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime, or ``fallback`` if missing or implausible."""
    fallback = _as_utc(fallback)
    try:
        result = _from_struct(value) if isinstance(value, time.struct_time) else value
    except (ValueError, OverflowError, TypeError):
        return fallback
    if not isinstance(result, datetime):
        return fallback
    result = _as_utc(result)
    # Before 1990 is a broken default (epoch, year 1); more than a day ahead is a wrong
    # clock or time zone. Either would mis-sort the item, so use the fetch time.
    if result < _EARLIEST or result > fallback + _FUTURE_SLACK:
        return fallback
    return result


def _from_struct(value: time.struct_time) -> datetime:
    # feedparser's *_parsed values are already UTC. struct_time allows second 60/61
    # (leap seconds), datetime does not.
    year, month, day, hour, minute, second = value[:6]
    return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    # A naive datetime from a feed has no zone to go on; UTC is the documented guess.
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
