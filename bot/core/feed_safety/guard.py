"""The guard on chat-added feeds' connections: resolve, then refuse any non-public address."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.core.feed_safety.addresses import METADATA, IPAddress, IPNetwork, in_any, why_not_public

ALLOW_SETTING = "NKRU_CHAT_FEED_ALLOW_NETWORKS"
# Feeds the operator named (seed file, `nkru feeds add`, `nkru demo`) may reach any address;
# anything else — "chat", or an origin this code does not know — is guarded (fail closed).
TRUSTED_ORIGINS = frozenset({"seed", "cli", "demo"})
ResolverFactory = Callable[[], AbstractResolver]


def needs_guard(origin: str | None) -> bool:
    """Whether fetches of a feed with this origin must go through the network guard."""
    return origin not in TRUSTED_ORIGINS


class AddressRefused(Exception):
    """A guarded fetch would connect to an address that is not public."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {address}, {reason}")
        self.host, self.address, self.reason = host, address, reason

    def describe(self, url: str) -> str:
        """The feed error: what was refused, why, and what the operator can do."""
        literal = self.host.strip("[]").rstrip(".") == self.address
        verb = "is" if literal else "resolves to"
        advice = (
            "cloud metadata addresses stay closed whatever is allowed"
            if self.reason == METADATA
            else f"the operator can allow a network with {ALLOW_SETTING}"
        )
        return (
            f"refused: {url} {verb} {self.address}, {self.reason}; chat-added feeds may only"
            f" reach public addresses — {advice}"
        )


@dataclass(frozen=True, slots=True)
class NetworkGuard:
    """Which addresses chat-added feeds may reach: public ones, plus the `allow` networks."""

    allow: tuple[IPNetwork, ...] = ()
    # Called when a guarded session opens (aiohttp resolvers bind to the running loop). Tests
    # pass a resolver that maps their host names, so no test depends on real DNS.
    resolver: ResolverFactory = DefaultResolver

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` may not be reached, or None if it may."""
        reason = why_not_public(ip)
        if reason is None or reason == METADATA:
            return reason
        return None if in_any(ip, self.allow) else reason

    def check(self, host: str, address: str) -> None:
        """Raise AddressRefused unless `host`'s resolved `address` may be reached."""
        try:
            ip = ip_address(address)
        except ValueError:
            raise AddressRefused(host, address, "not an IP address") from None
        reason = self.refusal(ip)
        if reason is not None:
            raise AddressRefused(host, str(ip), reason)

    def check_host(self, host: str) -> None:
        """Refuse a URL host that is a literal IP address the guard does not accept.

        aiohttp connects to literal IPs without asking the resolver, so they are checked here;
        host names are left to `GuardedResolver`, which checks what they resolve to.
        """
        bare = host.strip("[]").rstrip(".")
        try:
            ip_address(bare)
        except ValueError:
            return
        self.check(host, bare)

    def guarded_resolver(self) -> GuardedResolver:
        """A resolver for a guarded session's connector (close it with the session)."""
        return GuardedResolver(self, self.resolver())


class GuardedResolver(AbstractResolver):
    """Resolves through `inner`, then refuses the host if any address is not accepted.

    Refusing rather than filtering: a name that mixes public and private addresses is not a
    feed anyone should add from chat. The connector connects only to the addresses returned
    here, so what was checked is what is connected to, even if DNS answers differently later.
    """

    def __init__(self, guard: NetworkGuard, inner: AbstractResolver) -> None:
        self._guard = guard
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The host's addresses, all of them accepted by the guard (else AddressRefused)."""
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self._guard.check(host, result["host"])
        return results

    async def close(self) -> None:
        """Release the inner resolver."""
        await self._inner.close()
