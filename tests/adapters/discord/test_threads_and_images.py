"""Updates in a thread on the alert (`updates` = thread | both) and thumbnails, on the fake."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest

from bot.adapters.discord import DiscordDelivery
from bot.core.models import Alert, Report
from tests.adapters.discord.factories import CATALOG, NOW, alert
from tests.adapters.discord.payloads import CHANNEL
from tests.fakes.discord_api import UNKNOWN_CHANNEL, FakeDiscord

PICTURE = "https://img.example/kn23.jpg?w=640&h=360"
REPORT = Report("Missiles arrive by rail", "https://wire.example/m", "Wire", NOW, PICTURE)
THREADS = f"/channels/{CHANNEL}/messages/*/threads"


@pytest.fixture
def delivery(client: discord.Client) -> DiscordDelivery:
    return DiscordDelivery(client, CATALOG)


async def first_post(delivery: DiscordDelivery) -> int:
    receipt = await delivery.send(alert(1, image_url=PICTURE))
    assert receipt.remote_id is not None
    return int(receipt.remote_id)


def update(first: int, outbox_id: int = 2, **changes: object) -> Alert:
    return replace(
        alert(outbox_id, kind="update", remote_id=str(first), report=REPORT, updates="thread"),
        **changes,  # type: ignore[arg-type]
    )


async def test_thread_update_starts_a_thread_on_the_alert_and_posts_in_it(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)

    receipt = await delivery.send(update(first))

    assert fake.threads[first] == (CHANNEL, "Russia receives KN-23 missiles from North Korea")
    [reply] = fake.channel_messages(first)
    assert receipt.remote_id == reply["id"]
    [embed] = reply["embeds"]
    assert embed["title"] == "Missiles arrive by rail"
    assert embed["url"] == "https://wire.example/m"
    assert embed["author"] == {"name": "Wire"}
    assert embed["thumbnail"]["url"] == PICTURE
    assert embed["footer"]["text"].endswith(" alert 2")
    assert fake.calls("PATCH", f"/channels/{CHANNEL}/messages/*") == []  # not edited
    [post] = fake.calls("POST", f"/channels/{first}/messages")[-1:]
    assert post.body["nonce"] == "nkru-2" and post.body["allowed_mentions"] == {"parse": []}


async def test_a_second_update_posts_in_the_same_thread(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    await delivery.send(update(first, 2))
    await delivery.send(update(first, 3))

    assert len(fake.calls("POST", THREADS)) == 1
    assert len(fake.channel_messages(first)) == 2


async def test_a_thread_someone_already_started_is_used(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    fake.threads[first] = (CHANNEL, "started by a reader")
    fake.expire_nonces()
    await delivery.send(update(first))
    assert fake.calls("POST", THREADS) == []
    assert len(fake.channel_messages(first)) == 1


async def test_thread_already_created_by_a_crashed_attempt_is_not_an_error(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    # A previous attempt started the thread; its post there then failed with Unknown Channel
    # (the thread was not visible yet): starting it again answers 160004, and we post.
    fake.script("POST", f"/channels/{first}/messages", UNKNOWN_CHANNEL)
    fake.threads[first] = (CHANNEL, "started")
    await delivery.send(update(first))
    [start] = fake.calls("POST", THREADS)
    assert start.status == 400
    assert len(fake.channel_messages(first)) == 1


async def test_both_edits_the_alert_and_posts_in_the_thread(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    await delivery.send(update(first, updates="both", also_reported_by=["Wire"], image_url=PICTURE))
    [edited] = fake.channel_messages(CHANNEL)
    assert edited["edited_timestamp"] is not None
    assert edited["embeds"][0]["thumbnail"]["url"] == PICTURE  # the headline's picture stays
    assert len(fake.channel_messages(first)) == 1


async def test_redelivered_thread_post_is_found_and_not_posted_twice(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    earlier = await delivery.send(update(first))
    fake.expire_nonces()  # the redelivery comes after Discord's nonce window

    receipt = await delivery.send(update(first, redelivery=True))

    assert receipt == earlier
    assert len(fake.channel_messages(first)) == 1


async def test_redelivery_before_the_thread_exists_starts_it_and_posts(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    await delivery.send(update(first, redelivery=True))
    assert len(fake.channel_messages(first)) == 1


async def test_thread_on_a_deleted_alert_posts_the_story_anew(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    first = await first_post(delivery)
    del fake.messages[CHANNEL][first]

    receipt = await delivery.send(update(first))

    [fresh] = fake.channel_messages(CHANNEL)
    assert receipt.remote_id == fresh["id"] and first not in fake.threads


async def test_hostile_title_names_the_thread_as_plain_text(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    receipt = await delivery.send(alert(1, title="@everyone <@&42> " + "x" * 300))
    first = int(str(receipt.remote_id))
    await delivery.send(update(first, title="@everyone <@&42> " + "x" * 300))
    name = fake.threads[first][1]
    assert len(name) <= 100 and "@everyone" not in name and "<@&42>" not in name


async def test_alert_thumbnail_only_for_http_pictures(
    fake: FakeDiscord, delivery: DiscordDelivery
) -> None:
    await delivery.send(alert(1, image_url=PICTURE))
    await delivery.send(alert(2, image_url="javascript:alert(1)"))
    await delivery.send(alert(3, image_url="https://img.example/a b.jpg"))
    shown, *refused = fake.channel_messages(CHANNEL)
    assert shown["embeds"][0]["thumbnail"]["url"] == PICTURE
    assert all("thumbnail" not in m["embeds"][0] for m in refused)
    assert fake.rejected == []
