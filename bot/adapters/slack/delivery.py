"""Deliver alerts and digests to Slack channels through the Web API (slack_sdk AsyncWebClient).

A new alert is posted with `chat.postMessage`, carrying its outbox id in message metadata; an
update edits the story's first post with `chat.update`. When the outbox says an alert may have
been posted already (`redelivery`: an earlier attempt died before recording it), the channel's
recent history is searched for that metadata first, so a crash never posts an alert twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import SlackMessage
from bot.adapters.slack.errors import slack_error_code, status_of, to_delivery_error
from bot.adapters.slack.pacing import ChannelPacer, retry_handlers
from bot.adapters.slack.render import render_alert, render_digest
from bot.core.commands.model import ThemeCatalog
from bot.core.delivery import DeliveryError
from bot.core.digest import Digest
from bot.core.models import Alert, DeliveryReceipt

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ALERT_EVENT = "nkru_alert"
DIGEST_EVENT = "nkru_digest"
HISTORY_WINDOW = 200  # messages searched for an earlier post of a redelivered alert
_FAILURES = (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
# The post we meant to edit is gone (deleted) or is not ours: post the story afresh.
_REPOST = {"message_not_found", "cant_update_message"}
# History unreadable (no channels:history scope; a public channel the bot posts to through
# chat:write.public without being in it): post anyway, a duplicate beats a lost alert.
_UNCHECKABLE = {"missing_scope", "not_in_channel"}


def make_web_client(
    token: str, api_url: str = DEFAULT_API_URL, *, timeout: int = 30
) -> AsyncWebClient:
    """A Web API client for `api_url` that retries short rate limits once (see pacing)."""
    return AsyncWebClient(
        token=token, base_url=api_url, timeout=timeout, retry_handlers=retry_handlers()
    )


def channel_of(destination: str) -> str:
    """`slack:C0123` → `C0123`; anything else is a permanent configuration error."""
    platform, _, channel = destination.partition(":")
    if platform != "slack" or not channel.strip():
        raise DeliveryError(
            f"{destination!r} is not a Slack destination: write slack:<channel id>", permanent=True
        )
    return channel.strip()


class SlackDelivery:
    """The Slack delivery adapter: `send` for alerts, `send_digest` for digests."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        catalog: Callable[[], ThemeCatalog] = ThemeCatalog,
        pacer: ChannelPacer | None = None,
        history_window: int = HISTORY_WINDOW,
    ) -> None:
        self.client = client
        self._catalog = catalog
        self._pacer = pacer or ChannelPacer()
        self._history_window = history_window

    @classmethod
    def from_token(
        cls,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        catalog: Callable[[], ThemeCatalog] = ThemeCatalog,
        interval: float = 1.0,
    ) -> SlackDelivery:
        """The adapter for a bot token (xoxb-…), pacing each channel to one post per `interval`."""
        return cls(make_web_client(token, api_url), catalog=catalog, pacer=ChannelPacer(interval))

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Post a new alert, or edit the story's first post for an update; raise DeliveryError."""
        channel = channel_of(alert.destination)
        message = render_alert(alert, self._catalog())
        try:
            if alert.kind == "update" and alert.remote_id:
                ts = await self._update(channel, alert, message)
            else:
                ts = await self._post_alert(channel, alert, message)
        except _FAILURES as exc:
            raise to_delivery_error(exc, channel) from exc
        return DeliveryReceipt(ts)

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Post a digest (several messages when it is long); the receipt names the first."""
        channel = channel_of(digest.destination)
        metadata = {
            "event_type": DIGEST_EVENT,
            "event_payload": {"since": digest.since.isoformat()},
        }
        first: str | None = None
        try:
            for message in render_digest(digest, self._catalog()):
                ts = await self._post(channel, message, metadata)
                first = first or ts
        except _FAILURES as exc:
            raise to_delivery_error(exc, channel) from exc
        return DeliveryReceipt(first)

    async def _update(self, channel: str, alert: Alert, message: SlackMessage) -> str:
        ts = str(alert.remote_id)
        try:
            async with self._pacer.turn(channel):
                await self.client.chat_update(
                    channel=channel, ts=ts, metadata=_metadata(alert), **message.payload()
                )
        except SlackApiError as exc:
            if slack_error_code(exc) not in _REPOST:
                raise
            log.warning(
                "story #%s: its Slack post %s is gone; posting it again", alert.story_id, ts
            )
            return await self._post_alert(channel, alert, message)
        return ts

    async def _post_alert(self, channel: str, alert: Alert, message: SlackMessage) -> str:
        if alert.redelivery and (earlier := await self._find_posted(channel, alert)):
            log.info("alert #%s was already posted to %s as %s", alert.outbox_id, channel, earlier)
            return earlier
        return await self._post(channel, message, _metadata(alert))

    async def _post(self, channel: str, message: SlackMessage, metadata: dict[str, Any]) -> str:
        async with self._pacer.turn(channel):
            response = await self.client.chat_postMessage(
                channel=channel,
                unfurl_links=False,  # the alert already shows the article; no big preview card
                unfurl_media=False,
                metadata=metadata,
                **message.payload(),
            )
        return str(response["ts"])

    async def _find_posted(self, channel: str, alert: Alert) -> str | None:
        """The ts of a recent message of ours carrying this alert's outbox id, if any."""
        try:
            history = await self.client.conversations_history(
                channel=channel, limit=self._history_window, include_all_metadata=True
            )
        except SlackApiError as exc:
            if status_of(exc) == 429 or slack_error_code(exc) not in _UNCHECKABLE:
                raise
            log.warning(
                "cannot read %s's history to check for an earlier post of alert #%s (%s): posting",
                channel,
                alert.outbox_id,
                slack_error_code(exc),
            )
            return None
        for posted in history.get("messages") or []:
            if _carries(posted, alert):
                return str(posted["ts"])
        return None


def _metadata(alert: Alert) -> dict[str, Any]:
    """Message metadata naming the outbox entry and story (found again by `_find_posted`)."""
    return {
        "event_type": ALERT_EVENT,
        "event_payload": {"outbox_id": alert.outbox_id, "story_id": alert.story_id},
    }


def _carries(message: dict[str, Any], alert: Alert) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (
        metadata.get("event_type") == ALERT_EVENT
        and str(payload.get("outbox_id")) == str(alert.outbox_id)
        and str(payload.get("story_id")) == str(alert.story_id)
        and "ts" in message
    )
