"""DiscordWebhookDelivery: a real discord.Webhook (built from id and token) against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.discord import DiscordSetupError, DiscordWebhookDelivery
from bot.core.delivery import DeliveryError
from tests.adapters.discord.factories import CATALOG, alert, digest
from tests.fakes.discord_api import FakeDiscord

HOOK_CHANNEL = 1_500_000_000_000_000_001


@pytest.fixture
async def webhook(fake: FakeDiscord) -> AsyncIterator[DiscordWebhookDelivery]:
    adapter = DiscordWebhookDelivery(
        fake.add_webhook(HOOK_CHANNEL), CATALOG, network=fake.network()
    )
    yield adapter
    await adapter.close()


async def test_alert_is_posted_and_its_id_returned(
    fake: FakeDiscord, webhook: DiscordWebhookDelivery
) -> None:
    receipt = await webhook.send(alert(1, title="@here **KN-23** <@&456>"))

    (message,) = fake.channel_messages(HOOK_CHANNEL)
    assert receipt.remote_id == message["id"]
    (post,) = fake.calls("POST", f"/webhooks/{webhook.webhook_id}/*")
    assert post.query["wait"] == "1"  # discord.py's `wait=True`: answer with the message
    assert post.body["allowed_mentions"] == {"parse": []}
    assert message["embeds"][0]["title"] == "@\u200bhere \\*\\*KN-23\\*\\* <\u200b@&456>"


async def test_update_edits_the_webhook_message(
    fake: FakeDiscord, webhook: DiscordWebhookDelivery
) -> None:
    first = await webhook.send(alert(1))

    again = await webhook.send(
        alert(2, kind="update", remote_id=first.remote_id, also_reported_by=["Agency Two"])
    )

    assert again == first
    (edit,) = fake.calls("PATCH", f"/webhooks/{webhook.webhook_id}/*/messages/{first.remote_id}")
    assert edit.body["allowed_mentions"] == {"parse": []}
    (message,) = fake.channel_messages(HOOK_CHANNEL)
    assert message["embeds"][0]["fields"][-1] == {
        "name": "Also reported by",
        "value": "Agency Two",
        "inline": False,
    }


async def test_update_of_a_deleted_message_posts_anew(
    fake: FakeDiscord, webhook: DiscordWebhookDelivery
) -> None:
    receipt = await webhook.send(alert(3, kind="update", remote_id="1299999999999999999"))

    (message,) = fake.channel_messages(HOOK_CHANNEL)
    assert receipt.remote_id == message["id"]


async def test_digest_is_split_within_limits(
    fake: FakeDiscord, webhook: DiscordWebhookDelivery
) -> None:
    receipt = await webhook.send_digest(digest(sections=10, per_section=5, title_length=240))

    messages = fake.channel_messages(HOOK_CHANNEL)
    assert len(messages) > 1 and fake.rejected == []
    assert receipt.remote_id == messages[0]["id"]


async def test_deleted_webhook_is_permanent(fake: FakeDiscord) -> None:
    url = fake.add_webhook(HOOK_CHANNEL)
    fake.webhooks.clear()
    adapter = DiscordWebhookDelivery(url, CATALOG, network=fake.network())
    try:
        with pytest.raises(DeliveryError, match="NKRU_DISCORD_WEBHOOK_URL") as caught:
            await adapter.send(alert(4))
    finally:
        await adapter.close()
    assert caught.value.permanent


def test_url_without_id_and_token_names_the_setting() -> None:
    with pytest.raises(DiscordSetupError, match="NKRU_DISCORD_WEBHOOK_URL"):
        DiscordWebhookDelivery("https://discord.com/channels/1/2")
