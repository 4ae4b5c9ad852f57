"""The watchlist matcher (bot.core.watchlist) as ingest's `ThemeMatcher`: hits for storage."""

from __future__ import annotations

from pathlib import Path

from bot.core.commands.model import ThemeCatalog, ThemeInfo
from bot.core.models import ThemeHit
from bot.core.watchlist.load import load_watchlists
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.scoring import ThemeMatch, explain_text


def theme_hit(match: ThemeMatch) -> ThemeHit:
    """A theme match as it is stored with an article: score, one-line reason, explanation."""
    return ThemeHit(match.slug, match.score, explain_text(match), dict(match.explanation))


class WatchlistMatcher:
    """Matches articles against the watchlists' themes; what ingest stores is `hits`."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    @classmethod
    def load(cls, path: Path | str) -> WatchlistMatcher:
        """Load a watchlist file or folder (raises WatchlistError naming file, line, field)."""
        return cls(Matcher.from_watchlists(load_watchlists(path)))

    @property
    def slugs(self) -> list[str]:
        """The theme slugs, as defined."""
        return list(self.matcher.themes)

    def catalog(self) -> ThemeCatalog:
        """The themes' titles, descriptions and colours, for commands and rendering."""
        return ThemeCatalog.of(
            [
                ThemeInfo(t.slug, t.title, t.description, t.colour)
                for t in self.matcher.themes.values()
            ]
        )

    def hits(self, title: str, summary: str) -> list[ThemeHit]:
        """The themes this article matches, best first, with their explanations."""
        return [theme_hit(match) for match in self.matcher.match(title, summary)]
