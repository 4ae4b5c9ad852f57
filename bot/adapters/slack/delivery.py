"""Deliver alerts and digests to Slack channels through the Web API (slack_sdk AsyncWebClient).

A new alert is posted with `chat.postMessage`, carrying its outbox id in message metadata; an
update edits the story's first post with `chat.update`, replies in that post's thread
(`thread_ts`), or both, as the destination's routes say (`Alert.updates`). When the outbox says
an alert may have been posted already (`redelivery`: an earlier attempt died before recording
it), the channel's recent history (for a thread reply: the thread) is searched for that
metadata first, so a crash never posts an alert or a reply twice.
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
from bot.adapters.slack.render import render_alert, render_digest, render_thread_reply
from bot.core.commands.model import ThemeCatalog
from bot.core.delivery import DeliveryError
from bot.core.digest import Digest
from bot.core.models import Alert, DeliveryReceipt

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ALERT_EVENT = "nkru_alert"
DIGEST_EVENT = "nkru_digest"
HISTORY_WINDOW = 200  # messages searched for an earlier post of a redelivered alert
THREAD_PAGES = 5  # pages of HISTORY_WINDOW replies searched for an earlier thread reply
_FAILURES = (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
# The post we meant to edit is gone (deleted) or is not ours: post the story afresh.
_REPOST = {"message_not_found", "cant_update_message"}
# History unreadable (no channels:history scope; a public channel the bot posts to through
# chat:write.public without being in it): post anyway, a duplicate beats a lost alert.
_UNCHECKABLE = {"missing_scope", "not_in_channel"}
# The alert whose thread we meant to reply in is gone: post the story afresh.
_THREAD_GONE = {"thread_not_found", "message_not_found"}


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
                ts = await self._deliver_update(channel, alert, message)
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

    async def _deliver_update(self, channel: str, alert: Alert, message: SlackMessage) -> str:
        """Edit the first post, reply in its thread, or both; the ts of the last message sent."""
        ts = str(alert.remote_id)
        if alert.updates != "thread":
            ts = await self._update(channel, alert, message)
            if ts != alert.remote_id:  # the first post was gone: its fresh post shows this report
                return ts
        if alert.updates == "edit":
            return ts
        return await self._reply(channel, alert, message)

    async def _reply(self, channel: str, alert: Alert, message: SlackMessage) -> str:
        """Post the update in the first post's thread, once (a redelivery looks there first)."""
        parent = str(alert.remote_id)
        try:
            if alert.redelivery and (earlier := await self._find_reply(channel, parent, alert)):
                log.info(
                    "alert #%s was already replied in %s as %s", alert.outbox_id, parent, earlier
                )
                return earlier
            return await self._post(
                channel, render_thread_reply(alert), _metadata(alert), thread_ts=parent
            )
        except SlackApiError as exc:
            if slack_error_code(exc) not in _THREAD_GONE:
                raise
        log.warning(
            "story #%s: its Slack post %s is gone; posting it again", alert.story_id, parent
        )
        return await self._post_alert(channel, alert, message)

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

    async def _post(
        self,
        channel: str,
        message: SlackMessage,
        metadata: dict[str, Any],
        *,
        thread_ts: str | None = None,
    ) -> str:
        async with self._pacer.turn(channel):
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
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
            _uncheckable(exc, channel, alert)
            return None
        return _found(history.get("messages"), alert)

    async def _find_reply(self, channel: str, parent: str, alert: Alert) -> str | None:
        """The ts of a reply of ours in the `parent` thread carrying this alert's outbox id."""
        cursor: str | None = None
        try:
            for _ in range(THREAD_PAGES):  # replies come oldest first: a long thread has pages
                page = await self.client.conversations_replies(
                    channel=channel,
                    ts=parent,
                    limit=self._history_window,
                    include_all_metadata=True,
                    cursor=cursor,
                )
                if found := _found(page.get("messages"), alert):
                    return found
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except SlackApiError as exc:
            if slack_error_code(exc) in _THREAD_GONE:
                return None  # no thread, so no reply in it: posting finds the post gone too
            _uncheckable(exc, channel, alert)
        return None


def _uncheckable(exc: SlackApiError, channel: str, alert: Alert) -> None:
    """Re-raise `exc` unless it only says the history cannot be read (then post anyway)."""
    if status_of(exc) == 429 or slack_error_code(exc) not in _UNCHECKABLE:
        raise exc
    log.warning(
        "cannot read %s's history to check for an earlier post of alert #%s (%s): posting",
        channel,
        alert.outbox_id,
        slack_error_code(exc),
    )


def _found(messages: list[dict[str, Any]] | None, alert: Alert) -> str | None:
    return next((str(m["ts"]) for m in messages or [] if _carries(m, alert)), None)


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
