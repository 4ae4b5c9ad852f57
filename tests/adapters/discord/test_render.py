"""Rendering: every Discord limit met by truncating or splitting, feed text escaped, links safe."""

from __future__ import annotations

import discord
import pytest

from bot.adapters.discord import render, text
from bot.core.commands.model import Reply, ThemeInfo
from bot.core.digest import Digest
from bot.core.models import ThemeHit
from tests.adapters.discord.factories import CATALOG, NOW, alert, digest
from tests.fakes.discord_api import embed_size, message_errors, rendered_mentions


def valid(message: list[discord.Embed]) -> bool:
    """What the fake (like Discord) says about a message made of these embeds."""
    body = {"embeds": [embed.to_dict() for embed in message]}
    errors = message_errors(body, creating=True)
    assert errors == {}, errors
    return True


def test_an_enormous_alert_still_fits_one_embed() -> None:
    hits = [ThemeHit(f"theme-{n}", 40.0 - n, "why " * 2000) for n in range(40)]
    huge = alert(
        title="T" * 10_000,
        summary="word " * 50_000,
        source_name="S" * 1_000,
        themes=hits,
        also_reported_by=[f"Outlet {n} " + "o" * 50 for n in range(300)],
    )

    embed = render.alert_embed(huge, CATALOG)

    assert valid([embed])
    assert len(embed) <= text.EMBED_TOTAL
    assert embed.title is not None and embed.title.endswith("…") and len(embed.title) <= 256
    assert embed.fields[-2].name == "More themes" and embed.fields[-2].value.startswith("…and ")
    assert embed.fields[-1].name == "Also reported by"
    assert embed.fields[-1].value.endswith("more") and len(embed.fields[-1].value) <= 1024


def test_escaping_never_breaks_a_limit_or_leaves_half_an_escape() -> None:
    starry = alert(title="*" * 400, summary="_" * 5_000 + "\\" * 3)

    embed = render.alert_embed(starry, CATALOG)

    assert valid([embed])
    assert embed.title is not None and embed.title.startswith("\\*\\*")
    body = embed.title.removesuffix("…")
    assert (len(body) - len(body.rstrip("\\"))) % 2 == 0  # "…" is not escaped by a stray "\"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://news.example/a?b=c#d", True),
        ("http://news.example/", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("ftp://news.example/file", False),
        ("/relative/path", False),
        ("https://news.example/a b", False),
        ("https://" + "a" * 2100 + ".example/", False),
        ("https:///no-host", False),
        (None, False),
    ],
)
def test_only_http_links(url: str | None, kept: bool) -> None:
    assert text.safe_url(url) == (url if kept else None)
    embed = render.alert_embed(alert(url=url), CATALOG)
    assert (embed.url is not None) is kept


def test_mentions_are_defused_everywhere() -> None:
    hostile = "@everyone @Here <@123> <@!45678901234567890> <@&456> <#789> <t:1:R> </nkru:1>"
    reply = Reply(hostile, lines=(hostile,), footer=hostile)

    (message,) = render.reply_messages(reply, CATALOG)

    payload = {"embeds": [embed.to_dict() for embed in message]}
    assert rendered_mentions(payload) == []
    assert "</\u200bnkru" not in str(payload)  # no slash-command link: "<" is followed by ZWSP
    assert message[0].description is not None and "<\u200b/nkru:1>" in message[0].description


def test_masked_links_survive_brackets_and_parentheses() -> None:
    line = text.link("a [b] (c)", "https://news.example/x_(y)", 100)

    assert line == "[a \\[b\\] (c)](https://news.example/x_%28y%29)"


def test_pack_respects_ten_embeds_and_six_thousand_characters() -> None:
    embeds = [discord.Embed(title=f"e{n}", description="x" * 1_000) for n in range(25)]
    embeds += [discord.Embed(title="small") for _ in range(25)]

    messages = render.pack(embeds)

    assert all(valid(message) for message in messages)
    assert [embed.title for message in messages for embed in message] == [e.title for e in embeds]
    assert max(len(message) for message in messages) == 10  # the small ones share a message


def test_a_digest_is_split_by_theme_and_size() -> None:
    big = digest(sections=15, per_section=5, title_length=240, more=9)

    messages = render.pack(render.digest_embeds(big, CATALOG))

    assert len(messages) > 1 and all(valid(message) for message in messages)
    embeds = [embed for message in messages for embed in message]
    assert embeds[0].title == "Digest · since 2025-02-28 12:00 UTC"
    assert embeds[0].description == "75 stories"
    assert sum(e.description.count("…and 2 more on") for e in embeds if e.description) == 15
    assert embeds[-1].footer.text == "…and 9 more stories"


def test_a_digest_reply_uses_its_title_as_the_header() -> None:
    reply = Reply("Digest of the last 1d", digest=digest(sections=2, per_section=3))

    (message,) = render.reply_messages(reply, CATALOG)

    assert [embed.title for embed in message] == ["Digest of the last 1d", "theme-0", "theme-1"]
    assert message[0].description == "6 stories"
    assert message[2].description is not None and message[2].description.startswith("**4.** [")


def test_an_empty_digest_says_so() -> None:
    (header,) = render.digest_embeds(Digest("discord:1", NOW), CATALOG)

    assert header.description == "No new stories in this period."


def test_long_reply_lines_continue_in_more_embeds() -> None:
    reply = Reply("Status", lines=tuple("line " * 100 for _ in range(100)), footer="ok")

    messages = render.reply_messages(reply, CATALOG)

    embeds = [embed for message in messages for embed in message]
    assert all(valid(message) for message in messages)
    assert embeds[0].title == "Status" and embeds[1].title == "Status (continued)"
    assert all(len(embed.description or "") <= text.DESCRIPTION for embed in embeds)
    assert embeds[-1].footer.text == "ok"
    assert sum(len((e.description or "").split("\n")) for e in embeds) == 100


def test_error_replies_are_red_and_colours_fall_back() -> None:
    (message,) = render.reply_messages(Reply("No", error=True), CATALOG)

    assert message[0].colour == discord.Colour(render.ERROR_COLOUR)
    assert render.colour_of(ThemeInfo("x", "X", colour="#12345")) == render.DEFAULT_COLOUR
    assert render.colour_of(ThemeInfo("x", "X", colour="#zzzzzz")) == render.DEFAULT_COLOUR
    assert render.colour_of(ThemeInfo("x", "X", colour="#2e86de")) == 0x2E86DE


def test_embed_size_counts_like_discord_py() -> None:
    embed = render.alert_embed(alert(also_reported_by=["A", "B"]), CATALOG)

    assert embed_size(embed.to_dict()) == len(embed)
