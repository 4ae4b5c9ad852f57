"""Block Kit rendering: Slack's limits hold for any input, and outside text stays inert."""

from __future__ import annotations

import json

import pytest

from bot.adapters.slack.blocks import MAX_BLOCKS, header, paginate, section_mrkdwn
from bot.adapters.slack.escape import clip, escape, fit, mrkdwn, safe_url
from bot.adapters.slack.render import render_alert, render_reply
from bot.core.commands.model import Reply, StoryLine, ThemeCatalog
from bot.core.models import ThemeHit
from tests.adapters.slack.samples import (
    CATALOG,
    HOSTILE_SUMMARY,
    HOSTILE_TITLE,
    WHEN,
    alert,
    assert_inert,
    assert_within_limits,
    texts,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;"),
        ("&lt;!here&gt;", "&amp;lt;!here&amp;gt;"),  # typed entities stay text
        ("hi @here and @Everyone", "hi @\u2060here and @\u2060Everyone"),
        ("mail me@example.org", "mail me@example.org"),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_mrkdwn_neutralises_formatting_and_keeps_one_line() -> None:
    out = mrkdwn("*bold* _it_ ~strike~ `code`\n> quote <url|x>")
    assert not set("*_~`<>") & set(out)
    assert "\n" not in out
    assert "&gt; quote &lt;url|x&gt;" in out


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x?q=1&r=2", "https://a.example/x?q=1&amp;r=2"),
        ("HTTP://A.example/", "HTTP://A.example/"),
        ("https://a.example/a b|c>d<e", "https://a.example/a%20b%7Cc%3Ed%3Ce"),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>", None),
        ("ftp://a.example/f", None),
        ("https:///no-host", None),
        ("/relative/path", None),
        ("", None),
        (None, None),
        ("https://a.example/" + "x" * 3000, None),  # cut URLs are broken URLs: no link
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_fit_never_cuts_an_entity_and_respects_the_limit() -> None:
    for limit in range(1, 40):
        out = fit("a & b " * 20, limit)
        assert len(out) <= limit
        assert not out.rstrip("…").endswith(("&", "&a", "&am", "&amp"))
    assert fit("short", 10) == "short"
    assert fit("&" * 1000, 250) == "&amp;" * 49 + "…"  # shrinks to fit, not to nothing


def test_clip_prefers_word_boundaries() -> None:
    assert clip("one two three four", 12) == "one two…"
    assert clip("x" * 20, 5) == "xxxx…"


def test_header_and_section_limits_hold_for_huge_text() -> None:
    assert len(header("&" * 1000)["text"]["text"]) <= 150
    linked = section_mrkdwn("*<https://a.example/" + "x" * 1500 + "|" + "t" * 2000 + ">*")
    assert len(linked["text"]["text"]) <= 3000
    assert "<https" not in linked["text"]["text"]  # unwrapped, never cut in half


def test_huge_alert_stays_within_limits() -> None:
    themes = [ThemeHit(f"theme-{n}", 1.0, "why " * 500) for n in range(25)]
    big = alert(
        title="&" * 5000,
        summary="<" * 10_000,
        source_name="S" * 500,
        also_reported_by=[f"Outlet {n} &" for n in range(500)],
        themes=themes,
    )

    message = render_alert(big, CATALOG)

    assert_within_limits(message.payload())
    assert len(message.attachments) == 10  # one colour bar per theme, up to ten
    assert "Also matched: theme-10" in "\n".join(texts(message.blocks))


def test_alert_without_link_summary_or_known_theme_renders() -> None:
    message = render_alert(
        alert(url=None, summary=" ", themes=[ThemeHit("gone", 1, "x")]), ThemeCatalog()
    )

    assert_within_limits(message.payload())
    assert texts(message.blocks)[0] == ":newspaper: *Russia and North Korea open Tumen road bridge*"
    assert len(message.blocks) == 2  # no empty summary section
    assert "color" in message.attachments[0]  # the neutral default colour


def test_hostile_alert_is_inert() -> None:
    message = render_alert(alert(title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY), CATALOG)

    assert_inert(json.dumps(message.payload()))


def test_long_reply_is_split_into_at_most_five_messages() -> None:
    stories = tuple(
        StoryLine(n, f"Story {n} " + "word " * 100, f"https://n.example/{n}", "Wire", WHEN)
        for n in range(300)
    )
    reply = Reply(
        "Latest", lines=tuple(f"line {n}" for n in range(2000)), stories=stories, footer="end"
    )

    messages = render_reply(reply, CATALOG)

    assert len(messages) == 5
    for message in messages:
        assert_within_limits(message.payload())
    assert texts(messages[1].blocks)[0] == "…continued (part 2 of 5)"
    assert texts(messages[-1].blocks)[-1] == "…the answer was too long to show in full"


def test_short_reply_is_one_message_with_title_lines_and_footer() -> None:
    [message] = render_reply(Reply("Feeds", lines=("a", "b"), footer="2 feeds"), CATALOG)

    assert texts(message.blocks) == ["*Feeds*", "a\nb", "2 feeds"]
    assert message.text == "Feeds\na\nb"


def test_paginate_keeps_groups_together() -> None:
    block = {"type": "divider"}
    groups = [[block] * 30, [block] * 30, [block] * 120]

    pages = paginate(groups)

    assert [len(page) for page in pages] == [30, 30, 50, 50, 20]
    assert all(len(page) <= MAX_BLOCKS for page in pages)


def test_worst_case_story_keeps_its_link_within_the_section_limit() -> None:
    url = "https://news.example/" + "p" * 1450
    hits = tuple(ThemeHit("tumen-bridge", 1.0, "<&> " * 300) for _ in range(3))
    line = StoryLine(1, "&" * 1000, url, "<Wire>" * 50, WHEN, outlets=("A&B",) * 400, themes=hits)

    [message] = render_reply(Reply("Latest", stories=(line,)), CATALOG)

    story = message.blocks[1]["text"]["text"]
    assert len(story) <= 3000
    assert story.startswith(f"*<{url}|&amp;")  # the link survived: nothing needed unwrapping
    assert story.count("Tumen River bridge: &lt;&amp;&gt;") == 3  # every theme, clipped not lost
    assert_within_limits(message.payload())
