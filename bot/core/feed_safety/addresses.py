"""Which IP addresses count as public, and in words why one does not.

Python's `is_global` alone is not enough: on 3.11 it calls IPv4 multicast and IPv6 site-local
addresses global, and it says nothing of cloud metadata endpoints, which sit at ordinary-looking
addresses (Alibaba's 100.100.100.200) or must stay closed even where link-local addresses are
allowed. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address
too, so `::ffff:10.0.0.1` is as private as `10.0.0.1`.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

METADATA = "a cloud metadata address"
# Instance-metadata endpoints hand out cloud credentials: never reachable from chat.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack…
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_NAT64 = ip_network("64:ff9b::/96")  # NAT64 gateways translate these to the IPv4 inside
_SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT, often a provider's internal network
_UNIQUE_LOCAL = ip_network("fc00::/7")
_SIX_TO_FOUR = ip_network("2002::/16")


def why_not_public(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("a private address"…), or None if it is public."""
    if ip in METADATA_ADDRESSES:
        return METADATA
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = why_not_public(inner)
        # Mapped and NAT64 forms only carry the IPv4 address (a socket to ::ffff:a.b.c.d
        # reaches a.b.c.d), so it alone decides; a 6to4 address must pass on its own too.
        if reason is not None or not within(ip, _SIX_TO_FOUR):
            return reason
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (within(ip, _UNIQUE_LOCAL), "a unique-local address"),
        (isinstance(ip, IPv6Address) and ip.is_site_local, "a site-local address"),
        (within(ip, _SHARED), "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), if any."""
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if within(ip, _NAT64):
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


def within(ip: IPAddress, network: IPNetwork) -> bool:
    """`ip in network`, false across IP versions (ipaddress compares bare integers there)."""
    return ip.version == network.version and ip in network


def in_any(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether `ip`, or the IPv4 address it carries, is in one of `networks`."""
    inner = embedded_ipv4(ip)
    return any(within(ip, net) or (inner is not None and within(inner, net)) for net in networks)


def parse_networks(specs: Iterable[str], setting: str) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks ("10.20.0.5/16" means 10.20.0.0/16); ValueError names `setting`."""
    networks = []
    for spec in specs:
        try:
            networks.append(ip_network(spec.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{setting}: {spec!r} is not a network — write CIDR such as 10.20.0.0/16"
                " or fd12:3456::/48"
            ) from None
    return tuple(networks)
