"""Core objects (Alert, Digest, Reply) as Discord embeds, split into messages within every limit.

Limits are met by construction (each part clipped to its own cap, theme fields added only while
the 6,000-character budget allows) and then by packing: `pack` puts embeds into as many messages
as needed, at most 10 embeds and 6,000 characters each. Rendering never fails on long input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import discord
from discord import app_commands

from bot.adapters.discord import text
from bot.core.commands.model import Reply, StoryLine, ThemeCatalog, ThemeInfo
from bot.core.dates import seen_if_apart
from bot.core.digest import UNMATCHED, Digest, DigestItem
from bot.core.models import Alert, Report, ThemeHit

Message = list[discord.Embed]  # the embeds of one Discord message
# The theme catalog, or a function returning the current one (the watchlist may be reloaded).
CatalogSource = ThemeCatalog | Callable[[], ThemeCatalog]

DEFAULT_COLOUR = 0x5865F2  # Discord blurple: no theme, or a neutral reply
ERROR_COLOUR = 0xED4245
SUMMARY = 700  # an alert's summary: a teaser, the link has the rest
WHY = 300  # one theme's explanation in an alert
MAX_THEME_FIELDS = 10
ITEM_TITLE = 250  # a story's title in a digest or reply list
ITEM_WHY = 200
CONTINUED = " (continued)"
THREAD_NAME = 100


MAX_CHOICES, CHOICE_TEXT = 25, 100  # Discord's autocomplete limits: choices, characters each


def theme_choices(catalog: ThemeCatalog, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete: themes whose slug or title contains what the user has typed so far."""
    typed = current.casefold().strip()
    return [
        app_commands.Choice(name=f"{info.title} ({info.slug})"[:CHOICE_TEXT], value=info.slug)
        for info in catalog.all()
        if len(info.slug) <= CHOICE_TEXT
        and (typed in info.slug.casefold() or typed in info.title.casefold())
    ][:MAX_CHOICES]


def catalog_getter(source: CatalogSource | None) -> Callable[[], ThemeCatalog]:
    """Always a function returning the current catalog (an empty one when none is given)."""
    if callable(source):
        return source
    fixed = source if source is not None else ThemeCatalog()
    return lambda: fixed


def colour_of(info: ThemeInfo | None) -> int:
    """A theme's "#RRGGBB" colour as Discord's integer, blurple when absent or malformed."""
    if info is None:
        return DEFAULT_COLOUR
    try:
        value = int(info.colour.removeprefix("#"), 16)
    except ValueError:
        return DEFAULT_COLOUR
    return value if len(info.colour) == 7 and 0 <= value <= 0xFFFFFF else DEFAULT_COLOUR


def alert_marker(outbox_id: int) -> str:
    """The footer words that identify an alert's message when searching channel history."""
    return f"alert {outbox_id}"


def alert_embed(alert: Alert, catalog: ThemeCatalog) -> discord.Embed:
    """One embed: linked title, best theme's colour, source and time, summary, themes and why."""
    best = max(alert.themes, key=lambda hit: hit.score) if alert.themes else None
    embed = discord.Embed(
        title=text.safe_markdown(alert.title or "(untitled)", text.TITLE),
        url=text.safe_url(alert.url),
        description=text.safe_markdown(alert.summary, SUMMARY) or None,
        colour=colour_of(catalog.get(best.theme) if best else None),
        timestamp=_utc(alert.published_at),
    )
    source = text.safe_plain(alert.source_name, text.AUTHOR)
    if source:
        embed.set_author(name=source)
    label = "Updated · " if alert.kind == "update" else ""
    seen = seen_if_apart(alert.published_at, alert.seen_at)  # the timestamp is publication
    first = f"seen {_utc(seen):%Y-%m-%d %H:%M} UTC · " if seen else ""
    embed.set_footer(
        text=f"{label}{first}nkru · story #{alert.story_id} · {alert_marker(alert.outbox_id)}"
    )
    also = None
    if alert.also_reported_by:
        also = ("Also reported by", text.join_clipped(alert.also_reported_by, text.FIELD_VALUE))
    room = text.EMBED_TOTAL - len(embed) - (len(also[0]) + len(also[1]) if also else 0)
    hits = sorted(alert.themes, key=lambda hit: -hit.score)
    for name, value in _theme_fields(hits, catalog, room):
        embed.add_field(name=name, value=value, inline=False)
    if also:
        embed.add_field(name=also[0], value=also[1], inline=False)
    return _with_thumbnail(embed, alert.image_url)


def thread_embed(alert: Alert) -> discord.Embed:
    """An update as a message in the alert's thread: the new report, linked, with its picture.

    Its footer carries the alert's marker, so a redelivery finds it in the thread's history.
    """
    report = alert.report or Report(
        alert.title, alert.url, alert.source_name, alert.published_at, alert.image_url
    )
    embed = discord.Embed(
        title=text.safe_markdown(report.title or "(untitled)", text.TITLE),
        url=text.safe_url(report.url),
        colour=DEFAULT_COLOUR,
        timestamp=_utc(report.published_at),
    )
    if source := text.safe_plain(report.source_name, text.AUTHOR):
        embed.set_author(name=source)
    if alert.report is None and alert.also_reported_by:
        embed.description = text.join_clipped(alert.also_reported_by, text.FIELD_VALUE)
    embed.set_footer(
        text=f"Update · nkru · story #{alert.story_id} · {alert_marker(alert.outbox_id)}"
    )
    return _with_thumbnail(embed, report.image_url)


def thread_name(alert: Alert) -> str:
    """The name of the thread started on an alert: its title (Discord allows 100 characters)."""
    return text.safe_plain(alert.title, THREAD_NAME) or f"story #{alert.story_id}"


def _with_thumbnail(embed: discord.Embed, url: str | None) -> discord.Embed:
    """The picture as the embed's thumbnail, when it is an http(s) URL Discord takes."""
    if picture := text.safe_url(url):
        embed.set_thumbnail(url=picture)
    return embed


def _theme_fields(
    hits: Sequence[ThemeHit], catalog: ThemeCatalog, room: int
) -> list[tuple[str, str]]:
    """(name, value) per matched theme, as many as fit in `room` characters, then "…and N more"."""
    fields: list[tuple[str, str]] = []
    reserve = 40  # for the "…and N more themes" field
    for index, hit in enumerate(hits):
        name = text.safe_markdown(f"{catalog.get(hit.theme).title} · {hit.score:.1f}", 200)
        value = text.safe_markdown(hit.why, WHY) or "—"
        if len(fields) >= MAX_THEME_FIELDS or len(name) + len(value) > room - reserve:
            rest = len(hits) - index
            fields.append(("More themes", f"…and {rest} more"))
            break
        fields.append((name, value))
        room -= len(name) + len(value)
    return fields


def digest_embeds(digest: Digest, catalog: ThemeCatalog) -> list[discord.Embed]:
    """A header embed, then one embed per theme (more if a theme's list is long)."""
    since = _utc(digest.since).strftime("%Y-%m-%d %H:%M UTC")
    header = discord.Embed(
        title=f"Digest · since {since}", description=digest_summary(digest), colour=DEFAULT_COLOUR
    )
    return [header, *digest_sections(digest, catalog)]


def digest_summary(digest: Digest) -> str:
    """ "12 stories", or that there was nothing."""
    if not digest.sections:
        return "No new stories in this period."
    count = digest.story_count
    return f"{count} {'story' if count == 1 else 'stories'}"


def digest_sections(digest: Digest, catalog: ThemeCatalog) -> list[discord.Embed]:
    """One embed per theme, numbered across the digest; the last says how many were left out."""
    embeds: list[discord.Embed] = []
    number = 0
    for section in digest.sections:
        info = _section_info(section.theme, catalog)
        lines = []
        for item in section.items:
            number += 1
            lines.append(_digest_line(number, item))
        if section.more:
            lines.append(f"…and {section.more} more on {text.safe_markdown(info.title, 200)}")
        embeds.extend(_text_embeds(text.safe_markdown(info.title, 200), lines, colour_of(info)))
    if digest.more and embeds:
        embeds[-1].set_footer(text=f"…and {digest.more} more stories")
    return embeds


def _section_info(slug: str, catalog: ThemeCatalog) -> ThemeInfo:
    if slug == UNMATCHED and slug not in catalog.themes:
        return ThemeInfo(UNMATCHED, "Other stories")
    return catalog.get(slug)


def _digest_line(number: int, item: DigestItem) -> str:
    view = item.view
    outlets = view.outlets or [view.source_name]
    line = (
        f"**{number}.** {text.link(view.story.title, view.url, ITEM_TITLE)}"
        f" — {text.join_clipped(outlets, 200)}"
    )
    if view.published_at is not None:
        line += f" · <t:{int(_utc(view.published_at).timestamp())}:R>"
    if item.hit:
        line += f"\n  {item.hit.score:.1f}: {text.safe_markdown(item.hit.why, ITEM_WHY)}"
    return line


def story_line(number: int, story: StoryLine, catalog: ThemeCatalog) -> str:
    """A story in a command reply: linked title, source, relative time, outlets and themes."""
    when = f"<t:{int(_utc(story.when).timestamp())}:R>"
    if story.seen:
        when += f" (seen <t:{int(_utc(story.seen).timestamp())}:R>)"
    line = (
        f"**{number}.** {text.link(story.title, story.url, ITEM_TITLE)}"
        f" — {text.safe_markdown(story.source_name, 100)} · {when}"
    )
    if story.outlets:
        line += f"\n  also: {text.join_clipped(list(story.outlets), 300)}"
    if story.themes:
        titles = [catalog.get(hit.theme).title for hit in story.themes]
        line += f"\n  themes: {text.join_clipped(titles, 300)}"
    return line


def reply_messages(reply: Reply, catalog: ThemeCatalog) -> list[Message]:
    """A command reply as one or more messages of embeds."""
    colour = ERROR_COLOUR if reply.error else DEFAULT_COLOUR
    lines = [text.safe_markdown(line, text.DESCRIPTION) for line in reply.lines]
    lines += [story_line(n, story, catalog) for n, story in enumerate(reply.stories, 1)]
    if reply.digest is not None and not lines:
        lines = [digest_summary(reply.digest)]
    title = text.safe_markdown(reply.title, text.TITLE) or "nkru"
    embeds = _text_embeds(title, lines, colour)
    if reply.digest is not None:  # the reply's own embed is the digest's header
        embeds.extend(digest_sections(reply.digest, catalog))
    if reply.footer:
        embeds[-1].set_footer(text=text.safe_plain(reply.footer, text.FOOTER))
    return pack(embeds)


def _text_embeds(title: str, lines: Iterable[str], colour: int) -> list[discord.Embed]:
    """Lines into as few embeds as their descriptions allow; later ones say "(continued)"."""
    chunks = _chunk_lines(lines, text.DESCRIPTION)
    embeds = []
    for index, chunk in enumerate(chunks or [""]):
        name = title if index == 0 else text.clip(title, text.TITLE - len(CONTINUED)) + CONTINUED
        embeds.append(discord.Embed(title=name, description=chunk or None, colour=colour))
    return embeds


def _chunk_lines(lines: Iterable[str], limit: int) -> list[str]:
    """Join lines with newlines into chunks of at most `limit` characters, never splitting one."""
    chunks: list[str] = []
    current = ""
    for raw in lines:
        line = raw if len(raw) <= limit else text.clip_escaped(raw, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def pack(embeds: Iterable[discord.Embed]) -> list[Message]:
    """Embeds into messages of at most 10 embeds and 6,000 characters, keeping their order."""
    messages: list[Message] = []
    size = 0
    for embed in embeds:
        _fit(embed)
        full = bool(messages) and (
            len(messages[-1]) >= text.EMBEDS_PER_MESSAGE or size + len(embed) > text.EMBED_TOTAL
        )
        if not messages or full:
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += len(embed)
    return messages


def _fit(embed: discord.Embed) -> None:
    """Last resort for an embed over 6,000 characters: drop fields, then shorten the description."""
    while len(embed) > text.EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    excess = len(embed) - text.EMBED_TOTAL
    if excess > 0 and embed.description:
        embed.description = text.clip_escaped(embed.description, len(embed.description) - excess)


def _utc(when: datetime) -> datetime:
    """Naive datetimes in the core are UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
