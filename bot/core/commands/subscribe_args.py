"""The words of `/nkru subscribe` as a SubscriptionSpec, checked the way settings check a route.

`subscribe [themes…] [instant|digest <cron>] [min score] [quiet hours [time zone]]`, in any
order: theme slugs (or `all`), `instant` or `digest` followed by the five crontab fields (UTC),
a number (the minimum score) and a window such as `22:00-07:00`, optionally followed by an IANA
time zone. Cron and quiet hours go through the same parsers as NKRU_ROUTES (bot.core.cron,
bot.core.quiet_hours), so a channel can subscribe to exactly what the config file could say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.commands.model import ThemeCatalog
from bot.core.commands.registry import UsageError
from bot.core.commands.text import theme_list
from bot.core.cron import check_cron
from bot.core.quiet_hours import QuietHours
from bot.core.routing import Mode
from bot.core.subscriptions.model import MAX_SCORE, SubscriptionSpec

SUBSCRIBE_USAGE = "[themes…|all] [instant|digest <cron>] [min score] [HH:MM-HH:MM [time zone]]"
CRON_FIELDS = 5
_WINDOW = re.compile(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_ZONE = re.compile(r"UTC|GMT|[A-Za-z_]+(/[A-Za-z0-9_+-]+)+")
_EXAMPLE = "e.g. /nkru subscribe tumen-bridge digest 0 8 * * *"


@dataclass(slots=True)
class _Draft:
    themes: list[str]
    mode: Mode | None = None
    cron: str | None = None
    min_score: float | None = None
    quiet: str | None = None
    zone: str | None = None


def parse_subscribe(words: Sequence[str], catalog: ThemeCatalog) -> SubscriptionSpec:
    """The subscription these words ask for; UsageError names the word that is wrong."""
    draft = _Draft(themes=[])
    rest = list(words)
    while rest:
        word = rest.pop(0)
        folded = word.casefold()
        if folded in ("instant", "digest"):
            _set_mode(draft, folded, rest)
        elif _WINDOW.fullmatch(word):
            _set_quiet(draft, word, rest)
        elif _NUMBER.fullmatch(word):
            _set_score(draft, word)
        elif folded in ("all", "*"):
            continue  # every theme: the same as naming none
        elif folded in catalog.themes:
            if folded not in draft.themes:
                draft.themes.append(folded)
        else:
            raise UsageError(f"unknown theme '{word}'", hint=theme_list(catalog))
    return _spec(draft)


def _set_mode(draft: _Draft, mode: str, rest: list[str]) -> None:
    if draft.mode is not None:
        raise UsageError("say instant or digest once")
    if mode == "instant":
        draft.mode = "instant"
        return
    fields, rest[:] = rest[:CRON_FIELDS], rest[CRON_FIELDS:]
    if len(fields) < CRON_FIELDS:
        raise UsageError(f"digest needs a crontab line of five fields (UTC), {_EXAMPLE}")
    try:
        draft.cron = check_cron(" ".join(fields))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    draft.mode = "digest"


def _set_quiet(draft: _Draft, window: str, rest: list[str]) -> None:
    if draft.quiet is not None:
        raise UsageError("give one quiet-hours window, e.g. 22:00-07:00")
    draft.quiet = window
    if rest and _ZONE.fullmatch(rest[0]):
        draft.zone = rest.pop(0)


def _set_score(draft: _Draft, word: str) -> None:
    if draft.min_score is not None:
        raise UsageError("give one minimum score")
    score = float(word)
    if not 0 <= score <= MAX_SCORE:
        raise UsageError(f"the minimum score {word} is out of range: use 0 to {MAX_SCORE:g}")
    draft.min_score = score


def _spec(draft: _Draft) -> SubscriptionSpec:
    mode = draft.mode or "instant"
    zone = draft.zone or "UTC"
    if draft.quiet is not None:
        if mode == "digest":
            raise UsageError("quiet hours hold instant alerts: a digest runs on its own schedule")
        try:
            QuietHours.parse(draft.quiet, zone)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return SubscriptionSpec(
        themes=tuple(draft.themes),
        mode=mode,
        cron=draft.cron,
        min_score=draft.min_score or 0.0,
        quiet_hours=draft.quiet,
        timezone=zone,
    )
