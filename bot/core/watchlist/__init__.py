"""Watchlists (themes of terms, in TOML files) and the matcher that finds them in articles.

Typical use::

    watchlists = load_watchlists("watchlists")         # WatchlistError lists every problem
    matcher = Matcher.from_watchlists(watchlists)
    for match in matcher.match(title, summary):         # best score first
        print(match.slug, match.score, explain_text(match))
"""

from bot.core.watchlist.load import load_watchlist, load_watchlists
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.model import Group, Problem, Term, Theme, Watchlist, WatchlistError
from bot.core.watchlist.scoring import Explanation, HitInfo, ThemeMatch, explain_text

__all__ = [
    "Explanation",
    "Group",
    "HitInfo",
    "Matcher",
    "Problem",
    "Term",
    "Theme",
    "ThemeMatch",
    "Watchlist",
    "WatchlistError",
    "explain_text",
    "load_watchlist",
    "load_watchlists",
]
