"""Turn Slack Web API failures into DeliveryErrors the outbox understands, with advice.

Permanent errors (the channel is gone, the bot is not in it, the token or a scope is missing,
the message was malformed) are not retried and say what to do; rate limits carry Slack's
`Retry-After`; server errors and network trouble are transient and retried with backoff.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.delivery import DeliveryError

DEFAULT_RETRY_AFTER = 30.0  # Slack always sends Retry-After with 429; this is a safety net
_TOKEN = (
    "the Slack bot token was refused ({error}): set NKRU_SLACK_BOT_TOKEN to the app's Bot User "
    "OAuth Token (xoxb-…) from api.slack.com/apps → OAuth & Permissions, then restart"
)
_MALFORMED = (
    "Slack rejected the message as malformed ({error}): this is a bug in the Slack renderer "
    "(bot/adapters/slack/render.py), please report it with this alert"
)
ADVICE: dict[str, str] = {
    "channel_not_found": (
        "Slack channel {channel} was not found: check the channel id in NKRU_ROUTES (channel "
        "details → the id at the bottom, C…); for a private channel invite the bot first: "
        "/invite @nkru"
    ),
    "not_in_channel": (
        "the bot is not in Slack channel {channel}: invite it there with /invite @nkru"
    ),
    "is_archived": "Slack channel {channel} is archived: unarchive it or remove its route",
    "invalid_auth": _TOKEN,
    "not_authed": _TOKEN,
    "account_inactive": _TOKEN,
    "token_revoked": _TOKEN,
    "token_expired": _TOKEN,
    "no_permission": _TOKEN,
    "missing_scope": (
        "the Slack app lacks the {needed} scope: add it under api.slack.com/apps → OAuth & "
        "Permissions → Bot Token Scopes (chat:write, channels:history, groups:history), "
        "reinstall the app and restart"
    ),
    "restricted_action": (
        "posting to Slack channel {channel} is restricted by the workspace: allow the bot to "
        "post there or remove the route"
    ),
    "restricted_action_read_only_channel": (
        "Slack channel {channel} is read-only: allow the bot to post there or remove the route"
    ),
    "msg_too_long": _MALFORMED,
    "msg_blocks_too_long": _MALFORMED,
    "invalid_blocks": _MALFORMED,
    "invalid_blocks_format": _MALFORMED,
    "invalid_attachments": _MALFORMED,
    "too_many_attachments": _MALFORMED,
    "invalid_metadata_format": _MALFORMED,
    "invalid_metadata_schema": _MALFORMED,
    "no_text": _MALFORMED,
}


class SlackSetupError(Exception):
    """Slack refused the configuration at start-up (a token, a scope); the message says why."""


def slack_error_code(exc: SlackApiError) -> str:
    """Slack's `error` field ("channel_not_found"), or "http_<status>" when there is none."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return f"http_{status_of(exc)}"


def status_of(exc: SlackApiError) -> int:
    """The HTTP status of a failed call (0 when unknown)."""
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", 0)
    return int(status or 0)


def to_delivery_error(exc: Exception, channel: str) -> DeliveryError:
    """The DeliveryError for a failed call to `channel` (permanent, rate limited or transient)."""
    if isinstance(exc, SlackApiError):
        return _from_api_error(exc, channel)
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return DeliveryError(f"Slack API unreachable: {type(exc).__name__}: {exc}")
    if isinstance(exc, SlackClientError):
        return DeliveryError(f"Slack client error: {exc}")
    raise exc  # not a delivery failure: a bug, let the worker log it


def _from_api_error(exc: SlackApiError, channel: str) -> DeliveryError:
    code, status = slack_error_code(exc), status_of(exc)
    if status == 429 or code == "ratelimited":
        wait = _retry_after(exc)
        return DeliveryError(f"Slack rate limit: retry in {wait:.0f}s", retry_after=wait)
    if code in ADVICE:
        needed = _field(exc, "needed") or "required"
        return DeliveryError(
            ADVICE[code].format(channel=channel, error=code, needed=needed), permanent=True
        )
    if status >= 500 or code in {"internal_error", "fatal_error", "service_unavailable"}:
        return DeliveryError(f"Slack is having trouble (HTTP {status}, {code}): will retry")
    # An error we do not know: retried with backoff (and given up after the attempt limit).
    return DeliveryError(f"Slack API error {code} (HTTP {status})")


def _retry_after(exc: SlackApiError) -> float:
    headers: Any = getattr(exc.response, "headers", None) or {}
    try:
        return max(1.0, float(headers.get("Retry-After") or headers.get("retry-after")))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def _field(exc: SlackApiError, name: str) -> str | None:
    data = getattr(exc.response, "data", None)
    value = data.get(name) if isinstance(data, dict) else None
    return str(value) if value else None
