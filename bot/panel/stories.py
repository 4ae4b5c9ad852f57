"""Stories (the latest matched, filtered), one story with every report, and search.

The list and the story page read through the repositories `latest` uses (stories.views,
themes.of_stories) plus the panel's own queries (browse); search asks the command service,
so its results are `/nkru search`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.core.commands.model import Invocation, StoryLine, ThemeCatalog
from bot.core.commands.news import story_line
from bot.core.languages import LANGUAGES
from bot.core.records import StoryFilter, StoryKey
from bot.panel.render import caller_of, config_of, page

PAGE_SIZE = 25
SEARCH_MAX = 50  # lines of a search page (the chat shows 10)
DESTINATION = "web"  # where the panel's commands are "typed", as the audit log names it
EVERY = "all"  # the theme choice "matched or not"


def add_routes(app: web.Application) -> None:
    """The story routes."""
    app.router.add_get("/stories", stories_page)
    app.router.add_get("/stories/{story_id:\\d+}", story_page)
    app.router.add_get("/search", search_page)


class FilterError(ValueError):
    """A filter value that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The stories page's filters as given (to refill the form) and as the query takes them."""

    given: dict[str, str]
    wanted: StoryFilter
    before: StoryKey | None  # the page starts below this story (None: the newest)


def read_filters(query: Mapping[str, str], catalog: ThemeCatalog) -> Filters:
    """The query string's filters; FilterError for a value that is not usable."""
    given = {k: query.get(k, "").strip() for k in ("theme", "outlet", "language", "from", "to")}
    theme = given["theme"]
    if theme and theme != EVERY and theme not in catalog.themes:
        raise FilterError(f"no theme '{theme}' in the watchlist")
    if given["language"] and given["language"] not in LANGUAGES:
        raise FilterError(f"no language '{given['language']}': use en, ru or ko")
    start, end = _day(given["from"], "from"), _day(given["to"], "to")
    wanted = StoryFilter(
        theme=theme if theme and theme != EVERY else None,
        matched=theme != EVERY,
        outlet=given["outlet"] or None,
        language=given["language"] or None,
        published_from=start,
        published_before=end + timedelta(days=1) if end else None,  # "to" is inclusive
    )
    before = query.get("before", "")
    return Filters(given, wanted, parse_key(before) if before else None)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def key_text(key: StoryKey) -> str:
    """A story's sort key in a link: microseconds since 1970, a dot, the report's id (exact,
    unlike a float, and nothing in it needs escaping)."""
    published, article_id = key
    return f"{(published - _EPOCH) // timedelta(microseconds=1)}.{article_id}"


def parse_key(text: str) -> StoryKey:
    """The sort key `key_text` wrote; FilterError for anything else."""
    micros, _, article_id = text.partition(".")
    if not (micros.isdigit() and article_id.isdigit()) or len(micros) > 18:
        raise FilterError("before: use the “older” link of a page, not a hand-made value")
    return _EPOCH + timedelta(microseconds=int(micros)), int(article_id)


def _day(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{name}: write a date as YYYY-MM-DD, not '{text[:20]}'") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def stories_page(request: web.Request) -> web.Response:
    """The latest stories the filters select, PAGE_SIZE a page."""
    config = config_of(request)
    catalog = config.catalog()
    context: dict[str, Any] = {"catalog": catalog, "languages": LANGUAGES, "every": EVERY}
    try:
        filters = read_filters(request.query, catalog)
    except FilterError as exc:
        given = {k: request.query.get(k, "") for k in ("theme", "outlet", "language", "from", "to")}
        context |= {"error": str(exc), "given": given, "lines": [], "outlets": []}
        return await page(request, "stories.html", context | {"older": None, "later": False}, 400)
    async with config.store.reading() as tx:
        found = await tx.browse.story_page(filters.wanted, filters.before, PAGE_SIZE + 1)
        shown = [story for story, _ in found[:PAGE_SIZE]]
        views = {view.story.id: view for view in await tx.stories.views(shown)}
        hits = await tx.themes.of_stories(shown)
        outlets = sorted({feed.name for feed in await tx.feeds.list_all()})
    lines = [story_line(views[i], hits.get(i, [])) for i in shown if i in views]
    context |= {"given": filters.given, "lines": lines, "outlets": outlets}
    # The next page starts below the last story shown (keyset paging, storage.browse).
    older = key_text(found[PAGE_SIZE - 1][1]) if len(found) > PAGE_SIZE else None
    context |= {"older": older, "later": filters.before is not None, "error": None}
    return await page(request, "stories.html", context)


async def story_page(request: web.Request) -> web.Response:
    """One story: its head, every report, its themes with why, and where it was posted."""
    config = config_of(request)
    story_id = int(request.match_info["story_id"])
    async with config.store.reading() as tx:
        views = await tx.stories.views([story_id])
        if not views:
            raise web.HTTPNotFound(text=f"No story #{story_id}: it may have been purged.")
        reports = await tx.browse.story_articles(story_id)
        hits = (await tx.themes.of_stories([story_id])).get(story_id, [])
        deliveries = await tx.browse.story_deliveries(story_id)
    view = views[0]
    head = next(
        (a.id for a in reports if a.url == view.url and a.title == view.story.title),
        view.story.lead_article_id,
    )
    context = {
        "view": view,
        "line": story_line(view, hits),
        "reports": reports,
        "head": head,
        "hits": hits,
        "catalog": config.catalog(),
        "deliveries": deliveries,
    }
    return await page(request, "story.html", context)


async def search_page(request: web.Request) -> web.Response:
    """`/nkru search` with the words given, answered by the command service."""
    words = request.query.get("q", "").strip()
    lines: tuple[StoryLine, ...] = ()
    notes: tuple[str, ...] = ()
    footer = None
    if words:
        invocation = Invocation(
            caller_of(request), DESTINATION, "search", tuple(words.split()), limit=SEARCH_MAX
        )
        reply = await config_of(request).commands.handle(invocation)
        lines, notes, footer = reply.stories, reply.lines, reply.footer
    context = {"q": words, "lines": lines, "notes": notes, "footer": footer}
    return await page(request, "search.html", context | {"catalog": config_of(request).catalog()})
