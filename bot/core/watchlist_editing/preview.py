"""A watchlist draft's preview: before it is saved, which recent articles it would change.

An admin editing the watchlist (the web panel's editor) sends a draft, the whole TOML document
as the chat edits make it (`document`). The preview loads it with the real loader (so a broken
draft is refused with the same problems a save would give), compiles it with
`compile_matcher`, the code the poll's matcher comes from, and matches every stored article
published in the last `days` days with it and with the version in force's matcher (the one
the poll matches with, kept by version number: `CompiledVersion`, compiled only if this
process has none for that version). An article is *newly* matched when the
draft files it under a theme the version in force does not, and *stops* matching a theme the
other way round (an article can do both: moved from one theme to another). Whole matches are
compared, not terms: a theme can also appear or vanish because another theme now claims the
article as its main subject (`bot.core.watchlist.subject`).

Only the articles a change can concern are matched (`Probe`): with the version in force
those where an indicator term of a theme the draft adds, removes or changes occurs (its
figures before and after), with the draft only those where a term added or removed occurs
(for a theme changed otherwise: any of its indicator terms); the others are filed alike by
both versions. Listed articles carry the explanations the matcher gives (terms hit,
where, points, score): the draft's for what it would add, the version in force's for what it
would drop. The totals cover every article compared; the lists stop at `listed` each, the
newest first. Only the id, title and summary of the articles compared are read (with the
version in force's memo, only their ids, and the texts it has not seen: `_texts_since`); the
listed ones are then read whole. Which articles a change can concern is found in one pass of
an automaton over their texts (`Probe.candidates`), and what the version in force files among
those its changed themes' terms occur in is kept with the memo (`ArticleMemo.concerned_in`).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from ahocorasick_rs import BytesAhoCorasick

from bot.core.models import Article, ArticleText, ThemeHit
from bot.core.theme_hits import WatchlistMatcher, theme_hit
from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.model import Term, Theme, Watchlist
from bot.core.watchlist.normalize import matching_text
from bot.core.watchlist.scoring import ThemeMatch
from bot.core.watchlist_editing.compiled import ArticleMemo, Joined, Texts, compile_matcher
from bot.core.watchlist_editing.diff import diff_watchlists
from bot.core.watchlist_editing.editor import WatchlistEditor

DEFAULT_DAYS = 7
MAX_DAYS = 90  # NKRU_RETENTION's default: older articles are usually purged already
MAX_ARTICLES = 50_000  # compared at most (the newest): ~2.5 s of CPU on the densest news
LISTED = 200  # articles listed on each side with explanations (the totals cover all)


A = TypeVar("A", bound=Texts)
B = TypeVar("B", bound=Texts)


@dataclass(frozen=True, slots=True)
class ArticleChange(Generic[A]):
    """One article and the themes it gains (the draft's hits) or loses (the hits in force)."""

    article: A
    themes: tuple[ThemeHit, ...]


@dataclass(frozen=True, slots=True)
class ThemeCount:
    """One theme's figures over the articles compared.

    `gained` and `lost` are known for every theme. `before` and `after` (its articles under the
    version in force and under the draft) are known for the themes the draft adds, removes or
    changes; for the others they are None (only the articles a change concerns are matched,
    see `Probe`; such a theme's own terms and rules are the same in both versions).
    """

    slug: str
    title: str
    gained: int  # articles the draft files under it that the version in force does not
    lost: int  # and the other way round
    before: int | None
    after: int | None


@dataclass(frozen=True, slots=True)
class Comparison(Generic[A]):
    """What the draft changes in a set of articles (see the module docstring)."""

    scanned: int
    newly: tuple[ArticleChange[A], ...]
    stopped: tuple[ArticleChange[A], ...]
    newly_total: int
    stopped_total: int
    themes: tuple[ThemeCount, ...]

    def with_articles(self, articles: dict[int, B]) -> Comparison[B]:
        """The same comparison, each listed article replaced by `articles`' of its id (one
        missing, deleted since it was read, is left out of the lists, not the totals)."""

        def listed(changes: tuple[ArticleChange[A], ...]) -> tuple[ArticleChange[B], ...]:
            return tuple(
                ArticleChange(articles[change.article.id], change.themes)
                for change in changes
                if change.article.id in articles
            )

        newly, stopped = listed(self.newly), listed(self.stopped)
        return Comparison(
            self.scanned, newly, stopped, self.newly_total, self.stopped_total, self.themes
        )


@dataclass(frozen=True, slots=True)
class Preview:
    """A draft compared with the version in force over the articles published since `since`."""

    version: int  # the version in force it was compared with (a save must build on it)
    since: datetime
    complete: bool  # False when more than MAX_ARTICLES were published: the newest were used
    changes: tuple[str, ...]  # what the draft changes, as `watch history` lines (`diff`)
    comparison: Comparison[Article]


async def preview_draft(
    editor: WatchlistEditor,
    draft: str,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    listed: int = LISTED,
) -> Preview:
    """Compare `draft` with the version in force over the articles of the last `days` days.

    Raises WatchlistError (each problem with line, field and fix) when the draft is not a valid
    watchlist or drops a theme the routes follow (a save would refuse it), NoWatchlist when
    nothing is stored, ValueError for a window out of range.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"the preview looks back 1 to {MAX_DAYS} days, not {days}")
    version, current = await editor.latest()
    since = now - timedelta(days=days)
    # Loading the draft (CPU, in a thread) while the week's articles are read. The reading is
    # awaited whatever happens, so no transaction outlives the call (a draft that does not
    # load costs the reading's time, nothing more).
    reading = asyncio.ensure_future(
        _texts_since(editor, since, editor.compiled.memo(version.version))
    )
    try:
        proposed = await asyncio.to_thread(load_watchlist_text, draft, f"{version.name}.toml")
        editor.check_routes(proposed, version.name)  # what a save would refuse, said now
        in_force = await editor.compiled.of(version.version, current)
    finally:
        recent = await reading
    compared = recent[:MAX_ARTICLES]
    # CPU work (compiling the draft, scanning every article, matching some twice): off the
    # event loop (sharing the poll's matcher with a thread is safe: `compiled`).
    memo = editor.compiled.memo(version.version)
    found = await asyncio.to_thread(_compare_draft, in_force, memo, proposed, compared, listed)
    shown = {change.article.id for change in (*found.newly, *found.stopped)}
    async with editor.store.transaction() as tx:
        whole = await tx.articles.get_many(shown)
    changes = tuple(diff_watchlists(current, proposed))
    complete = len(recent) == len(compared)
    return Preview(version.version, since, complete, changes, found.with_articles(whole))


async def _texts_since(
    editor: WatchlistEditor, since: datetime, memo: ArticleMemo | None
) -> list[ArticleText]:
    """The id, title and summary of the articles published since `since`, the newest first
    (MAX_ARTICLES + 1 at most).

    With the memo of the version in force, only their ids and stamps are read, and the texts
    of those it does not remember (all of them on the first preview of a version): reading
    the week's 9,000 titles and summaries cost as much as the rest of a preview.
    """
    async with editor.store.transaction() as tx:
        if memo is None:
            return await tx.articles.texts_published_since(since, MAX_ARTICLES + 1)
        keys = await tx.articles.keys_published_since(since, MAX_ARTICLES + 1)
        if len(keys) > memo.size:  # more than it keeps: read as if there were none
            return await tx.articles.texts_published_since(since, MAX_ARTICLES + 1)
        found, missing = memo.recall(keys)
        read = {}
        if missing:
            for article, stamp in await tx.articles.texts_of(missing):
                memo.learn(article, stamp)
                read[article.id] = article
    # One deleted since its id was read (PostgreSQL reads each statement as of its start) is
    # left out.
    texts = (known or read.get(id_) for known, (id_, _) in zip(found, keys, strict=True))
    return [article for article in texts if article is not None]


def _compare_draft(
    in_force: WatchlistMatcher,
    memo: ArticleMemo | None,
    draft: Watchlist,
    articles: Sequence[ArticleText],
    listed: int,
) -> Comparison[ArticleText]:
    return compare(in_force, compile_matcher(draft), articles, listed, memo=memo)


def compare(
    before: WatchlistMatcher,
    after: WatchlistMatcher,
    articles: Sequence[A],
    listed: int = LISTED,
    *,
    narrow: bool = True,
    memo: ArticleMemo | None = None,
) -> Comparison[A]:
    """Match the articles with both matchers and collect what differs (module docstring).

    With `narrow` (the default), only the articles a changed term occurs in are matched with
    both, and those a changed theme's terms in force occur in with `before` (`Probe`): what
    differs is the same, found in a fraction of the time. `memo`, if given, must be
    `before`'s (`CompiledVersion.memo`): it gives what `before` made of the articles it has
    seen (and where the changed themes' terms occur), and remembers the rest.
    """
    memo = memo if memo is not None else ArticleMemo(before.matcher, size=len(articles) + 1)
    probe = Probe(before, after) if narrow else None
    tally = _Tally(before, after, None if probe is None else probe.changed)
    newly: list[ArticleChange[A]] = []
    stopped: list[ArticleChange[A]] = []
    totals = [0, 0]
    if probe is None or probe.reordered:
        differing: Iterable[int] = range(len(articles))
        concerned: list[tuple[int, dict[str, ThemeMatch]]] = []
    else:
        # Only where the keys of the probe's matchers occur can its checks be true
        # (`Probe.candidates`): the same articles as checking every one, found in one pass.
        joined = memo.joined(articles)
        differing = (
            index
            for index in probe.candidates(joined, narrow=True)
            if probe.may_differ_in(*memo.normalized(articles[index]))
        )
        concerned = memo.concerned_in(articles, probe)
    seen = set()
    for index in differing:
        article = articles[index]
        seen.add(index)
        old = _by_slug(memo.matches(article))
        text, split = memo.normalized(article)
        new = _by_slug(after.matcher.match_normalized(article.title, article.summary, text, split))
        tally.add(old, new)
        gained = [match for slug, match in new.items() if slug not in old]
        lost = [match for slug, match in old.items() if slug not in new]
        for side, (moved, listing) in enumerate(((gained, newly), (lost, stopped))):
            if moved:
                totals[side] += 1
                if len(listing) < listed:  # explanations cost more than matching: only these
                    listing.append(ArticleChange(article, tuple(map(theme_hit, moved))))
    for index, old in concerned:
        if index not in seen:  # filed alike; counted for the changed themes' figures
            tally.add(old, old)
    return Comparison(
        len(articles), tuple(newly), tuple(stopped), totals[0], totals[1], tally.counts()
    )


class Probe:
    """Whether two watchlists can file an article differently, from a cheap scan.

    By the matching rules (`bot.core.watchlist.scoring`) a theme matches only with points from
    its own indicator terms (min_score is above 0), and which of the matching themes are kept
    as the article's subject depends on those matching themes alone. So where no indicator term
    of a theme the draft adds, removes or changes (its context groups and exclusions included)
    occurs, neither version matches such a theme, every other theme is the same in both, and
    both file the article alike.

    Most edits add or remove a few terms or exclusions of a theme and leave the rest of it as
    it was: such a theme finds the same terms in an article where none of the changed ones
    occurs (a term's weight changed counts as changed), so it scores, is excluded and explains
    itself alike. `may_differ` is whether one of those changed terms occurs (for the other
    changed themes: one of their indicator terms, in either version). `concerns` is whether
    one of the changed themes' indicator terms *in force* occurs: only there can the version in
    force file the article under one of them (the figures before and after the change).
    Each is a matcher of just those terms, and `Matcher.find` says whether any occurs: the
    same search as the poll's, on far fewer terms.
    """

    def __init__(self, before: WatchlistMatcher, after: WatchlistMatcher) -> None:
        old, new = before.matcher.themes, after.matcher.themes
        changed = [theme for slug, theme in old.items() if new.get(slug) != theme]
        changed += [theme for slug, theme in new.items() if old.get(slug) != theme]
        self.changed = frozenset(theme.slug for theme in changed)
        # Themes in another order could break a tie another way: then every article counts.
        self.reordered = [s for s in old if s in new] != [s for s in new if s in old]
        in_force = [old[slug] for slug in sorted(self.changed) if slug in old]
        # What `concerns` asks depends on the version in force and these slugs alone: a key to
        # keep its answers under (`ArticleMemo.concerned`).
        self.key = frozenset(theme.slug for theme in in_force)
        self.matcher = _terms_matcher(tuple(term for theme in in_force for term in theme.terms))
        narrowed = [_changed_terms(old.get(slug), new.get(slug)) for slug in self.changed]
        self.narrow = _terms_matcher(tuple(term for terms in narrowed for term in terms))
        # An automaton of each matcher's keys, for `candidates`.
        self.scans = {
            narrow: BytesAhoCorasick([key.encode() for key in found.keys])
            for narrow, found in ((True, self.narrow), (False, self.matcher))
            if found is not None
        }

    def candidates(self, joined: Joined, *, narrow: bool) -> list[int]:
        """The indexes (ascending) of the texts (`ArticleMemo.joined`) where `may_differ_in`
        (`narrow`), or else `concerns`, may be true; both are true everywhere if `reordered`.

        Both answer from `Matcher.find`, which finds nothing in a text where none of its
        matcher's `keys` occurs. So one pass of an automaton of those keys over the texts
        joined, then the check on the texts it found a key in, give what the check on every
        text gives, in a fraction of the time: a check's per-text work in Python (a call, the
        hits' bookkeeping) is most of its cost.
        """
        data, starts = joined
        if self.reordered:
            return list(range(len(starts)))
        scan = self.scans.get(narrow)
        if scan is None:
            return []
        hits = scan.find_matches_as_indexes(data, overlapping=True)
        return sorted({bisect_right(starts, start) - 1 for _, start, _ in hits})

    def concerns(self, text: str, split: int) -> bool:
        """Whether the version in force may file this `matching_text` under a changed theme."""
        if self.reordered:
            return True
        return self.matcher is not None and bool(self.matcher.find(text, split))

    def may_differ(self, title: str, summary: str) -> bool:
        """False when both watchlists certainly file this article alike."""
        return self.may_differ_in(*matching_text(title, summary))

    def may_differ_in(self, text: str, split: int) -> bool:
        """`may_differ`, given the article's `matching_text`."""
        if self.reordered:
            return True
        return self.narrow is not None and bool(self.narrow.find(text, split))


def _terms_matcher(terms: tuple[Term, ...]) -> Matcher | None:
    """A matcher that finds these terms (one theme of them, no rules), None for none."""
    if not terms:
        return None
    theme = Theme("probe", "probe", "", "", terms, (), (), 1.0)
    return Matcher.from_watchlists([Watchlist("probe", "probe", Path("probe.toml"), (theme,))])


def _changed_terms(old: Theme | None, new: Theme | None) -> tuple[Term, ...]:
    """The terms whose occurrence can make a theme's two versions file an article differently:
    those added or removed (indicators and exclusions) if nothing else of it changed and the
    terms kept are in the same order; else every indicator term of both."""
    if old is not None and new is not None:
        same_rest = replace(old, terms=(), exclude=()) == replace(new, terms=(), exclude=())
        terms, exclude = _difference(old.terms, new.terms), _difference(old.exclude, new.exclude)
        if same_rest and terms is not None and exclude is not None:
            return terms + exclude
    return (*(old.terms if old else ()), *(new.terms if new else ()))


def _difference(old: tuple[Term, ...], new: tuple[Term, ...]) -> tuple[Term, ...] | None:
    """The terms one list has more often than the other; None if the others are reordered."""
    counts = Counter(old)
    counts.subtract(new)
    changed = tuple(term for term, count in counts.items() if count != 0)
    kept_old = [term for term in old if term not in changed]
    kept_new = [term for term in new if term not in changed]
    return changed if kept_old == kept_new else None


def _by_slug(matches: list[ThemeMatch]) -> dict[str, ThemeMatch]:
    return {match.slug: match for match in matches}


class _Tally:
    """Per theme: articles gained and lost, and matched before and after where known."""

    def __init__(
        self, before: WatchlistMatcher, after: WatchlistMatcher, known: frozenset[str] | None
    ) -> None:
        themes = {**before.matcher.themes, **after.matcher.themes}  # the draft's titles win
        order = dict.fromkeys([*after.matcher.themes, *before.matcher.themes])
        self.titles = {slug: themes[slug].title for slug in order}
        self.figures = {slug: [0, 0, 0, 0] for slug in order}  # gained, lost, before, after
        self.known = frozenset(order) if known is None else known  # before and after counted

    def add(self, old: dict[str, ThemeMatch], new: dict[str, ThemeMatch]) -> None:
        for slug in old:
            self.figures[slug][2] += 1
            if slug not in new:
                self.figures[slug][1] += 1
        for slug in new:
            self.figures[slug][3] += 1
            if slug not in old:
                self.figures[slug][0] += 1

    def counts(self) -> tuple[ThemeCount, ...]:
        return tuple(
            ThemeCount(slug, self.titles[slug], gained, lost, *(
                (before, after) if slug in self.known else (None, None)
            ))
            for slug, (gained, lost, before, after) in self.figures.items()
        )  # fmt: skip
