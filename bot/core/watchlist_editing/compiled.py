"""`CompiledVersion`: the matcher of the version in force, compiled once per version.

Compiling the default watchlist takes 40-190 ms of CPU; a stored version's document never
changes (an edit or an undo stores a new number), so its matcher can be kept by number. The
live watchlist (`LiveWatchlist`) hands over the matcher it compiled for the poll, and the
preview of a draft (`preview_draft`) compares with it instead of compiling it again.

What that matcher makes of a stored article cannot change either (an article's title and
summary are never rewritten): `ArticleMemo` keeps, for the kept version, each article's
normalised text and, once asked, its matches and whether a theme's terms occur in it, so
previews after the first match the week's articles with the draft alone. It also keeps the
articles' titles and summaries by id and stamp (`ArticleKey`), so a later preview reads only
the week's ids and stamps, and the texts of the articles it has not seen.

Sharing that matcher with the preview's worker thread is safe: matching keeps its state per
call, and the one thing it keeps across calls is a cache of fuzzy verdicts (a dict whose
single reads and writes the GIL makes atomic; a verdict depends on its key alone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from bot.core.models import ArticleKey, ArticleText
from bot.core.theme_hits import WatchlistMatcher
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.model import Watchlist
from bot.core.watchlist.normalize import matching_text
from bot.core.watchlist.scoring import ThemeMatch

MEMO_SIZE = 20_000  # articles remembered per version (then forgotten at once, as the matcher's
# fuzzy verdicts are): a week of news is ~9,000 at 10,000 feeds' worth of test data


# Matching texts joined with NUL, as UTF-8, and where each starts (`ArticleMemo.joined`).
Joined = tuple[bytes, list[int]]
# (title, summary, matching text, split, matches or None until asked, checks answered)
_Entry = tuple[str, str, str, int, list[ThemeMatch] | None, dict[Hashable, bool]]


_Concerned = list[tuple[int, dict[str, ThemeMatch]]]
_JoinedEntry = tuple[tuple["Texts", ...], Joined, dict[Hashable, _Concerned]]


class ConcernProbe(Protocol):
    """What `ArticleMemo.concerned_in` asks of a `Probe` (bot.core.watchlist_editing.preview)."""

    @property
    def key(self) -> Hashable:
        """What its `concerns` answers depend on, besides the text."""

    def concerns(self, text: str, split: int) -> bool:
        """Whether the version in force may file this `matching_text` under a changed theme."""

    def candidates(self, joined: Joined, *, narrow: bool) -> list[int]:
        """The indexes of the joined texts where `concerns` (narrow=False) may be true."""


class Texts(Protocol):
    """What the memo reads of an article."""

    @property
    def id(self) -> int:
        """The stored article's id."""

    @property
    def title(self) -> str:
        """Its title."""

    @property
    def summary(self) -> str:
        """Its summary."""


class ArticleMemo:
    """Per stored article: its `matching_text` and what one matcher made of it.

    An entry is used only for the same id *and* the same title and summary, so an id used
    again by another article (SQLite can, after the newest rows are deleted) is not mistaken.
    """

    def __init__(self, matcher: Matcher, size: int = MEMO_SIZE) -> None:
        self.matcher = matcher
        self.size = size
        self._seen: dict[int, _Entry] = {}
        self._texts: dict[int, tuple[Hashable, ArticleText]] = {}  # by id: stamp, text
        # The articles last joined, the join and what `concerned_in` found in them by key.
        self._joined: _JoinedEntry | None = None

    def joined(self, articles: Sequence[Texts]) -> Joined:
        """The articles' `matching_text`s joined with NUL, as UTF-8, and the offset where each
        starts: one string an automaton scans in one call (`Probe.candidates`). NUL is in no
        matching text and no key, so nothing is found across two texts, and a key's UTF-8
        occurs in the bytes exactly where the key occurs in the text.

        The last one made is kept, for the same articles (the next preview's are usually the
        very objects `recall` gave this one's), with what `concerned_in` found in them."""
        return self._join(articles)[1]

    def _join(self, articles: Sequence[Texts]) -> _JoinedEntry:
        # The entry is returned, not read again from self._joined: two previews at once (each
        # in a worker thread) may each put theirs there.
        kept, entry = tuple(articles), self._joined
        if entry is None or entry[0] != kept:
            texts = [self.normalized(article)[0] for article in articles]
            starts, position = [], 0
            for text in texts:
                starts.append(position)
                position += (len(text) if text.isascii() else len(text.encode())) + 1
            entry = self._joined = (kept, ("\0".join(texts).encode(), starts), {})
        else:
            # Kept as given: equal articles may be other objects (the first preview of a
            # version the memo had not seen read the texts itself), and the next preview's,
            # from `recall`, are these; comparing the same objects skips ~9,000 dataclass
            # comparisons (~4 ms).
            entry = self._joined = (kept, entry[1], entry[2])
        return entry

    def concerned_in(self, articles: Sequence[Texts], probe: ConcernProbe) -> _Concerned:
        """(index, this matcher's matches by slug) of the articles where `probe.concerns` is
        true, the index ascending; kept with `joined` under `probe.key` (its answers depend on
        that and the articles alone)."""
        _, joined, kept = self._join(articles)
        found = kept.get(probe.key)
        if found is None:
            found = []
            for index in probe.candidates(joined, narrow=False):
                if self.concerned(articles[index], probe.key, probe.concerns):
                    found.append((index, {m.slug: m for m in self.matches(articles[index])}))
            kept[probe.key] = found
        return found

    def recall(self, keys: Sequence[ArticleKey]) -> tuple[list[ArticleText | None], list[int]]:
        """The texts remembered (`learn`) for these keys, None where the id is not known with
        that stamp, and those ids: what a reader must still read."""
        texts = self._texts
        found: list[ArticleText | None] = []
        missing = []
        for id_, stamp in keys:
            known = texts.get(id_)
            if known is not None and known[0] == stamp:
                found.append(known[1])
            else:
                found.append(None)
                missing.append(id_)
        return found, missing

    def learn(self, article: ArticleText, stamp: Hashable) -> None:
        """Remember an article's text under its stamp (`ArticleKey`), for `recall`."""
        if len(self._texts) >= self.size:
            self._texts.clear()
        self._texts[article.id] = (stamp, article)

    def _entry(self, article: Texts) -> _Entry:
        entry = self._seen.get(article.id)
        if entry is None or entry[0] != article.title or entry[1] != article.summary:
            if len(self._seen) >= self.size:
                self._seen.clear()
            text, split = matching_text(article.title, article.summary)
            entry = (article.title, article.summary, text, split, None, {})
            self._seen[article.id] = entry
        return entry

    def concerned(self, article: Texts, key: Hashable, check: Callable[[str, int], bool]) -> bool:
        """`check(text, split)` of the article's `matching_text`, kept under `key`: a check
        that depends on this matcher's version and the key alone (`Probe.concerns`)."""
        entry = self._entry(article)
        answers = entry[5]
        found = answers.get(key)
        if found is None:
            found = answers[key] = check(entry[2], entry[3])
        return found

    def normalized(self, article: Texts) -> tuple[str, int]:
        """`matching_text(article.title, article.summary)`."""
        entry = self._entry(article)
        return entry[2], entry[3]

    def matches(self, article: Texts) -> list[ThemeMatch]:
        """`self.matcher.match(article.title, article.summary)`."""
        title, summary, text, split, found, answers = self._entry(article)
        if found is None:
            found = self.matcher.match_normalized(title, summary, text, split)
            self._seen[article.id] = (title, summary, text, split, found, answers)
        return found


def compile_matcher(watchlist: Watchlist) -> WatchlistMatcher:
    """The matcher of one watchlist (CPU work: run it in a thread)."""
    return WatchlistMatcher(Matcher.from_watchlists([watchlist]))


class CompiledVersion:
    """The newest version's matcher seen, by version number (one is kept: older ones are
    of no more use to a preview, which always compares with the version in force)."""

    def __init__(self) -> None:
        self._kept: tuple[int, WatchlistMatcher, ArticleMemo] | None = None

    def keep(self, version: int, matcher: WatchlistMatcher) -> None:
        """Remember `matcher` as version `version`'s, unless a newer version's is kept."""
        if self._kept is None or version >= self._kept[0]:
            self._kept = (version, matcher, ArticleMemo(matcher.matcher))

    def get(self, version: int) -> WatchlistMatcher | None:
        """Version `version`'s matcher, if it is the one kept."""
        kept = self._kept
        return kept[1] if kept is not None and kept[0] == version else None

    def memo(self, version: int) -> ArticleMemo | None:
        """What version `version`'s matcher made of the articles so far, if it is kept."""
        kept = self._kept
        return kept[2] if kept is not None and kept[0] == version else None

    async def of(self, version: int, watchlist: Watchlist) -> WatchlistMatcher:
        """Version `version`'s matcher (`watchlist` is its loaded document): the one kept, else
        compiled now in a worker thread and kept."""
        found = self.get(version)
        if found is not None:
            return found
        matcher = await asyncio.to_thread(compile_matcher, watchlist)
        self.keep(version, matcher)
        return matcher
