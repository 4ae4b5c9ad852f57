"""Discord's real hostnames, served by the loopback fakes over real TLS.

discord.py talks to https://discord.com/api/v10 and wss://gateway.discord.gg as in production;
only the way there differs, through documented aiohttp knobs:

* in this process, `loopback_network(...)` gives a `DiscordNetwork` whose connector resolves
  those names to the fakes' ports (like curl's --resolve) and trusts a throwaway CA (trustme)
  that signed the fakes' certificate;
* a child process (`nkru run`) goes through `NKRU_DISCORD_PROXY` to a `FakeProxy` that tunnels
  those names to the fakes, and trusts the CA through `SSL_CERT_FILE` (see `child_env`).

Any other hostname fails to resolve: a test never reaches the real Discord.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import trustme
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.adapters.discord import DiscordNetwork

API_HOST = "discord.com"
GATEWAY_HOST = "gateway.discord.gg"
GATEWAY_URL = f"wss://{GATEWAY_HOST}/"


@functools.cache
def _authority() -> trustme.CA:
    return trustme.CA()


@functools.cache
def _certificate() -> trustme.LeafCert:
    return _authority().issue_cert(API_HOST, GATEWAY_HOST)


def server_ssl() -> ssl.SSLContext:
    """What the fakes serve: a certificate for discord.com and gateway.discord.gg."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _certificate().configure_cert(context)
    return context


def client_ssl() -> ssl.SSLContext:
    """Verifying TLS (hostname included) that trusts only the fakes' CA."""
    return ssl.create_default_context(cadata=_authority().cert_pem.bytes().decode())


def write_ca(path: Path) -> Path:
    """The CA certificate as a PEM file (for a child's SSL_CERT_FILE)."""
    _authority().cert_pem.write_to_path(str(path))
    return path


class LoopbackResolver(AbstractResolver):
    """Resolves the given hostnames to 127.0.0.1 and their fake's port; nothing else."""

    def __init__(self, ports: Mapping[str, int]) -> None:
        self.ports = dict(ports)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.ports:
            raise OSError(f"{host} is not served by a fake (tests never reach the real one)")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self.ports[host],
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""


def loopback_network(ports: Mapping[str, int], *, proxy: str | None = None) -> DiscordNetwork:
    """Discord's hostnames → the fakes' ports, over TLS verified against the fakes' CA."""

    def connector() -> aiohttp.BaseConnector:
        return aiohttp.TCPConnector(resolver=LoopbackResolver(ports), ssl=client_ssl())

    return DiscordNetwork(proxy=proxy, connector=connector)


def child_env(proxy_url: str, folder: Path) -> dict[str, str]:
    """Environment for a child `nkru` process: Discord through the FakeProxy at `proxy_url`
    (a setting operators use too), trusting the fakes' CA as Python's ssl reads SSL_CERT_FILE."""
    return {
        "NKRU_DISCORD_PROXY": proxy_url,
        "SSL_CERT_FILE": str(write_ca(folder / "fake-discord-ca.pem")),
    }
