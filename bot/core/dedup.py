"""Layer (a) of de-duplication: the key that says "this is the same item as before".

``item_key`` picks the first of these that the entry has (compare miniflux's
``reader/rss/adapter.go``, which also prefers the GUID and falls back to the link):

1. **GUID that is an absolute http(s) URL** -> ``url:<canonical URL without scheme>``.
   Canonicalised with :func:`bot.core.canonical.canonical_url` (tracking parameters,
   default port, fragment dropped), so the same article reached through two feeds —
   or through one feed's tracking redirect parameters — collapses to one key, and so
   does a GUID URL that equals another entry's link. The scheme is dropped from URL
   keys because sites that moved to https keep old http:// GUIDs in some feeds.
2. **Opaque GUID** (``tag:``, ``urn:``, UUIDs, bare numbers) -> ``guid:<feed host>:<GUID>``.
   Scoped to the host of the feed that published it, because short opaque GUIDs
   ("1234") collide across publishers; two feeds on one host share the scope, so a
   section feed and the main feed of one site still agree.
3. **Link** (no GUID) -> ``url:<canonical link>``.
4. **Neither** -> ``hash:<content_hash(title, summary)>``.

The title is never part of the key when a GUID or link exists, so an item whose title
is edited (a typo fixed, "UPDATE:" added) keeps its key; such edits are noticed with
:func:`content_hash` instead. Only hash-keyed items (no GUID, no link) turn into a new
item when their text changes — there is nothing else to recognise them by. The date is
never part of the key: feeds that stamp every item with the fetch time would otherwise
make every poll look new.

Keys longer than :data:`MAX_KEY_CHARS` are replaced by ``<kind>~sha256:<hex>`` so they
fit an indexed column.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from urllib.parse import urlsplit

from bot.core.canonical import canonical_url
from bot.core.models import ParsedEntry

MAX_KEY_CHARS = 500


def item_key(entry: ParsedEntry, feed_url: str) -> str:
    """Return the layer-(a) key identifying ``entry`` across polls and feeds."""
    guid = (entry.guid or "").strip()
    if guid:
        guid_url = _absolute_http_url(guid)
        if guid_url:
            return _capped("url", _without_scheme(guid_url))
        return _capped("guid", f"{_feed_host(feed_url)}:{guid}")
    link = canonical_url(entry.link) if entry.link else None
    if link:
        return _capped("url", _without_scheme(link))
    return f"hash:{content_hash(entry.title, entry.summary)}"


def content_hash(title: str, summary: str) -> str:
    """Return the sha256 hex digest of the normalised title and summary."""
    text = f"{_normalise(title)}\n{_normalise(summary)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(text: str) -> str:
    # Whitespace, case and Unicode-form differences are not edits worth reporting.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _absolute_http_url(guid: str) -> str | None:
    # Only an absolute URL counts: canonical_url without a base rejects relative
    # paths and other schemes, so "1234" or "tag:x,2024:1" stay opaque.
    if not guid[:8].lower().startswith(("http://", "https://")):
        return None
    return canonical_url(guid)


def _without_scheme(url: str) -> str:
    return url.split("://", 1)[1]


@functools.lru_cache(maxsize=1024)
def _feed_host(feed_url: str) -> str:
    # Cached: the same feed URL scopes every opaque GUID of every poll of that feed.
    canonical = canonical_url(feed_url)
    if canonical:
        return urlsplit(canonical).hostname or ""
    # A feed URL we cannot parse still needs a stable scope.
    return feed_url.strip().lower()


def _capped(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    if len(key) <= MAX_KEY_CHARS:
        return key
    return f"{kind}~sha256:{hashlib.sha256(value.encode('utf-8')).hexdigest()}"
