"""`latest`, `search` and `digest`: what the bot has stored, as story lines or a digest."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.commands.args import LATEST_MAX, DigestArgs, LatestArgs, SearchArgs
from bot.core.commands.model import Reply, StoryLine
from bot.core.commands.registry import Context
from bot.core.commands.text import span, when
from bot.core.dates import seen_if_apart
from bot.core.digest import build_digest
from bot.core.models import Article, ThemeHit
from bot.core.records import StoryView
from bot.core.routing import Route

SEARCH_MAX = 10  # lines in a chat reply; a front end may ask for another number (Invocation.limit)
# Articles read per line to fill: a story told by several outlets has several matching articles
# but gets one line.
_SEARCH_READ_PER_LINE = 5


async def run_latest(ctx: Context, args: LatestArgs) -> Reply:
    """The newest stories that matched a watchlist theme (or the one asked for, or any)."""
    count, footer = _latest_count(ctx, args)
    async with ctx.store.reading() as tx:
        if args.every:
            found = await tx.stories.latest(count)
            ids = [view.story.id for view in found]
        else:
            ids = await tx.reports.latest_matched_story_ids(count, args.theme)
            found = await tx.stories.views(ids)
        views = {view.story.id: view for view in found}
        hits = await tx.themes.of_stories(ids)
    stories = tuple(story_line(views[i], hits.get(i, [])) for i in ids if i in views)
    subject = ctx.catalog.get(args.theme).title if args.theme else None
    if args.every:
        title, empty = "Latest stories, matched or not", "No story is stored yet."
    else:
        title = f"Latest stories on {subject}" if subject else "Latest stories"
        empty = f"No story has matched {args.theme or 'a watchlist theme'} yet."
    return Reply(title, lines=() if stories else (empty,), stories=stories, footer=footer)


def _latest_count(ctx: Context, args: LatestArgs) -> tuple[int, str | None]:
    """How many stories to show, and the footer that says so when it is fewer than asked."""
    if ctx.invocation.limit is not None:  # the front end's own number (Invocation.limit)
        return ctx.invocation.limit, None
    if args.clamped:
        return args.count, f"You asked for {args.asked}; latest shows at most {LATEST_MAX}."
    return args.count, None


async def run_search(ctx: Context, args: SearchArgs) -> Reply:
    """Stored articles with every word (in any of its forms) and "quoted phrase", the most
    relevant first (then the newest), one line per story."""
    query = " ".join(args.words)
    most = ctx.invocation.limit or SEARCH_MAX
    read = most * _SEARCH_READ_PER_LINE
    async with ctx.store.reading() as tx:
        found = await tx.articles.search(query, read + 1)
        picked = _one_per_story(found[:read])
        shown = picked[:most]
        story_ids = [a.story_id for a in shown if a.story_id is not None]
        hits = await tx.themes.of_stories(story_ids)
        # A story's line is headed by its representative report, whichever report matched.
        heads = {view.story.id: view for view in await tx.stories.views(story_ids)}
    stories = tuple(_search_line(a, heads, hits) for a in shown)
    more = len(picked) > most or len(found) > read
    footer = f"More than {most} matches: add words to narrow the search." if more else None
    empty = f"No stored article contains every word of: {query}"
    return Reply(
        f"Search: {query}",
        lines=() if stories else (empty,),
        stories=stories,
        footer=footer,
        ephemeral=True,  # a personal look-up: the channel need not see it
    )


async def run_digest(ctx: Context, args: DigestArgs) -> Reply:
    """The digest this channel's route would get now, over the period asked for."""
    route = route_for(ctx.routes, ctx.invocation.destination)
    since = ctx.now - args.period
    digest = await build_digest(ctx.store, route, since, now=ctx.now)
    empty = f"Nothing new on the themes followed here since {when(since)}."
    return Reply(
        f"Digest of the last {span(args.period)}",
        lines=() if digest.story_count or digest.more else (empty,),
        digest=digest,
    )


def route_for(routes: Sequence[Route], destination: str) -> Route:
    """The destination's digest route, else its instant one, else every watchlist theme."""
    mine = [route for route in routes if route.destination == destination]
    digest_first = sorted(mine, key=lambda route: route.mode != "digest")
    return digest_first[0] if digest_first else Route(destination, frozenset())


def story_line(view: StoryView, hits: list[ThemeHit]) -> StoryLine:
    """A story as `latest` shows it: its head, the other outlets, its themes (the web panel's
    story list shows the same)."""
    when = view.published_at or view.story.first_seen_at
    return StoryLine(
        story_id=view.story.id,
        title=view.story.title,
        url=view.url,
        source_name=view.source_name,
        when=when,
        outlets=tuple(name for name in view.outlets if name != view.source_name),
        themes=tuple(hits),
        seen=seen_if_apart(when, view.seen_at),
    )


def _search_line(
    article: Article, heads: dict[int, StoryView], hits: dict[int, list[ThemeHit]]
) -> StoryLine:
    view = heads.get(article.story_id) if article.story_id is not None else None
    if view is not None:
        return story_line(view, hits.get(view.story.id, []))
    return StoryLine(  # no story (or gone): the article stands alone
        story_id=None,
        title=article.title,
        url=article.url,
        source_name=article.source_name,
        when=article.published_at,
        seen=seen_if_apart(article.published_at, article.fetched_at),
    )


def _one_per_story(found: list[Article]) -> list[Article]:
    """The first (most relevant) matching article of each story (articles without a story stand
    alone)."""
    seen: set[int] = set()
    kept = []
    for article in found:
        if article.story_id is None or article.story_id not in seen:
            kept.append(article)
            if article.story_id is not None:
                seen.add(article.story_id)
    return kept
