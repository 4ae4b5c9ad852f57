"""`nkru watchlist check|show|import|export` and `nkru match`: watchlists from the command line.

`check`, `show` and `match` read files. `import` and `export` move the stored watchlist (the
versions in the database, see bot.core.watchlist_editing) to and from a file exactly, comments
included: export, edit, import; running bots adopt the new version on their next check.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from bot.cli.support import (
    UserError,
    console,
    errors,
    escape,
    fail,
    load,
    login_name,
    run_async,
)

if TYPE_CHECKING:
    from rich.table import Table

    from bot.core.records import Author
    from bot.core.watchlist import Matcher, Term, Theme, Watchlist, WatchlistError

DEFAULT_PATH = "watchlists"
watchlist_app = typer.Typer(
    help="Check and show watchlist files; import and export the stored watchlist.",
    no_args_is_help=True,
)

PathArgument = Annotated[
    str, typer.Argument(help="A watchlist file, or a directory of *.toml files")
]


def _load(path: str) -> list[Watchlist]:
    """The watchlists at ``path``; problems go to stderr, one per line, and exit code 2."""
    from bot.core.watchlist import WatchlistError, load_watchlists

    try:
        return load_watchlists(path)
    except WatchlistError as exc:
        _report_problems(exc)
        raise typer.Exit(2) from None


def _report_problems(exc: WatchlistError) -> None:
    for problem in exc.problems:
        errors.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)


@watchlist_app.command("check")
def check(path: PathArgument = DEFAULT_PATH) -> None:
    """Validate watchlists: every problem with file, line, field and fix (exit 1 if any)."""
    from bot.core.watchlist import WatchlistError, load_watchlists

    try:
        watchlists = load_watchlists(path)
    except WatchlistError as exc:
        _report_problems(exc)
        raise typer.Exit(1) from None
    themes = sum(len(w.themes) for w in watchlists)
    terms = sum(w.term_count() for w in watchlists)
    files = f"{len(watchlists)} file{'s' if len(watchlists) != 1 else ''}"
    console.print(f"ok: {themes} themes, {terms} terms in {files}", highlight=False)


@watchlist_app.command("show")
@run_async
async def show(
    path: Annotated[
        str | None,
        typer.Argument(
            help="A watchlist file or directory (default: the version in force, from the database)"
        ),
    ] = None,
    theme: Annotated[str | None, typer.Option(help="Only this theme (its slug)")] = None,
) -> None:
    """Print the effective rules: every term with its mode, fuzziness and weight. Without PATH,
    those of the version in force (chat edits and imports included), as the bot matches."""
    watchlists = _load(path) if path is not None else await _in_force()
    themes = [t for w in watchlists for t in w.themes]
    chosen = [t for t in themes if theme is None or t.slug == theme]
    if not chosen:
        fail(f"no theme {theme!r} — the themes are: {', '.join(t.slug for t in themes)}")
    for item in chosen:
        console.print(_theme_table(item))


async def _in_force() -> list[Watchlist]:
    """The newest stored version (what running bots match with); before the first start, the
    NKRU_WATCHLISTS files, said so on stderr."""
    from bot.core.poll.pipeline import utcnow
    from bot.core.watchlist_editing import NoWatchlist, WatchlistEditor
    from storage.engine import Store

    settings = load()
    store = await Store.open(settings.database_url)
    try:
        version, watchlist = await WatchlistEditor(store, utcnow).latest()
    except NoWatchlist:
        errors.print(
            f"no watchlist version is stored yet: showing {escape(str(settings.watchlists))}",
            highlight=False,
        )
        return _load(str(settings.watchlists))
    finally:
        await store.close()
    console.print(
        f"watchlist v{version.version} in force: {escape(version.info.change)}", highlight=False
    )
    return [watchlist]


def _theme_table(theme: Theme) -> Table:
    from rich.table import Table

    table = Table(
        title=f"{escape(theme.slug)}: {escape(theme.title)}",
        show_header=False,
        title_justify="left",
    )
    table.add_column("rule", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("description", escape(theme.description))
    table.add_row("colour", f"[{theme.colour}]■[/] {theme.colour}")
    table.add_row("matches when", _rule(theme))
    for group in theme.require:
        table.add_row(f"require {escape(group.title or group.name)}", _terms(group.terms))
    table.add_row("terms", _terms(theme.terms))
    if theme.exclude:
        table.add_row("exclude", _terms(theme.exclude))
    for group in theme.others:
        # Other actors: their name in a title asks for the context outside an aside.
        table.add_row(f"others {escape(group.title or group.name)}", _terms(group.terms))
    for group in theme.roundups:
        # Round-up markers: such a title must name every required group itself.
        table.add_row(f"roundups {escape(group.title or group.name)}", _terms(group.terms))
    if theme.verdict:
        # A verdict theme: its specific term in the title files it beside the dealings named.
        table.add_row("verdict", "a specific term in the title makes it a subject")
    return table


def _rule(theme: Theme) -> str:
    groups = " and ".join(escape(g.title or g.name) for g in theme.require) or "nothing"
    return (
        f"context has {groups}; no exclusion; score ≥ {theme.min_score:g} "
        "(weight × 2 in the title, × 1 in the summary, each term once)"
    )


def _terms(terms: Iterable[Term]) -> str:
    return ", ".join(escape(_term(t)) for t in terms)


def _term(term: Term) -> str:
    from bot.core.watchlist_editing.diff import term_options

    return f"{term.text} [{' '.join(term_options(term))}]"


def match(
    file: Annotated[str, typer.Argument(help="JSON Lines file of articles, or - for stdin")],
    watchlist: Annotated[
        str, typer.Option("--watchlist", help="Watchlist file or directory")
    ] = DEFAULT_PATH,
) -> None:
    """Match articles (JSON Lines: id, title, summary) and print one JSON line per article.

    Output lines, in input order: {"id": …, "themes": [slugs, best first], "why": {slug:
    explanation}}. A bad input line is reported on stderr with its number and skipped; the
    others are still matched, and the exit code is then 1.
    """
    from bot.core.watchlist import Matcher

    matcher = Matcher.from_watchlists(_load(watchlist))
    if file == "-":
        bad = _match_stream(matcher, sys.stdin, "stdin")
    else:
        try:
            with Path(file).open(encoding="utf-8") as stream:
                bad = _match_stream(matcher, stream, file)
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror or exc}")
        except UnicodeDecodeError as exc:
            fail(f"{file} is not UTF-8 text ({exc.reason}) — save it as UTF-8")
    if bad:
        errors.print(f"{bad} bad line{'s' if bad != 1 else ''} skipped", highlight=False)
        raise typer.Exit(1)


def _match_stream(matcher: Matcher, stream: TextIO, source: str) -> int:
    """Write a result line per input line; return how many lines were bad."""
    bad = 0
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue  # blank lines (a trailing newline, spacing) carry no article
        try:
            ident, title, summary = _article(line)
        except UserError as exc:
            bad += 1
            errors.print(
                f"[bold red]error:[/] {escape(f'{source}, line {number}: {exc}')}",
                highlight=False,
                soft_wrap=True,
            )
            continue
        found = matcher.match(title, summary)
        result = {
            "id": ident,
            "themes": [m.slug for m in found],
            "why": {m.slug: m.explanation for m in found},
        }
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return bad


def _article(line: str) -> tuple[str | int | float, str, str]:
    """(id, title, summary) of one input line, or a UserError saying what is wrong."""
    fix = 'each line must be one JSON object such as {"id": "a1", "title": "…", "summary": "…"}'
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"not valid JSON ({exc.msg} at column {exc.colno}) — {fix}") from None
    if not isinstance(item, dict):
        raise UserError(f"a JSON {type(item).__name__}, not an object — {fix}")
    ident = item.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int | float) or ident == "":
        raise UserError(f'"id" is missing or not a string or number — {fix}')
    title = item.get("title")
    if not isinstance(title, str):
        raise UserError(f'"title" is missing or not a string — {fix}')
    summary = item.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise UserError(f'"summary" is not a string — {fix}')
    return ident, title, summary or ""


@watchlist_app.command("export")
@run_async
async def export(
    to: Annotated[
        Path | None, typer.Option("--to", help="Write to this file instead of printing")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="This version, not the one in force")
    ] = None,
) -> None:
    """The stored watchlist as TOML, exactly as stored (comments included)."""
    from bot.core.watchlist_editing import NoWatchlist
    from storage.engine import Store

    store = await Store.open(load().database_url)
    try:
        async with store.transaction() as conn:
            if version is None:
                found = await conn.versions.latest()
            else:
                found = await conn.versions.get(version)
    finally:
        await store.close()
    if found is None:
        raise UserError(f"there is no version {version}" if version else str(NoWatchlist()))
    if to is None:
        sys.stdout.write(found.document)
        return
    try:
        to.write_text(found.document, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {to}: {exc.strerror or exc}") from None
    console.print(f"wrote watchlist v{found.version} to {escape(str(to))}", highlight=False)


@watchlist_app.command("import")
@run_async
async def import_(
    file: Annotated[Path, typer.Argument(help="A watchlist file (TOML) to store")],
) -> None:
    """Store FILE as the next version of the watchlist; running bots adopt it on their next
    check. Refused, with every problem, if it is not valid or drops a theme NKRU_ROUTES follows."""
    from bot.core.poll.pipeline import utcnow
    from bot.core.watchlist import WatchlistError
    from bot.core.watchlist_editing import WatchlistEditor, When
    from bot.core.watchlist_editing.files import read_watchlist_file
    from storage.engine import Store

    settings = load()
    try:
        found = read_watchlist_file(file)
    except WatchlistError as exc:
        _report_problems(exc)
        raise typer.Exit(2) from None
    routed = frozenset(t for r in settings.routes for t in r.route().themes or ())
    store = await Store.open(settings.database_url)
    try:
        editor = WatchlistEditor(store, utcnow, routed_themes=routed)
        author = _cli_author()
        try:
            saved = await editor.store_document(
                found.text, file, author, source="import", when=When.CHANGED
            )
        except WatchlistError as exc:
            await editor.audit_invalid(author, "watchlist import", str(file), exc)
            _report_problems(exc)
            raise typer.Exit(2) from None
    finally:
        await store.close()
    if saved is None:
        console.print(f"unchanged: {escape(str(file))} is the watchlist in force", highlight=False)
        return
    console.print(
        f"stored watchlist v{saved.info.version}: {escape(saved.info.change)}", highlight=False
    )


def _cli_author() -> Author:
    """The operator at the terminal, as the audit log and the history name them."""
    from bot.core.records import Author

    user = login_name()
    return Author("cli", user, user)
