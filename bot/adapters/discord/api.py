"""Connecting to Discord: the API base, clients that never ping, destinations, webhook URLs."""

from __future__ import annotations

import re

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

DEFAULT_API_URL = "https://discord.com/api/v10"
# A 429 asking us to wait longer than this is not slept on inside discord.py: it surfaces as
# `RateLimited` and the outbox retries later (30 s is discord.py's minimum).
MAX_RATE_LIMIT_WAIT = 30.0
_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>\d+)/(?P<token>[\w.-]+)/?$")


class DiscordSetupError(Exception):
    """The Discord settings cannot work; the message names the setting and the fix."""


def use_api_base(url: str | None) -> None:
    """Point discord.py at another API base (tests, proxies); None leaves it alone.

    discord.py reads the base from the class attribute `Route.BASE` for every request, bot and
    webhook alike, so this is process-wide: one Discord API per process.
    """
    if url:
        Route.BASE = url.rstrip("/")


def use_gateway(url: str | None) -> None:
    """Point discord.py's gateway connection elsewhere (a gateway proxy, tests); None leaves it.

    discord.py connects to the class attribute `DiscordWebSocket.DEFAULT_GATEWAY` (it does not
    ask `/gateway/bot`), so, like the API base, this is process-wide.
    """
    if url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


def no_mentions() -> discord.AllowedMentions:
    """`allowed_mentions` for every send and edit: nothing in our messages may ping anyone."""
    return discord.AllowedMentions.none()


def new_client(intents: discord.Intents | None = None) -> discord.Client:
    """A client whose defaults already ping nobody and that hands long rate limits back to us."""
    return discord.Client(
        intents=intents or discord.Intents.none(),
        allowed_mentions=no_mentions(),
        max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
    )


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST (`GET /users/@me`, `GET /oauth2/applications/@me`); no gateway needed."""
    try:
        await client.login(token)
    except discord.LoginFailure as exc:
        await client.close()
        raise DiscordSetupError(
            "NKRU_DISCORD_TOKEN: Discord rejected the bot token — copy it again from the "
            "Developer Portal (Bot → Reset Token)"
        ) from exc


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
