"""Discord failures as the outbox's DeliveryError: permanent, or transient with a wait.

discord.py already sleeps on 429s within its per-route buckets and retries 500/502/504/524 a few
times, so what reaches us is: `RateLimited` (a wait longer than we let it sleep), a 4xx that
retrying will not fix, a server error that outlasted its retries, or a network failure.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.adapters.discord.api import PROXY_ERRORS, proxy_problem
from bot.core.delivery import DeliveryError

CLOUDFLARE_BAN_WAIT = 600.0  # a 429 without Discord's headers: Cloudflare blocked the address
TOKEN_REJECTED_WAIT = 900.0
PERMISSIONS_HINT = (
    "give the bot View Channel + Send Messages + Embed Links (and Read Message History) "
    "in that channel"
)
# Errors that say nothing about our message; the next attempt may well succeed.
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def delivery_error(exc: BaseException, where: str) -> DeliveryError:
    """Map a discord.py or network exception raised while posting to `where` (e.g. "channel 1")."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError(
            f"Discord rate limit on {where}: retry in {exc.retry_after:.0f}s",
            retry_after=exc.retry_after,
        )
    if isinstance(exc, discord.HTTPException):
        return _http_error(exc, where)
    if isinstance(exc, PROXY_ERRORS):
        return DeliveryError(f"{proxy_problem(exc)} (posting to {where})")
    if isinstance(exc, NETWORK_ERRORS):
        return DeliveryError(f"cannot reach Discord for {where}: {exc!r}")
    return DeliveryError(f"Discord error on {where}: {exc!r}")


def _http_error(exc: discord.HTTPException, where: str) -> DeliveryError:
    detail = f"{exc.status} {exc.code or ''} {exc.text}".replace("  ", " ").strip()
    if isinstance(exc, discord.Forbidden):
        return DeliveryError(
            f"Discord refused to post in {where} ({detail}): {PERMISSIONS_HINT}", permanent=True
        )
    if isinstance(exc, discord.NotFound):
        return DeliveryError(f"{where}: {_not_found_hint(exc.code)} ({detail})", permanent=True)
    if isinstance(exc, discord.DiscordServerError) or exc.status >= 500:
        return DeliveryError(f"Discord server error on {where} ({detail})")
    if exc.status == 429:
        return DeliveryError(
            f"Discord (Cloudflare) is blocking requests for {where} ({detail})",
            retry_after=CLOUDFLARE_BAN_WAIT,
        )
    if exc.status == 401:
        return DeliveryError(
            f"Discord rejected the bot token while posting to {where}: check NKRU_DISCORD_TOKEN",
            retry_after=TOKEN_REJECTED_WAIT,
        )
    # Any other 4xx (400 50035 Invalid Form Body…): the same request will fail the same way.
    return DeliveryError(f"Discord refused the message for {where} ({detail})", permanent=True)


def _not_found_hint(code: int) -> str:
    if code == 10015:
        return "the webhook no longer exists — create one and set NKRU_DISCORD_WEBHOOK_URL"
    if code == 10008:
        return "the message is gone (deleted, or a just-deleted message had the same nonce)"
    return (
        "no such channel, or the bot is not in its server — check the route's discord:<channel id> "
        "and invite the bot"
    )
