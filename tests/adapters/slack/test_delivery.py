"""SlackDelivery through the real slack_sdk client against the fake Slack Web API."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest

from bot.adapters.slack.delivery import SlackDelivery
from bot.adapters.slack.pacing import ChannelPacer
from bot.core.delivery import DeliveryError
from bot.core.digest import Digest, DigestItem, DigestSection
from bot.core.models import Story, ThemeHit
from bot.core.records import StoryView
from tests.adapters.slack.samples import (
    CATALOG,
    CHANNEL,
    HOSTILE_SUMMARY,
    HOSTILE_TITLE,
    WHEN,
    alert,
    assert_inert,
    assert_within_limits,
    texts,
)
from tests.fakes.slack_api import FakeSlackApi

# --- posting and updating ----------------------------------------------------------------------


async def test_new_alert_is_posted_with_metadata_and_within_limits(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    receipt = await delivery.send(alert(also_reported_by=["Yonhap", "TASS"]))

    [call] = slack.calls_to("chat.postMessage")
    assert call.token == slack.bot_token
    assert call.args["channel"] == CHANNEL
    assert call.args["unfurl_links"] is False
    assert call.args["metadata"] == {
        "event_type": "nkru_alert",
        "event_payload": {"outbox_id": 5, "story_id": 42},
    }
    assert_within_limits(call.args)
    shown = "\n".join(texts(call.args))
    assert "<https://news.example/tumen?id=1&amp;lang=en|Russia and North Korea" in shown
    assert "Example News · 2024-05-01 08:30 UTC" in shown
    assert "Also reported by Yonhap, TASS" in shown
    assert "Tumen (title), road bridge (title)" in shown
    assert call.args["attachments"][0]["color"] == "#2e86de"  # the theme's colour bar
    assert receipt.remote_id == slack.messages[CHANNEL][0]["ts"]


async def test_update_edits_the_first_post_with_every_outlet(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    first = await delivery.send(alert())
    update = alert(
        outbox_id=9, kind="update", remote_id=first.remote_id, also_reported_by=["Yonhap", "TASS"]
    )

    receipt = await delivery.send(update)

    assert receipt.remote_id == first.remote_id
    [call] = slack.calls_to("chat.update")
    assert call.args["ts"] == first.remote_id
    assert call.args["channel"] == CHANNEL
    assert_within_limits(call.args)
    assert len(slack.calls_to("chat.postMessage")) == 1  # edited, not posted again
    [message] = slack.messages[CHANNEL]
    assert message["edited"] is True
    assert "Also reported by Yonhap, TASS" in texts(message["blocks"])
    assert texts(message["blocks"])[0].startswith(":arrows_counterclockwise: Updated")


async def test_update_of_a_deleted_post_posts_the_story_again(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    receipt = await delivery.send(alert(kind="update", remote_id="1600000000.000001"))

    assert [c.method for c in slack.calls] == ["chat.update", "chat.postMessage"]
    assert receipt.remote_id == slack.messages[CHANNEL][0]["ts"]


async def test_posts_to_one_channel_are_paced(slack: FakeSlackApi) -> None:
    adapter = SlackDelivery.from_token(slack.bot_token, api_url=slack.api_url, interval=0.3)
    await adapter.send(alert(outbox_id=1))
    await adapter.send(alert(outbox_id=2))
    await adapter.send(alert(outbox_id=3, destination="slack:C0999"))  # another channel

    first, second, _ = slack.calls_to("chat.postMessage")
    assert second.at - first.at >= 0.3
    assert [c.args["channel"] for c in slack.calls] == [CHANNEL, CHANNEL, "C0999"]


async def test_pacer_keeps_channels_apart() -> None:
    now = [100.0]
    pacer = ChannelPacer(interval=1.0, clock=lambda: now[0])
    async with pacer.turn("C1"):
        pass
    assert pacer._next == {"C1": 101.0}
    async with pacer.turn("C2"):  # another channel does not wait for C1's slot
        pass
    assert pacer._next["C2"] == 101.0


# --- errors ------------------------------------------------------------------------------------


async def test_short_rate_limit_is_retried_in_place(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=1)

    receipt = await delivery.send(alert())

    calls = slack.calls_to("chat.postMessage")
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 1.0  # slack_sdk waited what Retry-After said
    assert receipt.remote_id == slack.messages[CHANNEL][0]["ts"]


async def test_long_rate_limit_goes_back_to_the_outbox_with_retry_after(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.fail("chat.postMessage", status=429, error="ratelimited", retry_after=30)

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert())

    assert caught.value.retry_after == 30
    assert not caught.value.permanent
    assert len(slack.calls_to("chat.postMessage")) == 1  # the worker was not held for 30 s


async def test_server_error_is_transient_and_not_retried_blindly(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.fail("chat.postMessage", status=500, html="<html>Internal Server Error</html>")

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert())

    assert not caught.value.permanent
    assert caught.value.retry_after is None
    assert "500" in str(caught.value)
    # A 500 may hide a successful post: the outbox retries with a redelivery check instead.
    assert len(slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("error", "extra", "advice"),
    [
        ("channel_not_found", {}, "check the channel id in NKRU_ROUTES"),
        ("not_in_channel", {}, "/invite @nkru"),
        ("is_archived", {}, "archived"),
        ("invalid_auth", {}, "NKRU_SLACK_BOT_TOKEN"),
        ("token_revoked", {}, "NKRU_SLACK_BOT_TOKEN"),
        ("missing_scope", {"needed": "chat:write"}, "lacks the chat:write scope"),
        ("msg_too_long", {}, "bug in the Slack renderer"),
    ],
)
async def test_permanent_errors_say_what_to_do(
    slack: FakeSlackApi, delivery: SlackDelivery, error: str, extra: dict[str, str], advice: str
) -> None:
    slack.fail("chat.postMessage", error=error, extra=extra)

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert())

    assert caught.value.permanent
    assert advice in str(caught.value)


async def test_unknown_channel_is_permanent_and_names_the_channel(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.missing_channels.add(CHANNEL)

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert())

    assert caught.value.permanent
    assert CHANNEL in str(caught.value) and "/invite @nkru" in str(caught.value)


async def test_wrong_token_is_permanent() -> None:
    async with FakeSlackApi(bot_token="xoxb-right") as fake:
        adapter = SlackDelivery.from_token("xoxb-wrong", api_url=fake.api_url, interval=0)
        with pytest.raises(DeliveryError) as caught:
            await adapter.send(alert())
    assert caught.value.permanent
    assert "invalid_auth" in str(caught.value)


async def test_unreachable_api_is_transient() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = SlackDelivery.from_token("xoxb-x", api_url=f"http://127.0.0.1:{port}/api/")

    with pytest.raises(DeliveryError) as caught:
        await adapter.send(alert())

    assert not caught.value.permanent
    assert "unreachable" in str(caught.value)


async def test_non_slack_destination_is_permanent(delivery: SlackDelivery) -> None:
    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert(destination="discord:123"))
    assert caught.value.permanent


# --- redelivery ----------------------------------------------------------------------------------


async def test_redelivery_finds_the_earlier_post_and_does_not_post_twice(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    # The first attempt posted, then the worker died before recording it.
    first = await delivery.send(alert())
    slack.seed_message(CHANNEL, "someone chatting")  # newer messages in between

    receipt = await delivery.send(alert(redelivery=True))

    assert receipt.remote_id == first.remote_id
    assert len(slack.calls_to("chat.postMessage")) == 1
    [history] = slack.calls_to("conversations.history")
    assert history.args["channel"] == CHANNEL
    assert history.args["include_all_metadata"] in {"1", "true"}
    assert int(history.args["limit"]) <= 1000  # a bounded window
    assert len(slack.messages[CHANNEL]) == 2


async def test_redelivery_posts_when_no_earlier_post_exists(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    other = {"event_type": "nkru_alert", "event_payload": {"outbox_id": 4, "story_id": 42}}
    slack.seed_message(CHANNEL, "another alert", metadata=other)

    receipt = await delivery.send(alert(redelivery=True))

    assert len(slack.calls_to("chat.postMessage")) == 1
    assert receipt.remote_id == slack.messages[CHANNEL][-1]["ts"]


async def test_redelivery_posts_when_history_cannot_be_read(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.fail("conversations.history", error="missing_scope", extra={"needed": "channels:history"})

    receipt = await delivery.send(alert(redelivery=True))

    assert receipt.remote_id is not None
    assert len(slack.calls_to("chat.postMessage")) == 1  # a duplicate beats a lost alert


async def test_redelivery_check_rate_limited_is_retried_later(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    slack.fail("conversations.history", status=429, error="ratelimited", retry_after=20)

    with pytest.raises(DeliveryError) as caught:
        await delivery.send(alert(redelivery=True))

    assert caught.value.retry_after == 20
    assert slack.calls_to("chat.postMessage") == []  # never post blind when we could check


# --- escaping and digests ----------------------------------------------------------------------


async def test_hostile_feed_text_arrives_escaped(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    hostile = alert(
        title=HOSTILE_TITLE,
        summary=HOSTILE_SUMMARY,
        source_name="<!everyone> *Wire*",
        also_reported_by=["<@U999>", "@here"],
        themes=[ThemeHit("tumen-bridge", 2.0, "<!subteam^S1> *why*")],
    )

    await delivery.send(hostile)

    [call] = slack.calls_to("chat.postMessage")
    assert "<!" not in call.raw and "<@" not in call.raw and "\\u003c!" not in call.raw
    assert_inert(call.raw)
    shown = "\n".join(texts(call.args))
    assert "&lt;!channel&gt;" in shown and "&lt;@U123&gt;" in shown
    assert "&lt;https://evil|click&gt;" in shown


async def test_unsafe_links_are_not_linked(slack: FakeSlackApi, delivery: SlackDelivery) -> None:
    await delivery.send(alert(url="javascript:alert(1)"))
    await delivery.send(alert(outbox_id=6, url="https://ok.example/a b|c>d"))

    first, second = (texts(c.args["blocks"])[0] for c in slack.calls_to("chat.postMessage"))
    assert "javascript" not in first and "<" not in first
    assert "<https://ok.example/a%20b%7Cc%3Ed|" in second


def _digest(sections: int, per_section: int, *, long: bool = True) -> Digest:
    long_title = "Sanctions & shells <b> " * (20 if long else 1)
    built = []
    for s in range(sections):
        items = [
            DigestItem(
                StoryView(
                    Story(s * 100 + i, f"{long_title} {s}-{i}", WHEN, WHEN, 3),
                    f"https://news.example/{s}/{i}",
                    "summary",
                    "Example News",
                    ["Yonhap", "TASS", "<!channel>"] * (30 if long else 1),
                ),
                ThemeHit("arms-transfers", 5.0, "shells (title) " * (40 if long else 1)),
            )
            for i in range(per_section)
        ]
        built.append(DigestSection("arms-transfers", items, more=3))
    return Digest(f"slack:{CHANNEL}", WHEN - timedelta(days=1), built, more=11)


@pytest.mark.parametrize("long", [True, False], ids=["long-texts", "many-blocks"])
async def test_huge_digest_is_split_and_every_message_is_accepted(
    slack: FakeSlackApi, delivery: SlackDelivery, long: bool
) -> None:
    receipt = await delivery.send_digest(_digest(sections=12, per_section=8, long=long))

    calls = slack.calls_to("chat.postMessage")
    assert len(calls) >= 3
    assert len(slack.messages[CHANNEL]) == len(calls)  # the fake accepted every one
    for call in calls:
        assert_within_limits(call.args)
        assert len(call.args["blocks"]) <= 50
        assert call.args["metadata"]["event_type"] == "nkru_digest"
        assert "<!" not in call.raw
    shown = "\n".join(text for call in calls for text in texts(call.args["blocks"]))
    assert shown.count(". *<https://news.example/") == 96  # every story, once
    assert "96. *<https://news.example/11/7|" in shown  # numbered across the messages
    assert "…and 11 more stories" in shown
    assert receipt.remote_id == slack.messages[CHANNEL][0]["ts"]


async def test_empty_digest_says_so(slack: FakeSlackApi, delivery: SlackDelivery) -> None:
    await delivery.send_digest(Digest(f"slack:{CHANNEL}", WHEN))

    [call] = slack.calls_to("chat.postMessage")
    assert "No new stories in this period." in texts(call.args["blocks"])
    assert json.loads(call.raw)["text"] == "Digest · since 2024-05-01 08:30 UTC: 0 stories"


async def test_digest_sections_use_theme_titles(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    await delivery.send_digest(_digest(sections=1, per_section=2))

    [call] = slack.calls_to("chat.postMessage")
    assert "*Arms transfers*" in texts(call.args["blocks"])
    assert "…and 3 more on Arms transfers" in texts(call.args["blocks"])
    assert CATALOG.get("arms-transfers").title == "Arms transfers"
