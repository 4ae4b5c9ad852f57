"""Command replies (bot.core.commands) for a terminal: what `nkru latest` and `nkru search` print.

The third front end of the one command service, next to Slack's Block Kit and Discord's embeds.
Every string in a `Reply` is plain text, feed text included: it goes into rich `Text` as it is,
never read as markup.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.text import Text

from bot.adapters.console.adapter import render_digest
from bot.core.commands.model import Reply, StoryLine, ThemeCatalog
from bot.core.commands.text import ago, when


def render_reply(reply: Reply, catalog: ThemeCatalog, now: datetime) -> Group:
    """The title, the reply's lines, each story, the digest and the footer, in that order."""
    parts: list[RenderableType] = [Text(reply.title, style="bold underline")]
    parts += [Text(line) for line in reply.lines]
    parts += [story_text(story, catalog, now) for story in reply.stories]
    if reply.digest is not None:
        parts.append(render_digest(reply.digest))
    if reply.footer:
        parts.append(Text(reply.footer, style="italic"))
    return Group(*parts)


def story_text(story: StoryLine, catalog: ThemeCatalog, now: datetime) -> Text:
    """The title; source, time and link; the other outlets; each theme matched and why."""
    text = Text()
    text.append(story.title, style="bold")
    seen = f" · seen {when(story.seen)}" if story.seen else ""
    text.append(f"\n  {story.source_name} · {ago(story.when, now)}{seen}", style="dim")
    if story.url:
        text.append(f"  {story.url}", style="blue")
    if story.outlets:
        text.append("\n  also reported by: " + ", ".join(story.outlets), style="green")
    for hit in story.themes:
        text.append(f"\n  {catalog.get(hit.theme).title}: {hit.why}", style="magenta")
    return text
