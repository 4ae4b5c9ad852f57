"""Console adapter: prints alerts readably with rich when no chat platform is configured."""

from __future__ import annotations

from datetime import UTC

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bot.core.commands.text import published_seen
from bot.core.digest import Digest
from bot.core.models import Alert, DeliveryReceipt


class ConsoleAdapter:
    """Delivery adapter that writes to a terminal (or any file rich can write to)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    async def send(self, alert: Alert) -> DeliveryReceipt:
        """Print one alert; feed text is shown literally, never parsed as markup."""
        self.console.print(render_alert(alert))
        return DeliveryReceipt(remote_id=f"console-{alert.outbox_id}")

    async def send_digest(self, digest: Digest) -> DeliveryReceipt:
        """Print a digest as one panel."""
        self.console.print(render_digest(digest))
        return DeliveryReceipt()


def render_digest(digest: Digest) -> Panel:
    """Stories grouped by theme, numbered, with outlets and why; how many more there were."""
    body = Text()
    number = 0
    for section in digest.sections:
        body.append(f"{section.theme}\n", style="bold magenta")
        for item in section.items:
            number += 1
            body.append(f"{number}. ", style="bold")
            body.append(item.view.story.title)
            outlets = ", ".join(item.view.outlets) or item.view.source_name
            shown = item.view.published_at
            at = f" · {published_seen(shown, item.view.seen_at)}" if shown else ""
            body.append(f"  ({outlets}){at}\n", style="dim")
            if item.hit:
                body.append(f"   {item.hit.score:.1f}: {item.hit.why}\n", style="magenta")
        if section.more:
            body.append(f"   …and {section.more} more on {section.theme}\n", style="italic")
    if digest.more:
        body.append(f"…and {digest.more} more stories\n", style="italic")
    if not digest.sections:
        body.append("No new stories in this period.", style="dim")
    since = digest.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Panel(body, title=f"DIGEST · since {since}", title_align="left")


def render_alert(alert: Alert) -> Panel:
    """A panel with the title, source, time, summary, link and other outlets."""
    body = Text()
    body.append(alert.title, style="bold")
    when = published_seen(alert.published_at, alert.seen_at)
    body.append(f"\n{alert.source_name} · {when}", style="dim")
    if alert.summary:
        body.append("\n\n" + _clip(alert.summary, 400))
    if alert.url:
        body.append("\n" + alert.url, style="blue underline")
    if alert.also_reported_by:
        body.append("\nAlso reported by: " + ", ".join(alert.also_reported_by), style="green")
    for hit in alert.themes:
        body.append(f"\n{hit.theme}", style="bold magenta")
        body.append(f" {hit.score:.1f}: {hit.why}", style="magenta")
    label = "UPDATE" if alert.kind == "update" else "ALERT"
    themes = ", ".join(hit.theme for hit in alert.themes)
    title = (
        f"{label} · {themes} · story #{alert.story_id}"
        if themes
        else f"{label} · story #{alert.story_id}"
    )
    return Panel(body, title=title, title_align="left")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
