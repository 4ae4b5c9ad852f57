"""What people give about a feed, checked once for every way in (CLI, chat, feed list, settings):
its address and its polling interval, each refused with a one-line reason."""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from bot.core.canonical import canonical_url
from bot.core.durations import parse_duration

log = logging.getLogger(__name__)

MIN_INTERVAL = 60  # seconds: more often is rude to the publisher and never needed for news
MAX_INTERVAL = 7 * 86400  # seconds: a feed polled less than weekly is as good as dead
INTERVAL_RANGE = "from 1 minute to 7 days (1m to 7d)"
_SHOWN = 80  # characters of a rejected URL quoted back
# A DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_BAD_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f]")


def feed_interval(value: Any) -> int:
    """A feed's polling interval in seconds from "15m", "2h", 900…; ValueError if unreadable or
    outside 1 minute to 7 days."""
    seconds = parse_duration(value)
    # `not within` also refuses NaN and infinity ("9" * 400 seconds is inf as a float).
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(
            f"{_shown(value)!r} is out of range: a feed's interval must be {INTERVAL_RANGE}"
        )
    return int(seconds)


def usable_interval(feed_id: int, name: str, seconds: int, minimum: float = MIN_INTERVAL) -> int:
    """A stored interval brought into range (`minimum`: NKRU_POLL_MIN_INTERVAL), with a warning
    naming the feed when it was not (a feed added before intervals were checked must not stop
    the scheduler)."""
    usable = min(max(seconds, int(minimum)), MAX_INTERVAL)
    if usable != seconds:
        log.warning(
            "feed #%s %r: its stored interval of %ss is outside %s; polling it every %ss instead"
            " — remove it and add it again with a valid interval",
            feed_id,
            name,
            seconds,
            INTERVAL_RANGE,
            usable,
        )
    return usable


def feed_url(text: str) -> str:
    """The canonical form of a feed address; ValueError saying in one line what is wrong."""
    given = text.strip()
    shown = repr(_shown(given))
    if not given:
        raise ValueError(
            "no URL given: write the feed's full address, e.g. https://example.com/rss"
        )
    if _BAD_CHARACTER.search(given):
        raise ValueError(f"{shown} contains a space or control character: a URL has none")
    try:
        parts = urlsplit(given)
        port = parts.port
    except ValueError:  # a bad [IPv6] literal, or a port that is no number from 0 to 65535
        raise ValueError(f"{shown} is not a valid URL: check the host and the port") from None
    if "://" not in given:
        raise ValueError(f"{shown} is not a full URL: write it starting with https:// or http://")
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise ValueError(
            f"{shown} is not an http(s) URL — only http:// and https:// feeds can be added"
        )
    host = parts.hostname or ""
    if not _good_host(host):
        raise ValueError(
            f"{shown} has no valid host name ({host!r}): use a name such as news.example.com "
            "or an IP address"
        )
    if port == 0:
        raise ValueError(f"{shown} names port 0: use a port from 1 to 65535")
    url = canonical_url(given)
    if url is None:  # not expected after the checks above: still refused, never stored
        raise ValueError(f"{shown} is not a valid feed URL")
    return url


def _good_host(host: str) -> bool:
    """An IP address, or a DNS name of valid labels (a trailing dot allowed)."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.lower().split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    # An all-numeric last label is a mistyped IP address ("999.1.1.1"), never a top-level domain.
    return not labels[-1].isdigit()


def _shown(value: Any) -> str:
    """`value` as text short enough to quote back in an error."""
    text = str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
