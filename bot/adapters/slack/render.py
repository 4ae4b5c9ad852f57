"""Render the core's alerts, digests and command replies as Slack Block Kit messages.

Every string from a feed, the watchlist or a command reply goes through `escape` (plain_text)
or `mrkdwn` (formatted fields), and links through `link`; limits are enforced by the builders
in `blocks`, and anything long is split into several messages rather than rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack.blocks import (
    MAX_BLOCKS,
    Block,
    SlackMessage,
    colour,
    context,
    divider,
    fallback,
    header,
    paginate,
    section_mrkdwn,
    section_plain,
    with_image,
)
from bot.adapters.slack.escape import clip, fit, link, mrkdwn, neutral
from bot.core.commands.model import Reply, StoryLine, ThemeCatalog
from bot.core.dates import seen_if_apart
from bot.core.digest import UNMATCHED, Digest, DigestItem, DigestSection
from bot.core.models import Alert, Report, ThemeHit

# Bounds per part, so that a section's parts (a linked title with a URL of up to 1,500
# characters, outlets, why) stay under Slack's 3,000 even when escaping lengthens them.
TITLE = 250
SUMMARY = 700
OUTLETS = 500
WHY = 400
STORY_WHY = 200  # a reply's story shows up to three themes
THEME_ATTACHMENTS = 10  # one coloured bar per theme; more themes are listed by name
REPLY_MESSAGES = 5  # Slack accepts up to five answers per response_url


def when(moment: datetime) -> str:
    """A timestamp readers everywhere can place: `2024-05-01 08:00 UTC`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def times(published: datetime, seen: datetime | None) -> str:
    """Publication time, and first seen where far from it (bot.core.dates)."""
    apart = seen_if_apart(published, seen)
    return when(published) + (f" · seen {when(apart)}" if apart else "")


def linked_title(title: str, url: str | None) -> str:
    """`*<url|title>*` in mrkdwn, or the bold title when the link is not safe to show."""
    return f"*{link(url, fit(title, TITLE, mrkdwn) or 'untitled')}*"


# --- alerts ------------------------------------------------------------------------------------


def render_alert(alert: Alert, catalog: ThemeCatalog) -> SlackMessage:
    """One alert: linked title, source and time, summary, other outlets, a bar per theme."""
    update = alert.kind == "update"
    marker = ":arrows_counterclockwise: Updated" if update else ":newspaper:"
    heading = section_mrkdwn(f"{marker} {linked_title(alert.title, alert.url)}")
    blocks: list[Block] = [
        with_image(heading, alert.image_url, alert.title),
        context(
            [
                f"{alert.source_name} · {times(alert.published_at, alert.seen_at)}"
                f" · story #{alert.story_id}"
            ]
        ),
    ]
    if alert.summary.strip():
        blocks.append(section_plain(clip(alert.summary, SUMMARY)))
    if alert.also_reported_by:
        blocks.append(
            context(["Also reported by " + clip(", ".join(alert.also_reported_by), OUTLETS)])
        )
    shown, rest = alert.themes[:THEME_ATTACHMENTS], alert.themes[THEME_ATTACHMENTS:]
    if rest:
        blocks.append(
            context(["Also matched: " + ", ".join(catalog.get(h.theme).title for h in rest)])
        )
    label = "Updated story" if update else "New story"
    also = (
        f" — also reported by {', '.join(alert.also_reported_by)}" if alert.also_reported_by else ""
    )
    text = fallback([f"{label}: {alert.title} ({alert.source_name}){also}"])
    return SlackMessage(text, blocks, [theme_attachment(hit, catalog) for hit in shown])


def render_thread_reply(alert: Alert) -> SlackMessage:
    """An update as a reply in the alert's thread: the new report, linked, with its picture.

    Without its report (purged), the reply lists who has reported the story so far.
    """
    report = alert.report or Report(
        alert.title, alert.url, alert.source_name, alert.published_at, alert.image_url
    )
    heading = section_mrkdwn(f":heavy_plus_sign: {linked_title(report.title, report.url)}")
    meta = f"{report.source_name} · {when(report.published_at)} · story #{alert.story_id}"
    blocks: list[Block] = [with_image(heading, report.image_url, report.title), context([meta])]
    if alert.report is None and alert.also_reported_by:
        blocks.append(
            context(["Also reported by " + clip(", ".join(alert.also_reported_by), OUTLETS)])
        )
    text = fallback([f"Story update: {report.title} ({report.source_name})"])
    return SlackMessage(text, blocks)


def theme_attachment(hit: ThemeHit, catalog: ThemeCatalog) -> dict[str, Any]:
    """A theme as an attachment: its colour as the bar, its title, score and why."""
    info = catalog.get(hit.theme)
    # `why` already ends with the score ("…; score 6"): not repeated here.
    body = f"*{fit(info.title, 150, mrkdwn)}*\n{fit(hit.why, WHY, mrkdwn)}"
    attachment: dict[str, Any] = {
        "fallback": fit(f"{info.title}: {hit.why}", 300, neutral),
        "blocks": [section_mrkdwn(body)],
    }
    if bar := colour(info.colour):
        attachment["color"] = bar
    return attachment


def story_line(line: StoryLine, catalog: ThemeCatalog) -> Block:
    """A story in a command reply: linked title, source, time, other outlets, themes and why."""
    meta = f"{line.source_name} · {times(line.when, line.seen)}"
    if line.outlets:
        meta += " · also " + clip(", ".join(line.outlets), OUTLETS)
    parts = [linked_title(line.title, line.url), fit(meta, OUTLETS, mrkdwn)]
    for hit in line.themes[:3]:
        title = catalog.get(hit.theme).title
        parts.append(fit(f"{title}: {hit.why}", STORY_WHY, mrkdwn))
    return section_mrkdwn("\n".join(parts))


# --- digests -----------------------------------------------------------------------------------


def render_digest(digest: Digest, catalog: ThemeCatalog) -> list[SlackMessage]:
    """A digest as one or more messages (each within Slack's limits), numbered across them."""
    title = f"Digest · since {when(digest.since)}"
    groups = [
        [header(title), context([f"{digest.story_count} stories"])],
        *digest_groups(digest, catalog),
    ]
    pages = paginate(groups, max_blocks=MAX_BLOCKS - 1)  # room for the "continued" line
    summary = [f"{title}: {digest.story_count} stories"]
    return [_page(summary, page, index, len(pages)) for index, page in enumerate(pages)]


def digest_groups(digest: Digest, catalog: ThemeCatalog) -> list[list[Block]]:
    """The digest's body as groups of blocks, one group per theme (for `paginate`)."""
    if not digest.sections:
        return [[section_plain("No new stories in this period.")]]
    groups: list[list[Block]] = []
    number = 0
    for section in digest.sections:
        groups.append(_digest_section(section, catalog, number))
        number += len(section.items)
    if digest.more:
        groups.append([context([f"…and {digest.more} more stories"])])
    return groups


def _digest_section(section: DigestSection, catalog: ThemeCatalog, start: int) -> list[Block]:
    name = _theme_title(section.theme, catalog)
    blocks: list[Block] = [divider(), section_mrkdwn(f"*{fit(name, 150, mrkdwn)}*")]
    blocks += [_digest_item(item, start + n) for n, item in enumerate(section.items, 1)]
    if section.more:
        blocks.append(context([f"…and {section.more} more on {name}"]))
    return blocks


def _digest_item(item: DigestItem, number: int) -> Block:
    view = item.view
    outlets = clip(", ".join(view.outlets) or view.source_name, OUTLETS)
    lines = [f"{number}. {linked_title(view.story.title, view.url)}", fit(outlets, OUTLETS, mrkdwn)]
    if view.published_at is not None:
        lines[1] += f" · {times(view.published_at, view.seen_at)}"
    if item.hit:
        lines.append(fit(item.hit.why, WHY, mrkdwn))
    return section_mrkdwn("\n".join(lines))


def _theme_title(slug: str, catalog: ThemeCatalog) -> str:
    if slug == UNMATCHED and slug not in catalog.themes:
        return "Other stories"
    return catalog.get(slug).title


# --- command replies ---------------------------------------------------------------------------


def render_reply(reply: Reply, catalog: ThemeCatalog) -> list[SlackMessage]:
    """A command's answer as up to five messages: title, lines, stories, digest, footer."""
    icon = ":warning: " if reply.error else ""
    groups: list[list[Block]] = [[section_mrkdwn(f"{icon}*{fit(reply.title, 300, mrkdwn)}*")]]
    groups += [[section_plain(chunk)] for chunk in _chunks(reply.lines, 2900)]
    groups += [[story_line(line, catalog)] for line in reply.stories]
    if reply.digest is not None:
        groups += digest_groups(reply.digest, catalog)
    if reply.footer:
        groups.append([context([reply.footer])])
    pages = paginate(groups, max_blocks=MAX_BLOCKS - 1)  # room for the "continued" line
    if len(pages) > REPLY_MESSAGES:
        pages = pages[:REPLY_MESSAGES]
        pages[-1] = [*pages[-1][:-1], context(["…the answer was too long to show in full"])]
    lines = [reply.title, *reply.lines, *(story.title for story in reply.stories)]
    return [_page(lines, page, index, len(pages)) for index, page in enumerate(pages)]


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    """Lines joined into chunks under `limit` characters (a longer line is clipped)."""
    chunks: list[str] = []
    for line in lines:
        line = clip(line, limit)
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line or " ")
    return chunks


def _page(lines: list[str], page: list[Block], index: int, total: int) -> SlackMessage:
    """A page as a message; pages after the first say which part they are."""
    if total == 1:
        return SlackMessage(fallback(lines), page)
    part = f"(part {index + 1} of {total})"
    blocks = page if index == 0 else [context([f"…continued {part}"]), *page]
    return SlackMessage(fallback([part, *lines]), blocks)
