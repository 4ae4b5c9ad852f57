"""Routes: which destinations hear about which articles, and how (instant alert or digest).

A route names a destination ("console", "slack:C0123", "discord:1234"), the watchlist themes
it follows, a minimum score and a mode. Ingest asks `instant_destinations` which destinations
a new article must alert now; digests (bot.core.digest) select stories with `Route.accepts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.models import ThemeHit
from bot.core.quiet_hours import QuietHours

Mode = Literal["instant", "digest"]
# How a destination hears that a story it was alerted to grew: its first post is edited
# (the default), a reply is posted in that post's thread, or both.
UpdateStyle = Literal["edit", "thread", "both"]
UPDATE_STYLES: tuple[UpdateStyle, ...] = ("edit", "thread", "both")


class ThemeMatcher(Protocol):
    """What ingest needs of the watchlist matcher (bot.core.watchlist)."""

    def hits(self, title: str, summary: str) -> list[ThemeHit]:
        """The themes this article matches, best first; empty when none."""
        ...


@dataclass(frozen=True, slots=True)
class Route:
    """One destination's subscription.

    `themes` None means every new story, matched or not (a firehose: no watchlist needed);
    an empty set means any theme of the watchlist; otherwise those theme slugs only.
    """

    destination: str
    themes: frozenset[str] | None = frozenset()
    min_score: float = 0.0
    mode: Mode = "instant"
    quiet: QuietHours | None = None  # instant alerts wait while these hours last
    updates: UpdateStyle | None = None  # None: as another route of the destination says, or edit

    def accepts(self, hits: Sequence[ThemeHit]) -> bool:
        """Whether an article with these theme hits belongs to this route."""
        if self.themes is None:
            return True
        return any(self.follows(hit.theme) and hit.score >= self.min_score for hit in hits)

    def follows(self, theme: str) -> bool:
        """Whether this route follows a theme (a firehose follows all)."""
        return not self.themes or theme in self.themes


def firehose(destinations: Iterable[str]) -> tuple[Route, ...]:
    """Instant routes for every new story, to each destination."""
    return tuple(Route(destination, themes=None) for destination in destinations)


def instant_destinations(routes: Sequence[Route], hits: Sequence[ThemeHit]) -> list[str]:
    """Destinations with an instant route that accepts the article, each once, in route order."""
    chosen = (r.destination for r in routes if r.mode == "instant" and r.accepts(hits))
    return list(dict.fromkeys(chosen))


def unknown_themes(routes: Sequence[Route], known: Iterable[str]) -> list[str]:
    """Theme slugs that routes name but the watchlist does not define (a configuration error)."""
    known_set = set(known)
    named = (theme for route in routes for theme in sorted(route.themes or ()))
    return sorted({theme for theme in named if theme not in known_set})


def update_style(routes: Sequence[Route], destination: str) -> UpdateStyle:
    """How `destination` hears of updates: the first of its routes that says, else "edit"."""
    named = (r.updates for r in routes if r.destination == destination and r.updates)
    return next(named, "edit")


def conflicting_update_styles(routes: Sequence[Route]) -> dict[str, list[str]]:
    """Destinations whose routes ask for different update styles, with the styles named."""
    styles: dict[str, list[str]] = {}
    for route in routes:
        if route.updates and route.updates not in styles.setdefault(route.destination, []):
            styles[route.destination].append(route.updates)
    return {destination: named for destination, named in styles.items() if len(named) > 1}


def followed_themes(
    routes: Sequence[Route], destination: str, hits: Sequence[ThemeHit]
) -> set[str]:
    """The themes among `hits` for which an instant route of `destination` alerts."""
    mine = [r for r in routes if r.destination == destination and r.mode == "instant"]
    return {
        hit.theme
        for hit in hits
        for route in mine
        if route.themes is not None and route.follows(hit.theme) and hit.score >= route.min_score
    }
