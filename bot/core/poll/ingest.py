"""Store new articles, cluster them into stories and queue their alerts — in one transaction.

Doing all three in the caller's transaction is what makes a crash harmless: either the
articles, their stories and their outbox entries are all stored, or none is and the next poll
sees the items as new again. Nothing is alerted that is not first stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import Article, NewArticle, ThemeHit
from bot.core.pacing import Pacer
from bot.core.poll import clustering
from bot.core.records import OutboxEntry
from bot.core.repositories import Transaction
from bot.core.routing import Route, ThemeMatcher, firehose, instant_destinations
from bot.core.story_cache import StoryCache

_ENQUEUE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Who gets alerts and which new items deserve one."""

    # Destinations alerted on every new story, matched or not (no watchlist needed).
    destinations: Sequence[str] = ("console",)
    story_window: timedelta = timedelta(hours=72)
    alert_max_age: timedelta | None = timedelta(days=7)  # older items are stored silently
    # Destinations that follow watchlist themes (instant alerts or digests).
    routes: Sequence[Route] = ()

    @property
    def instant_routes(self) -> list[Route]:
        """The firehose destinations, then the instant theme routes."""
        every = [*firehose(self.destinations), *self.routes]
        return [route for route in every if route.mode == "instant"]


@dataclass(slots=True)
class IngestReport:
    """What one ingest stored and queued."""

    new_articles: list[Article] = field(default_factory=list)
    new_stories: int = 0
    joined_stories: int = 0
    queued_alerts: int = 0
    matched_articles: int = 0  # new articles that matched a watchlist theme


@dataclass(frozen=True, slots=True)
class IngestBatch:
    """One poll's candidates, and whether their new stories may alert (off: flood guard)."""

    candidates: list[NewArticle]
    alert: bool = True


async def ingest(
    tx: Transaction,
    candidates: list[NewArticle],
    now: datetime,
    policy: AlertPolicy,
    *,
    cache: StoryCache,
    alert: bool = True,
    matcher: ThemeMatcher | None = None,
) -> IngestReport:
    """Insert what is new, put each new article in a story, queue alerts (unless `alert` is off)."""
    batches = [IngestBatch(candidates, alert)]
    [report] = await ingest_many(tx, batches, now, policy, cache=cache, matcher=matcher)
    return report


@dataclass(slots=True)
class Offered:
    """Polls' candidates, looked over before the ingest lock (`offer`)."""

    batches: list[IngestBatch]
    candidates: list[NewArticle]  # all but those found stored already, in batch order
    owner: dict[str, int]  # item key -> the first batch offering it
    themes: dict[str, list[ThemeHit]]  # item key -> watchlist hits (with a matcher)

    def extend(self, later: Offered) -> None:
        """Add batches offered after these (their numbers follow these)."""
        for key, number in later.owner.items():
            self.owner.setdefault(key, number + len(self.batches))
        self.batches += later.batches
        self.candidates += later.candidates
        for key, hits in later.themes.items():
            self.themes.setdefault(key, hits)


async def offer(
    tx: Transaction,
    batches: Sequence[IngestBatch],
    matcher: ThemeMatcher | None,
    *,
    look: bool = True,
) -> Offered:
    """The work of an ingest that needs no lock: which candidates are stored already (`look`),
    and the watchlist hits of the others."""
    owner: dict[str, int] = {}
    candidates: list[NewArticle] = []
    for number, batch in enumerate(batches):
        for candidate in batch.candidates:
            owner.setdefault(candidate.item_key, number)
        candidates += batch.candidates
    # A changed feed repeats most of its items: leaving out those stored already keeps the
    # locked part (which every process on PostgreSQL takes in turn) to what is new. The insert
    # still skips any that another writer stored meanwhile.
    known = await tx.articles.stored_keys(list(owner)) if look else set()
    candidates = [candidate for candidate in candidates if candidate.item_key not in known]
    return Offered(list(batches), candidates, owner, await _match(candidates, matcher))


async def ingest_many(
    tx: Transaction,
    batches: Sequence[IngestBatch],
    now: datetime,
    policy: AlertPolicy,
    *,
    cache: StoryCache,
    matcher: ThemeMatcher | None = None,
) -> list[IngestReport]:
    """`ingest` for several polls in the same statements; one report per batch, in order.

    With a `matcher`, each new article's watchlist themes are stored with it, and theme routes
    alert the articles they accept.

    An item offered by two batches (the same article in two feeds) is reported as new by the
    first only, exactly as if the batches had been ingested one after the other.
    """
    offered = await offer(tx, batches, matcher)
    await tx.lock_ingest()
    return await ingest_offered(tx, offered, now, policy, cache=cache)


async def ingest_offered(
    tx: Transaction,
    offered: Offered,
    now: datetime,
    policy: AlertPolicy,
    *,
    cache: StoryCache,
) -> list[IngestReport]:
    """`ingest_many`'s locked part, for a caller holding the ingest lock."""
    batches, owner, candidates = offered.batches, offered.owner, offered.candidates
    stored = await tx.articles.insert_new(candidates)
    prints = await clustering.fingerprints(stored, candidates)
    placed = await clustering.place(tx, stored, prints, now, cache, policy.story_window)
    themes = offered.themes  # empty without a matcher
    hits = {a.id: themes[a.item_key] for a in stored if a.item_key in themes}
    await tx.themes.add_many(((i, hit) for i, found in hits.items() for hit in found))
    pacer = Pacer()  # a poll of 10,000 items must not hold the event loop
    routes = policy.instant_routes
    alerting = routes and any(batch.alert for batch in batches)
    destinations = list(dict.fromkeys(route.destination for route in routes))
    alerted = await _alerted_stories(tx, placed, destinations) if alerting else {}
    posted: set[tuple[str, int]] = set()  # (destination, story) given a "new" entry here
    reports = [IngestReport() for _ in batches]
    entries: list[OutboxEntry] = []
    for article, (story_id, joined) in zip(stored, placed, strict=True):
        number = owner[article.item_key]
        report = reports[number]
        report.new_articles.append(article)
        report.matched_articles += bool(hits.get(article.id))
        if joined:
            report.joined_stories += 1
        else:
            report.new_stories += 1
        if alerting and batches[number].alert and _fresh(article, now, policy.alert_max_age):
            accepted = set(instant_destinations(routes, hits.get(article.id, [])))
            queued = _alerts_for(article, story_id, joined, destinations, accepted, alerted, posted)
            report.queued_alerts += len(queued)
            entries += queued
        await pacer.tick()
    # Every entry is for an article inserted just now, so none can conflict: the count per
    # batch above is what enqueue stores. In chunks: binding 10,000 rows at once takes ~0.1 s.
    for start in range(0, len(entries), _ENQUEUE_CHUNK):
        await tx.outbox.enqueue(entries[start : start + _ENQUEUE_CHUNK], now)
    return reports


async def _match(
    candidates: list[NewArticle], matcher: ThemeMatcher | None
) -> dict[str, list[ThemeHit]]:
    """Each candidate's watchlist hits by item key (none without a matcher), in slices."""
    found: dict[str, list[ThemeHit]] = {}
    if matcher is None:
        return found
    pacer = Pacer()
    for candidate in candidates:
        if candidate.item_key not in found:  # the first of two with one key is the one stored
            found[candidate.item_key] = matcher.hits(candidate.title, candidate.summary)
        await pacer.tick()
    return found


async def _alerted_stories(
    tx: Transaction, placed: list[tuple[int, bool]], destinations: Sequence[str]
) -> dict[str, set[int]]:
    """Per destination, the joined stories already queued as a "new" alert before this batch."""
    joined = [story_id for story_id, was_joined in placed if was_joined]
    if not joined:
        return {}
    return {
        destination: await tx.outbox.stories_with_new_alert(joined, destination)
        for destination in destinations
    }


def _alerts_for(
    article: Article,
    story_id: int,
    joined: bool,
    destinations: Sequence[str],
    accepted: set[str],
    alerted: dict[str, set[int]],
    posted: set[tuple[str, int]],
) -> list[OutboxEntry]:
    """A later report of a story already alerted somewhere updates that alert; otherwise a
    report its routes accept makes its story a new alert there (once per story and batch:
    the first post shows every outlet known when it is sent)."""
    entries = []
    for destination in destinations:
        if joined and story_id in alerted.get(destination, ()):
            entries.append(OutboxEntry(destination, "update", story_id, article.id))
        elif destination in accepted and (destination, story_id) not in posted:
            posted.add((destination, story_id))
            entries.append(OutboxEntry(destination, "new", story_id, article.id))
    return entries


def _fresh(article: Article, now: datetime, max_age: timedelta | None) -> bool:
    return max_age is None or article.published_at >= now - max_age
