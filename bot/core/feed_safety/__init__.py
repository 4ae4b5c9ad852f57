"""Feed safety: feeds added from chat may only make the bot reach public addresses.

Anyone an admin trusts in a chat channel could otherwise use `/nkru feeds add` to make the bot
fetch `http://169.254.169.254/…` (cloud credentials) or an internal service and echo what it
found into the channel. So every fetch of a chat-added feed (the check when it is added, and
every scheduled poll after — DNS can change at any time) goes through a guarded HTTP session:

* `guard.GuardedResolver` resolves a host name and refuses it if any address is not public,
  inside aiohttp's connector, so the address checked is the address connected to (no DNS
  rebinding between a check and the connection);
* `guard.NetworkGuard.check_host` refuses literal IP hosts, which aiohttp never resolves;
* the fetcher follows redirects itself, so both checks run on every hop.

"Not public" is decided in `addresses`. The operator may open private networks to chat-added
feeds with NKRU_CHAT_FEED_ALLOW_NETWORKS; cloud metadata addresses stay closed regardless. The
operator's own `nkru feeds add` and the seed file are trusted and never guarded.
"""

from bot.core.feed_safety.addresses import (
    METADATA_ADDRESSES,
    IPAddress,
    IPNetwork,
    parse_networks,
    why_not_public,
)
from bot.core.feed_safety.guard import (
    ALLOW_SETTING,
    TRUSTED_ORIGINS,
    AddressRefused,
    GuardedResolver,
    NetworkGuard,
    ResolverFactory,
    needs_guard,
)

__all__ = [
    "ALLOW_SETTING",
    "METADATA_ADDRESSES",
    "TRUSTED_ORIGINS",
    "AddressRefused",
    "GuardedResolver",
    "IPAddress",
    "IPNetwork",
    "NetworkGuard",
    "ResolverFactory",
    "needs_guard",
    "parse_networks",
    "why_not_public",
]
