"""`watch …`: see the watchlist, test text against it, and (admins) change it.

Anyone: `watch list [theme]`, `watch show <theme>`, `watch test <text>`, `watch history
[theme]`. Admins: `watch add|remove|exclude <theme> <term…>`, `watch new <slug> <title>`,
`watch delete <slug>`, `watch undo [version]`. Every change is posted in the channel with what
changed (everyone there should know why alerts changed, and who changed them), audited, and
stored as a new version that `watch undo` can revert; an edit that would make the watchlist
invalid is refused with the loader's problems and audited as "invalid".

Terms with spaces are written in double quotes (`"Tumannaya River"`): Slack passes free text
and Discord an option string, both split on whitespace before they get here, so the words are
joined again and split respecting quotes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from bot.core.commands.admin import require_admin
from bot.core.commands.model import Reply, ThemeCatalog
from bot.core.commands.registry import Context, UsageError
from bot.core.records import Author
from bot.core.watchlist.model import Theme, Watchlist, WatchlistError
from bot.core.watchlist_editing import document
from bot.core.watchlist_editing.document import EditError
from bot.core.watchlist_editing.editor import NoWatchlist, Saved, WatchlistEditor
from bot.core.watchlist_editing.live import LiveWatchlist
from bot.core.watchlist_editing.saving import Actor, save_audited
from bot.core.watchlist_editing.views import (
    history_lines,
    match_lines,
    show_lines,
    term_lines,
    theme_lines,
)

USAGE = (
    "watch list [theme] · watch show <theme> · watch test <title> [| summary] · "
    "watch history [theme] · admins: watch add|remove|exclude <theme> <term…> · "
    "watch new <slug> <title> · watch delete <slug> · watch undo [version]"
)
HISTORY_SHOWN = 10
CHANGES_SHOWN = 20  # diff lines in a change's reply; the rest are counted
PROBLEMS_SHOWN = 10
# A quoted run stands alone: a quote that opens or closes inside a word (foo"bar baz") is
# refused rather than guessed at, so no term is stored with a stray quote in it.
_QUOTES = '"“”„«»'
_QUOTED = re.compile(rf"(?<!\S)[{_QUOTES}]([^{_QUOTES}]*)[{_QUOTES}](?!\S)|(\S+)")
_VERSION = re.compile(r"v?(\d+)", re.IGNORECASE)
# Where `add`, `exclude` and `remove` act (remove looks in both lists).
_TERM_ACTIONS: dict[str, document.Field | None] = {
    "add": "terms",
    "exclude": "exclude",
    "remove": None,
}


@dataclass(frozen=True, slots=True)
class WatchArgs:
    """One `watch` subcommand: `theme` is a slug as typed (checked against the stored
    watchlist when it runs), `terms` the quoted-aware words, `text` free text."""

    action: str
    theme: str | None = None
    terms: tuple[str, ...] = ()
    text: str = ""
    version: int | None = None


def split_quoted(text: str) -> list[str]:
    """Words, where a double-quoted run (straight or typographic quotes) is one word."""
    if sum(text.count(q) for q in _QUOTES) % 2:
        raise UsageError('a quote is not closed: write terms with spaces as "Tumannaya River"')
    words = []
    for quoted, bare in _QUOTED.findall(text):
        if any(q in bare for q in _QUOTES):
            raise UsageError(
                f"a quote inside '{bare}': put quotes around a whole term, "
                'as in "Tumannaya River"'
            )
        words.append(" ".join((quoted or bare).split()))
    return words


def parse_watch(words: Sequence[str], _catalog: ThemeCatalog) -> WatchArgs:
    """The subcommand and its arguments (bare `watch` lists the themes)."""
    if not words:
        return WatchArgs("list")
    action, rest = words[0].casefold(), list(words[1:])
    parser = _PARSERS.get(action)
    if parser is None:
        raise UsageError(f"unknown watch command '{words[0]}'", hint=USAGE)
    return parser(action, rest)


def _optional_theme(action: str, rest: list[str]) -> WatchArgs:
    if len(rest) > 1:
        raise UsageError(f"watch {action} takes at most one theme")
    return WatchArgs(action, rest[0].casefold() if rest else None)


def _one_theme(action: str, rest: list[str]) -> WatchArgs:
    if len(rest) != 1:
        raise UsageError(f"watch {action} needs one theme, e.g. watch {action} tumen-bridge")
    return WatchArgs(action, rest[0].casefold())


def _terms(action: str, rest: list[str]) -> WatchArgs:
    tokens = split_quoted(" ".join(rest))
    terms = tuple(dict.fromkeys(t for t in tokens[1:] if t))
    if not tokens or not terms:
        raise UsageError(f"watch {action} needs a theme and at least one term")
    return WatchArgs(action, tokens[0].casefold(), terms)


def _new(action: str, rest: list[str]) -> WatchArgs:
    title = " ".join(split_quoted(" ".join(rest[1:])))
    if not rest or not title:
        raise UsageError('watch new needs a slug and a title, e.g. watch new kaesong "Kaesong"')
    return WatchArgs(action, rest[0].casefold(), text=title)


def _test(action: str, rest: list[str]) -> WatchArgs:
    if not " ".join(rest).strip(" |"):
        raise UsageError("watch test needs text, e.g. a headline (add | and a summary)")
    return WatchArgs(action, text=" ".join(rest))


def _undo(action: str, rest: list[str]) -> WatchArgs:
    if not rest:
        return WatchArgs(action)
    number = _VERSION.fullmatch(rest[0]) if len(rest) == 1 else None
    if number is None:
        raise UsageError("watch undo takes at most a version number, e.g. watch undo 12")
    return WatchArgs(action, version=int(number[1]))


_PARSERS: dict[str, Callable[[str, list[str]], WatchArgs]] = {
    "list": _optional_theme,
    "history": _optional_theme,
    "show": _one_theme,
    "delete": _one_theme,
    "add": _terms,
    "remove": _terms,
    "exclude": _terms,
    "new": _new,
    "test": _test,
    "undo": _undo,
}


async def run_watch(ctx: Context, args: WatchArgs) -> Reply:
    """Run one `watch` subcommand; expected failures are replies only the caller sees."""
    try:
        return await _RUNNERS[args.action](ctx, args)
    except EditError as error:
        lines = (error.hint,) if error.hint else ()
        return Reply(error.message, lines=lines, ephemeral=True, error=True)
    except NoWatchlist as error:
        return Reply("No watchlist yet", lines=(str(error),), ephemeral=True, error=True)


async def _list(ctx: Context, args: WatchArgs) -> Reply:
    version, watchlist = await ctx.service(WatchlistEditor).latest()
    if args.theme is None:
        title = f"Watchlist v{version.version}: {len(watchlist.themes)} themes"
        return Reply(title, lines=tuple(theme_lines(watchlist)), ephemeral=True)
    theme = _theme(watchlist, args.theme)
    return Reply(f"{theme.slug}: terms", lines=tuple(term_lines(theme)), ephemeral=True)


async def _show(ctx: Context, args: WatchArgs) -> Reply:
    version, watchlist = await ctx.service(WatchlistEditor).latest()
    theme = _theme(watchlist, args.theme or "")
    lines = tuple(show_lines(theme))
    return Reply(f"{theme.title} (watchlist v{version.version})", lines=lines, ephemeral=True)


async def _test_text(ctx: Context, args: WatchArgs) -> Reply:
    live = ctx.service(LiveWatchlist)
    if live.matcher is None:
        raise NoWatchlist()
    title, _, summary = args.text.partition("|")
    matches = live.matcher.matcher.match(title.strip(), summary.strip())
    where = f"watchlist v{live.version}"
    if not matches:
        return Reply(
            f"No theme matches ({where})",
            lines=(
                "A theme needs a term of each context group it requires (e.g. North Korea and "
                "Russia), no exclusion, and its minimum score; words in the title count double.",
            ),
            ephemeral=True,
        )
    titles = {t.slug: t.title for t in live.matcher.matcher.themes.values()}
    heading = f"{len(matches)} theme{'s' if len(matches) > 1 else ''} match ({where})"
    return Reply(heading, lines=tuple(match_lines(matches, titles)), ephemeral=True)


async def _history(ctx: Context, args: WatchArgs) -> Reply:
    editor = ctx.service(WatchlistEditor)
    versions = await editor.history(HISTORY_SHOWN, args.theme)
    current = await editor.latest_number()
    about = f" of {args.theme}" if args.theme else ""
    if not versions:
        return Reply(f"No changes{about} stored", ephemeral=True)
    lines = tuple(history_lines(versions, current))
    hint = "Go back with /nkru watch undo [version] (admins)"
    return Reply(
        f"Watchlist history{about}, newest first", lines=lines, footer=hint, ephemeral=True
    )


async def _edit_terms(ctx: Context, args: WatchArgs) -> Reply:
    theme, terms = args.theme or "", args.terms
    field = _TERM_ACTIONS[args.action]
    if field is None:
        return await _change(ctx, f"watch {args.action}", theme, _removing(theme, terms))
    change = partial(document.add_terms, slug=theme, terms=terms, field=field)
    return await _change(ctx, f"watch {args.action}", theme, change)


def _removing(slug: str, terms: tuple[str, ...]) -> Callable[[str], str]:
    return lambda text: document.remove_terms(text, slug, terms)[0]


async def _new_theme(ctx: Context, args: WatchArgs) -> Reply:
    change = partial(document.new_theme, slug=args.theme or "", title=args.text)
    return await _change(ctx, "watch new", args.theme or "", change)


async def _delete(ctx: Context, args: WatchArgs) -> Reply:
    change = partial(document.delete_theme, slug=args.theme or "")
    return await _change(ctx, "watch delete", args.theme or "", change)


async def _undo_run(ctx: Context, args: WatchArgs) -> Reply:
    target = f"v{args.version}" if args.version is not None else "previous version"
    await require_admin(ctx, "watch undo", target)
    editor = ctx.service(WatchlistEditor)
    return await _saving(ctx, "watch undo", target, editor.undo(_author(ctx), args.version))


async def _change(ctx: Context, action: str, target: str, change: Callable[[str], str]) -> Reply:
    await require_admin(ctx, action, target)
    editor = ctx.service(WatchlistEditor)
    return await _saving(ctx, action, target, editor.edit(_author(ctx), change))


async def _saving(ctx: Context, action: str, target: str, saving: Awaitable[Saved]) -> Reply:
    """Await the change, audited as every front end's is (`saving`), and answer. An EditError
    (an unknown theme, a term already there) goes on to `run_watch`, which tells the caller."""
    actor = Actor(_author(ctx), ctx.invocation.destination)
    try:
        saved = await save_audited(ctx.store, actor, ctx.now, action, target, saving)
    except WatchlistError as error:
        lines = tuple(str(problem) for problem in error.problems[:PROBLEMS_SHOWN])
        return Reply(
            "Refused: the watchlist would not be valid", lines=lines, ephemeral=True, error=True
        )
    shown = saved.lines[:CHANGES_SHOWN] or ["(comments or layout only)"]
    if len(saved.lines) > CHANGES_SHOWN:
        shown.append(f"…and {len(saved.lines) - CHANGES_SHOWN} more")
    who = saved.info.author.shown
    return Reply(
        f"Watchlist v{saved.info.version} by {who}",
        lines=tuple(shown),
        footer="/nkru watch undo reverts it (admins)",
    )


def _author(ctx: Context) -> Author:
    caller = ctx.invocation.caller
    return Author(caller.platform, caller.user_id, caller.user_name)


def _theme(watchlist: Watchlist, slug: str) -> Theme:
    for theme in watchlist.themes:
        if theme.slug == slug:
            return theme
    known = ", ".join(theme.slug for theme in watchlist.themes)
    raise EditError(f"unknown theme '{slug}'", f"themes: {known}")


_RUNNERS: dict[str, Callable[[Context, WatchArgs], Awaitable[Reply]]] = {
    "list": _list,
    "show": _show,
    "test": _test_text,
    "history": _history,
    "add": _edit_terms,
    "remove": _edit_terms,
    "exclude": _edit_terms,
    "new": _new_theme,
    "delete": _delete,
    "undo": _undo_run,
}
