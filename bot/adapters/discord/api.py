"""Connecting to Discord: the network path, clients that never ping, destinations, webhook URLs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import discord

# A 429 asking us to wait longer than this is not slept on inside discord.py: it surfaces as
# `RateLimited` and the outbox retries later (30 s is discord.py's minimum).
MAX_RATE_LIMIT_WAIT = 30.0
_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>\d+)/(?P<token>[\w.-]+)/?$")


class DiscordSetupError(Exception):
    """The Discord settings cannot work; the message names the setting and the fix."""


@dataclass(frozen=True, slots=True)
class DiscordNetwork:
    """How this process reaches Discord's real hosts (discord.com, gateway.discord.gg).

    Only documented knobs, per client, nothing process-wide: `discord.Client(proxy=…,
    connector=…)` carries REST and the gateway websocket (both use the client's one aiohttp
    session), and the webhook adapter's own `aiohttp.ClientSession(proxy=…, connector=…)`.

    `proxy` is an HTTP(S) proxy URL (`NKRU_DISCORD_PROXY`; credentials may sit in it). `connector`
    builds the aiohttp connector of each client or session (each closes its own when it
    closes); None keeps aiohttp's and discord.py's defaults. Tests pass one whose resolver sends
    Discord's hostnames to loopback fakes and whose TLS trusts the fakes' CA.
    """

    proxy: str | None = None
    connector: Callable[[], aiohttp.BaseConnector] | None = None

    def new_connector(self) -> aiohttp.BaseConnector | None:
        """A fresh connector for one client or session (None: the library's default)."""
        return self.connector() if self.connector is not None else None

    def new_session(self) -> aiohttp.ClientSession:
        """An aiohttp session for webhooks, going the same way as the bot's client."""
        return aiohttp.ClientSession(connector=self.new_connector(), proxy=self.proxy)


DIRECT = DiscordNetwork()  # straight to Discord, with the system's CAs


def no_mentions() -> discord.AllowedMentions:
    """`allowed_mentions` for every send and edit: nothing in our messages may ping anyone."""
    return discord.AllowedMentions.none()


def new_client(
    intents: discord.Intents | None = None, *, network: DiscordNetwork = DIRECT
) -> discord.Client:
    """A client whose defaults already ping nobody and that hands long rate limits back to us."""
    return discord.Client(
        intents=intents or discord.Intents.none(),
        allowed_mentions=no_mentions(),
        max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
        proxy=network.proxy,
        connector=network.new_connector(),
    )


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST (`GET /users/@me`, `GET /oauth2/applications/@me`); no gateway needed."""
    try:
        await client.login(token)
    except Exception as exc:
        await client.close()
        if isinstance(exc, discord.LoginFailure):
            raise DiscordSetupError(
                "NKRU_DISCORD_TOKEN: Discord rejected the bot token — copy it again from the "
                "Developer Portal (Bot → Reset Token)"
            ) from exc
        if isinstance(exc, PROXY_ERRORS):
            raise DiscordSetupError(proxy_problem(exc)) from exc
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            raise DiscordSetupError(
                f"SSL_CERT_FILE: cannot verify Discord's TLS certificate ({exc.certificate_error})"
                " — behind a proxy that inspects TLS, point SSL_CERT_FILE at a CA bundle that "
                "holds the proxy's CA"
            ) from exc
        raise


# Raised only when a proxy is in the way: it cannot be reached, or it refused the tunnel.
PROXY_ERRORS = (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)


def proxy_problem(exc: BaseException) -> str:
    """What to fix when the proxy of NKRU_DISCORD_PROXY failed (its URL is never shown)."""
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        what = f"the proxy answered {exc.status} {exc.message}".rstrip()
        if exc.status == 407:
            fix = "put its login in the URL: http://user:password@host:port"
            return f"NKRU_DISCORD_PROXY: {what} — {fix}"
    else:
        what = "cannot connect to the proxy"
    return (
        f"NKRU_DISCORD_PROXY: {what} — check its host and port, and that it may reach discord.com"
    )


def channel_id(destination: str) -> int:
    """`discord:1234` → 1234; anything else is a configuration mistake (ValueError)."""
    _, _, raw = destination.partition(":")
    if not raw.isdigit():
        raise ValueError(
            f"destination {destination!r} is not discord:<channel id> — enable Developer Mode "
            "in Discord, right-click the channel, Copy Channel ID"
        )
    return int(raw)


def parse_webhook_url(url: str) -> tuple[int, str]:
    """The id and token of a webhook URL (`…/api/webhooks/<id>/<token>`)."""
    match = _WEBHOOK_PATH.search(url.split("?", 1)[0])
    if not match:
        raise DiscordSetupError(
            "NKRU_DISCORD_WEBHOOK_URL: not a webhook URL — copy it from Channel settings → "
            "Integrations → Webhooks (https://discord.com/api/webhooks/<id>/<token>)"
        )
    return int(match["id"]), match["token"]
