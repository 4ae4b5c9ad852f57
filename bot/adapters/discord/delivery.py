"""Discord delivery adapters: a bot token (exactly-once via nonce) or a channel webhook.

Exactly-once with a bot token: every post carries a nonce derived from the outbox id, and
discord.py (2.5 and later) always sends `enforce_nonce: true` with a nonce
(`http.handle_message_parameters`), so a retry within Discord's nonce window (a few minutes)
gets the first message back instead of a second one. A redelivery (a previous attempt may have
posted, then the process died before recording it) can come later than that window, so it
first looks through the channel's recent history for a message of ours whose footer carries
the alert's marker.

An update edits the alert's message, posts in a thread started on it, or both, as the
destination's routes say (`Alert.updates`). A thread started on a message has the message's id,
so posting there first tells whether it exists (Unknown Channel: start it, then post); the post
carries the alert's nonce and marker, and a redelivery looks through the thread's history.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord

from bot.adapters.discord import api, render
from bot.adapters.discord.errors import NETWORK_ERRORS, delivery_error
from bot.core.delivery import DeliveryError
from bot.core.digest import Digest
from bot.core.models import Alert, DeliveryReceipt

log = logging.getLogger(__name__)
HISTORY_LIMIT = 50  # recent messages searched before re-posting a redelivered alert
FAILURES = (discord.DiscordException, *NETWORK_ERRORS)
UNKNOWN_MESSAGE = 10008  # editing a deleted message; other 404s (unknown channel) are final
UNKNOWN_CHANNEL = 10003  # posting in a thread that was not started yet
THREAD_EXISTS = 160004  # starting a thread on a message that has one


def alert_nonce(outbox_id: int) -> str:
    """The nonce of an alert's post (Discord allows 25 characters)."""
    return f"nkru-{outbox_id}"


def digest_nonce(digest: Digest, part: int) -> str:
    """The nonce of one message of a digest: the same digest posted twice in a row is one post."""
    key = f"{digest.destination}|{digest.since.isoformat()}|{digest.story_count}"
    return f"nkd-{hashlib.sha256(key.encode()).hexdigest()[:16]}-{part}"


@contextmanager
def _translated(where: str) -> Iterator[None]:
    """Turn the failures of the Discord calls inside into DeliveryError."""
    try:
        yield
    except FAILURES as exc:
        raise delivery_error(exc, where) from exc


def _channel(destination: str) -> int:
    try:
        return api.channel_id(destination)
    except ValueError as exc:
        raise DeliveryError(str(exc), permanent=True) from None


class DiscordDelivery:
    """Posts alerts and digests through a logged-in `discord.Client` (REST only, no gateway)."""

    def __init__(
        self,
        client: discord.Client,
        catalog: render.CatalogSource | None = None,
        *,
        owns_client: bool = False,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self.client = client
        self.catalog = render.catalog_getter(catalog)
        self.history_limit = history_limit
        self._owns_client = owns_client

    @classmethod
    async def connect(
        cls,
        token: str,
        catalog: render.CatalogSource | None = None,
        *,
        network: api.DiscordNetwork = api.DIRECT,
    ) -> DiscordDelivery:
        """A send-only adapter with its own client, logged in (raises DiscordSetupError)."""
        client = api.new_client(network=network)
        await api.login(client, token)
        return cls(client, catalog, owns_client=True)

    async def close(self) -> None:
        """Close the client if this adapter created it."""
        if self._owns_client:
            await self.client.close()

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Post an alert, or edit its first post for an update (post anew if that is gone)."""
        where = f"channel {alert.destination.partition(':')[2]}"
        channel = self.client.get_partial_messageable(_channel(alert.destination))
        embed = render.alert_embed(alert, self.catalog())
        if alert.kind == "update" and alert.remote_id and alert.remote_id.isdigit():
            if receipt := await self._update(channel, alert, embed, where):
                return receipt
            log.info(
                "first post %s of alert #%s is gone: posting anew", alert.remote_id, alert.outbox_id
            )
        if alert.redelivery:
            previous = await self._previous_post(channel, alert.outbox_id)
            if previous is not None:
                log.info("alert #%s was already posted as %s", alert.outbox_id, previous)
                return DeliveryReceipt(str(previous))
        with _translated(where):
            sent = await channel.send(
                embeds=[embed],
                nonce=alert_nonce(alert.outbox_id),
                allowed_mentions=api.no_mentions(),
            )
        return DeliveryReceipt(str(sent.id))

    async def _update(
        self, channel: discord.PartialMessageable, alert: Alert, embed: discord.Embed, where: str
    ) -> DeliveryReceipt | None:
        """Edit the first post, post in its thread, or both; None when the first post is gone."""
        first = int(str(alert.remote_id))
        if alert.updates != "thread":
            message = channel.get_partial_message(first)
            with _translated(where):
                try:
                    await message.edit(embeds=[embed], allowed_mentions=api.no_mentions())
                except discord.NotFound as exc:
                    if exc.code != UNKNOWN_MESSAGE:
                        raise
                    return None
            if alert.updates == "edit":
                return DeliveryReceipt(alert.remote_id)
        return await self._reply(channel.id, first, alert, where)

    async def _reply(
        self, channel_id: int, first: int, alert: Alert, where: str
    ) -> DeliveryReceipt | None:
        """Post the update in the thread on the first post (started if need be), once."""
        thread = self.client.get_partial_messageable(first)  # a thread has its message's id
        if alert.redelivery and (previous := await self._previous_post(thread, alert.outbox_id)):
            log.info("alert #%s was already posted in thread %s", alert.outbox_id, first)
            return DeliveryReceipt(str(previous))
        embed = render.thread_embed(alert)
        nonce = alert_nonce(alert.outbox_id)
        with _translated(where):
            try:
                sent = await thread.send(
                    embeds=[embed], nonce=nonce, allowed_mentions=api.no_mentions()
                )
            except discord.NotFound as exc:
                if exc.code != UNKNOWN_CHANNEL:
                    raise
                if not await self._start_thread(channel_id, first, alert):
                    return None
                sent = await thread.send(
                    embeds=[embed], nonce=nonce, allowed_mentions=api.no_mentions()
                )
        return DeliveryReceipt(str(sent.id))

    async def _start_thread(self, channel_id: int, first: int, alert: Alert) -> bool:
        """Start the thread on the first post; False when that post is gone."""
        # The thread is created through the channel: a partial message knows no guild here.
        parent = await self.client.fetch_channel(channel_id)
        if not isinstance(parent, discord.TextChannel):
            raise DeliveryError(
                f"channel {channel_id} cannot have threads (not a text or announcement "
                'channel): set updates = "edit" on its routes',
                permanent=True,
            )
        try:
            await parent.create_thread(
                name=render.thread_name(alert), message=discord.Object(first)
            )
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                raise
            return False
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:  # started by a previous attempt or by a person
                raise
        return True

    async def _previous_post(
        self, channel: discord.PartialMessageable, outbox_id: int
    ) -> int | None:
        """Our message for this alert among the channel's recent ones, if a crash hid it from us."""
        me = self.client.user
        nonce = alert_nonce(outbox_id)
        marker = " " + render.alert_marker(outbox_id)
        try:
            async for message in channel.history(limit=self.history_limit):
                if me is None or message.author.id != me.id:
                    continue
                footers = [embed.footer.text or "" for embed in message.embeds]
                if message.nonce == nonce or any(f.endswith(marker) for f in footers):
                    return message.id
        except FAILURES as exc:  # no Read Message History: the nonce still covers recent retries
            log.warning(
                "cannot read history of %s to check alert #%s: %r", channel.id, outbox_id, exc
            )
        return None

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Post a digest as one or more messages; the receipt names the first."""
        where = f"channel {digest.destination.partition(':')[2]}"
        channel = self.client.get_partial_messageable(_channel(digest.destination))
        first: str | None = None
        for part, embeds in enumerate(render.pack(render.digest_embeds(digest, self.catalog()))):
            with _translated(where):
                sent = await channel.send(
                    embeds=embeds,
                    nonce=digest_nonce(digest, part),
                    allowed_mentions=api.no_mentions(),
                )
            first = first or str(sent.id)
        return DeliveryReceipt(first)


class DiscordWebhookDelivery:
    """Posts through a channel webhook (`NKRU_DISCORD_WEBHOOK_URL`): no bot, no commands.

    Every alert goes to the webhook's own channel, whatever the route's `discord:<id>` says.
    Webhooks take no nonce and cannot read channel history, so a redelivery after a crash in
    the instant between posting and recording can post an alert twice (logged).
    """

    def __init__(
        self,
        url: str,
        catalog: render.CatalogSource | None = None,
        *,
        network: api.DiscordNetwork = api.DIRECT,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        # Webhook.from_url raises a bare ValueError (and wants 60+ character tokens): our own
        # parse names the setting. discord.py sends every webhook call to discord.com.
        self.webhook_id, self._token = api.parse_webhook_url(url)
        self.catalog = render.catalog_getter(catalog)
        self._network = network
        self._session = session
        self._owns_session = session is None
        self._webhook: discord.Webhook | None = None

    def _hook(self) -> discord.Webhook:
        """The webhook, on a session created in the running loop on first use."""
        if self._webhook is None:
            if self._session is None:  # proxy and connector as the bot's client would have
                self._session = self._network.new_session()
            self._webhook = discord.Webhook.partial(
                self.webhook_id, self._token, session=self._session
            )
        return self._webhook

    async def close(self) -> None:
        """Close the HTTP session if this adapter created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Post an alert, or edit its first post for an update (post anew if that is gone)."""
        where = f"webhook {self.webhook_id}"
        hook = self._hook()
        embed = render.alert_embed(alert, self.catalog())
        if alert.kind == "update" and alert.remote_id and alert.remote_id.isdigit():
            with _translated(where):
                try:
                    await hook.edit_message(
                        int(alert.remote_id), embeds=[embed], allowed_mentions=api.no_mentions()
                    )
                    return DeliveryReceipt(alert.remote_id)
                except discord.NotFound as exc:
                    if exc.code != UNKNOWN_MESSAGE:
                        raise
        if alert.redelivery:
            log.warning(
                "alert #%s may already be in the webhook's channel (webhooks cannot check)",
                alert.outbox_id,
            )
        with _translated(where):
            sent = await hook.send(embeds=[embed], wait=True, allowed_mentions=api.no_mentions())
        return DeliveryReceipt(str(sent.id))

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Post a digest as one or more messages; the receipt names the first."""
        hook = self._hook()
        first: str | None = None
        for embeds in render.pack(render.digest_embeds(digest, self.catalog())):
            with _translated(f"webhook {self.webhook_id}"):
                sent = await hook.send(embeds=embeds, wait=True, allowed_mentions=api.no_mentions())
            first = first or str(sent.id)
        return DeliveryReceipt(first)
