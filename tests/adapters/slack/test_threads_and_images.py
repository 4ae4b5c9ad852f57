"""Updates as thread replies (`updates` = thread | both) and thumbnails, against the fake Slack."""

from __future__ import annotations

from dataclasses import replace

from bot.adapters.slack.delivery import SlackDelivery, make_web_client
from bot.core.models import Report
from tests.adapters.slack.samples import CHANNEL as CH
from tests.adapters.slack.samples import WHEN, alert, assert_within_limits, texts
from tests.fakes.slack_api import FakeSlackApi

PICTURE = "https://img.example/tumen.jpg?w=640&h=360"
REPORT = Report("Bridge opens to trucks", "https://wire.example/b", "Wire", WHEN, PICTURE)


async def posted(delivery: SlackDelivery) -> str:
    receipt = await delivery.send(alert())
    assert receipt.remote_id
    return receipt.remote_id


async def test_thread_update_replies_in_the_alerts_thread_and_leaves_it_as_it_was(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    first = await posted(delivery)

    receipt = await delivery.send(
        alert(outbox_id=9, kind="update", remote_id=first, report=REPORT, updates="thread")
    )

    assert slack.calls_to("chat.update") == []
    [_, reply] = slack.calls_to("chat.postMessage")
    assert reply.args["thread_ts"] == first
    assert reply.args["metadata"]["event_payload"] == {"outbox_id": 9, "story_id": 42}
    assert_within_limits(reply.args)
    shown = "\n".join(texts(reply.args))
    assert "<https://wire.example/b|Bridge opens to trucks>" in shown
    assert "Wire · 2024-05-01 08:30 UTC · story #42" in shown
    assert reply.args["blocks"][0]["accessory"] == {
        "type": "image",
        "image_url": PICTURE,  # as the feed gave it: no mrkdwn escaping in a URL field
        "alt_text": "Bridge opens to trucks",
    }
    [thread_reply] = slack.thread(CH, first)
    assert receipt.remote_id == thread_reply["ts"]
    assert len(slack.messages[CH]) == 2 and "edited" not in slack.messages[CH][0]


async def test_both_edits_the_alert_and_replies(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    first = await posted(delivery)

    await delivery.send(
        alert(
            outbox_id=9,
            kind="update",
            remote_id=first,
            report=REPORT,
            also_reported_by=["Wire"],
            updates="both",
        )
    )

    [edit] = slack.calls_to("chat.update")
    assert edit.args["ts"] == first
    assert slack.messages[CH][0]["edited"] is True
    assert len(slack.thread(CH, first)) == 1


async def test_edit_is_still_the_default(slack: FakeSlackApi, delivery: SlackDelivery) -> None:
    first = await posted(delivery)
    await delivery.send(alert(outbox_id=9, kind="update", remote_id=first, report=REPORT))
    assert len(slack.calls_to("chat.update")) == 1
    assert slack.thread(CH, first) == []


async def test_redelivered_reply_is_found_in_the_thread_and_not_posted_twice(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    first = await posted(delivery)
    thread_update = alert(
        outbox_id=9, kind="update", remote_id=first, report=REPORT, updates="thread"
    )
    # The first attempt replied, then the worker died before recording it; others replied since.
    earlier = await delivery.send(thread_update)
    slack.seed_message(CH, "a colleague's comment", thread_ts=first)

    receipt = await delivery.send(replace(thread_update, redelivery=True))

    assert receipt.remote_id == earlier.remote_id
    assert len(slack.thread(CH, first)) == 2  # the reply and the comment, no second reply
    [check] = slack.calls_to("conversations.replies")
    assert check.args["ts"] == first
    assert check.args["include_all_metadata"] in {"1", "true"}


async def test_redelivered_reply_pages_through_a_long_thread(slack: FakeSlackApi) -> None:
    # Small pages, so the reply is on a later one.
    delivery = SlackDelivery(make_web_client(slack.bot_token, slack.api_url), history_window=2)
    first = await posted(delivery)
    thread_update = alert(
        outbox_id=9, kind="update", remote_id=first, report=REPORT, updates="thread"
    )
    for n in range(3):  # a busy thread: the reply lands after these
        slack.seed_message(CH, f"comment {n}", thread_ts=first)
    await delivery.send(thread_update)

    await delivery.send(replace(thread_update, redelivery=True))

    assert len(slack.thread(CH, first)) == 4
    assert len(slack.calls_to("conversations.replies")) == 3  # [parent, c0], [c1, c2], [reply]


async def test_redelivered_reply_is_posted_when_the_thread_has_none(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    first = await posted(delivery)
    await delivery.send(
        alert(
            outbox_id=9,
            kind="update",
            remote_id=first,
            report=REPORT,
            updates="thread",
            redelivery=True,
        )
    )
    assert len(slack.thread(CH, first)) == 1


async def test_reply_to_a_deleted_alert_posts_the_story_again(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    receipt = await delivery.send(
        alert(outbox_id=9, kind="update", remote_id="1600000000.000001", updates="thread")
    )
    [fresh] = slack.messages[CH]
    assert receipt.remote_id == fresh["ts"] and "thread_ts" not in fresh


async def test_alert_shows_its_picture_as_an_image_accessory(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    await delivery.send(alert(image_url=PICTURE, title="*Bold* <!channel> title"))
    [call] = slack.calls_to("chat.postMessage")
    assert_within_limits(call.args)
    accessory = call.args["blocks"][0]["accessory"]
    assert accessory["image_url"] == PICTURE
    assert accessory["alt_text"] == "*Bold* &lt;!channel&gt; title"  # escaped as plain_text is


async def test_a_picture_slack_would_refuse_is_left_out(
    slack: FakeSlackApi, delivery: SlackDelivery
) -> None:
    for outbox_id, url in enumerate(
        ["javascript:alert(1)", "https://img.example/a b.jpg", "https://x.example/" + "a" * 3000]
    ):
        await delivery.send(alert(outbox_id=outbox_id, image_url=url))
    for call in slack.calls_to("chat.postMessage"):
        assert "accessory" not in call.args["blocks"][0]
    assert len(slack.messages[CH]) == 3
