"""DiscordDelivery through a real logged-in discord.Client against the fake Discord API."""

from __future__ import annotations

import time

import discord
import pytest

from bot.adapters.discord import DiscordDelivery, DiscordSetupError, api
from bot.core.delivery import DeliveryError
from bot.core.models import DeliveryReceipt
from tests.adapters.discord.factories import CATALOG, alert, digest
from tests.adapters.discord.payloads import CHANNEL
from tests.fakes.discord_api import (
    TOKEN,
    UNKNOWN_CHANNEL,
    FakeDiscord,
    Scripted,
    error,
    rate_limited,
    server_error,
)

MESSAGES = f"/channels/{CHANNEL}/messages"


@pytest.fixture
def delivery(client: discord.Client) -> DiscordDelivery:
    return DiscordDelivery(client, CATALOG)


def only_message(fake: FakeDiscord) -> dict[str, object]:
    messages = fake.channel_messages(CHANNEL)
    assert len(messages) == 1, messages
    return messages[0]


async def test_login_is_rest_only(fake: FakeDiscord, client: discord.Client) -> None:
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    assert client.user is not None and client.application_id is not None


async def test_bad_token_names_the_setting(fake: FakeDiscord) -> None:
    with pytest.raises(DiscordSetupError, match="NKRU_DISCORD_TOKEN"):
        await DiscordDelivery.connect("wrong-token", CATALOG, network=fake.network())


async def test_alert_is_one_embed_with_nonce_and_no_mentions(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    receipt = await delivery.send(alert(41, also_reported_by=["Agency Two", "Third Outlet"]))

    message = only_message(fake)
    assert receipt == DeliveryReceipt(message["id"])
    (post,) = fake.calls("POST", MESSAGES)
    assert post.body["nonce"] == "nkru-41" and post.body["enforce_nonce"] is True
    assert post.body["allowed_mentions"] == {"parse": []}
    (embed,) = post.body["embeds"]
    assert embed["title"] == "Russia receives KN-23 missiles from North Korea"
    assert embed["url"] == "https://news.example/kn23"
    assert embed["color"] == 0xC0392B  # the best theme (arms-transfers 4.5) sets the colour
    assert embed["author"] == {"name": "Example News"}
    assert embed["timestamp"].startswith("2025-03-01T12:00:00")
    names = [field["name"] for field in embed["fields"]]
    assert names == ["Arms transfers · 4.5", "Tumen River bridge · 2.0", "Also reported by"]
    assert embed["fields"][0]["value"] == "KN-23 (title, 2.0), shells (summary, 1.0)"
    assert embed["fields"][2]["value"] == "Agency Two, Third Outlet"
    assert embed["footer"]["text"].endswith("story #7 · alert 41")


async def test_update_edits_the_first_post(fake: FakeDiscord, delivery: DiscordDelivery) -> None:
    first = await delivery.send(alert(1))
    update = alert(2, kind="update", remote_id=first.remote_id, also_reported_by=["Agency Two"])

    receipt = await delivery.send(update)

    assert receipt == first
    (edit,) = fake.calls("PATCH", f"{MESSAGES}/{first.remote_id}")
    assert edit.body["allowed_mentions"] == {"parse": []}
    message = only_message(fake)
    assert message["edited_timestamp"] is not None
    assert message["embeds"][0]["fields"][-1]["value"] == "Agency Two"
    assert message["embeds"][0]["footer"]["text"].startswith("Updated · ")


async def test_update_of_a_deleted_post_posts_anew(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    receipt = await delivery.send(alert(3, kind="update", remote_id="1299999999999999999"))

    assert fake.calls("PATCH", f"{MESSAGES}/*")[0].status == 404
    assert receipt.remote_id == only_message(fake)["id"]


async def test_short_rate_limit_is_waited_out_by_discord_py(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    fake.script("POST", MESSAGES, rate_limited(0.2))
    started = time.monotonic()

    receipt = await delivery.send(alert(5))

    assert [call.status for call in fake.calls("POST", MESSAGES)] == [429, 200]
    assert time.monotonic() - started >= 0.2
    assert receipt.remote_id == only_message(fake)["id"]


async def test_long_rate_limit_is_handed_to_the_outbox(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    fake.script("POST", MESSAGES, rate_limited(120.0))

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert(6))

    assert caught.value.retry_after == 120.0 and not caught.value.permanent
    assert fake.channel_messages(CHANNEL) == []


async def test_cloudflare_ban_waits_long(fake: FakeDiscord, delivery: DiscordDelivery) -> None:
    fake.script("POST", MESSAGES, Scripted(429, "banned"))

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert(6))

    assert not caught.value.permanent and caught.value.retry_after == 600.0


async def test_server_error_is_retried_by_discord_py(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    fake.script("POST", MESSAGES, server_error(500))

    receipt = await delivery.send(alert(7))

    assert [call.status for call in fake.calls("POST", MESSAGES)] == [500, 200]
    assert receipt.remote_id == only_message(fake)["id"]


async def test_unavailable_is_transient(fake: FakeDiscord, delivery: DiscordDelivery) -> None:
    fake.script("POST", MESSAGES, server_error(503))

    with pytest.raises(DeliveryError, match="server error") as caught:
        await delivery.send(alert(8))

    assert not caught.value.permanent


async def test_missing_permissions_is_permanent_and_says_what_to_grant(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    fake.forbidden_channels.add(CHANNEL)

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert(9))

    assert caught.value.permanent
    assert f"channel {CHANNEL}" in str(caught.value) and "50013" in str(caught.value)
    assert "View Channel + Send Messages + Embed Links" in str(caught.value)


async def test_unknown_channel_is_permanent(fake: FakeDiscord, delivery: DiscordDelivery) -> None:
    fake.script("POST", MESSAGES, UNKNOWN_CHANNEL)

    with pytest.raises(DeliveryError, match="10003") as caught:
        await delivery.send(alert(10))

    assert caught.value.permanent and "invite the bot" in str(caught.value)


async def test_destination_without_channel_id_is_permanent(delivery: DiscordDelivery) -> None:
    with pytest.raises(DeliveryError, match="Copy Channel ID") as caught:
        await delivery.send(alert(11, destination="discord:general"))

    assert caught.value.permanent


async def test_resend_within_the_nonce_window_is_one_message(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await delivery.send(alert(12))
    # The process died before recording `first`: the outbox hands the entry out again.
    again = await delivery.send(alert(12, redelivery=True))
    plain_retry = await delivery.send(alert(12))

    assert first == again == plain_retry
    assert only_message(fake)["id"] == first.remote_id
    assert len(fake.calls("POST", MESSAGES)) == 2  # the plain retry is answered by the nonce


async def test_redelivery_after_the_nonce_window_finds_the_post_in_history(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    await delivery.send(alert(13))
    first = await delivery.send(alert(14))
    fake.expire_nonces()

    again = await delivery.send(alert(13, redelivery=True))

    assert again.remote_id == fake.channel_messages(CHANNEL)[0]["id"]
    assert again != first
    assert len(fake.channel_messages(CHANNEL)) == 2
    assert fake.calls("GET", MESSAGES)[0].query["limit"] == "50"


async def test_redelivery_of_an_alert_never_posted_posts_it(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    receipt = await delivery.send(alert(15, redelivery=True))

    assert receipt.remote_id == only_message(fake)["id"]


async def test_redelivery_without_read_history_still_posts(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    fake.script("GET", MESSAGES, error(403, 50001, "Missing Access"))

    receipt = await delivery.send(alert(16, redelivery=True))

    assert receipt.remote_id == only_message(fake)["id"]


async def test_hostile_feed_text_pings_nobody(fake: FakeDiscord, delivery: DiscordDelivery) -> None:
    hostile = alert(
        17,
        title="@everyone <!channel> **bold** <script>",
        summary="ping <@123> and <@&456> in <#789> @here",
        source_name="@everyone News",
        url="javascript:alert(1)",
        also_reported_by=["<@&456> Daily"],
    )

    await delivery.send(hostile)

    embed = only_message(fake)["embeds"][0]
    assert embed["title"] == "@\u200beveryone <!channel> \\*\\*bold\\*\\* <script>"
    assert "<\u200b@123>" in embed["description"] and "<\u200b@&456>" in embed["description"]
    assert "<\u200b#789>" in embed["description"] and "@\u200bhere" in embed["description"]
    assert "url" not in embed  # only http(s) links
    assert embed["author"]["name"] == "@\u200beveryone News"
    # The fake's teardown also checks allowed_mentions and that no mention would render.


async def test_huge_digest_is_split_into_valid_messages(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    big = digest(sections=12, per_section=5, title_length=240, more=30)

    receipt = await delivery.send_digest(big)

    posts = fake.calls("POST", MESSAGES)
    assert len(posts) > 1 and fake.rejected == []
    assert all(post.status == 200 for post in posts)
    assert len({post.body["nonce"] for post in posts}) == len(posts)
    messages = fake.channel_messages(CHANNEL)
    assert receipt.remote_id == messages[0]["id"]
    text = "\n".join(e.get("description", "") for m in messages for e in m["embeds"])
    for number in range(1, 61):  # every story, in order
        assert f"**{number}.** [Story {number} " in text
    assert messages[-1]["embeds"][-1]["footer"]["text"] == "…and 30 more stories"


async def test_send_only_adapter_logs_in_and_closes(fake: FakeDiscord) -> None:
    delivery = await DiscordDelivery.connect(TOKEN, CATALOG, network=fake.network())
    try:
        receipt = await delivery.send(alert(18))
    finally:
        await delivery.close()

    assert receipt.remote_id == only_message(fake)["id"]
    assert delivery.client.is_closed()


def test_nonces_fit_discord() -> None:
    from bot.adapters.discord.delivery import alert_nonce, digest_nonce

    assert len(alert_nonce(2**63 - 1)) <= 25
    assert len(digest_nonce(digest(1, 1), 99)) <= 25
    assert api.channel_id("discord:123") == 123
