"""What the loader and the compiler keep by content (`bot.core.watchlist.kept`) never changes a
result: a draft loaded and compiled after others gives exactly what a cold start gives."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator

import pytest

from bot.core.models import ThemeHit
from bot.core.theme_hits import theme_hit
from bot.core.watchlist import compile as compile_module
from bot.core.watchlist import load, matcher, pieces, terms, validate
from bot.core.watchlist.load import load_watchlist_text, parse_document
from bot.core.watchlist.matcher import Matcher
from bot.core.watchlist.model import Watchlist, WatchlistError
from bot.core.watchlist_editing.document import add_terms, delete_theme, new_theme, remove_terms
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, HELDOUT2, LABELLED

DOCUMENT = (DEFAULT_WATCHLISTS / "nkru.toml").read_text(encoding="utf-8")
NAME = "nkru.toml"


def _drafts() -> dict[str, str]:
    """Edits of the default watchlist, each of one kind a preview sees."""
    nk_group = 'terms = [\n  "North Korea", '
    assert nk_group in DOCUMENT and "min_score = 1.3" in DOCUMENT
    return {
        "term added": add_terms(DOCUMENT, "tumen-bridge", ["pontoon crossing"]),
        "exclusion added": add_terms(DOCUMENT, "troops", ["Kursk"], "exclude"),
        "Korean term added": add_terms(DOCUMENT, "summits", ["정상회담장"]),
        "fuzzy name added": add_terms(DOCUMENT, "military-tech", ["Tsiolkovsky Launchpad"]),
        "term removed": remove_terms(DOCUMENT, "tumen-bridge", ["road link"])[0],
        "context group changed": DOCUMENT.replace(nk_group, nk_group + '"Hermit Kingdom", '),
        "min score changed": DOCUMENT.replace("min_score = 1.3", "min_score = 2.5", 1),
        "other context required": DOCUMENT.replace(
            'require = ["north-korea", "un"]', 'require = ["north-korea", "russia"]', 1
        ),
        "theme deleted": delete_theme(DOCUMENT, "energy-trade"),
        "theme added": new_theme(DOCUMENT, "kaesong", "Kaesong"),
        "two themes changed": add_terms(
            add_terms(DOCUMENT, "un-veto", ["veto power"]), "troops", ["Kursk"], "exclude"
        ),
    }


DRAFTS = _drafts()


def forget() -> None:
    """Everything the loader and the compiler keep, forgotten: a cold start."""
    for kept in (load._PARSED, validate._GROUPS, validate._THEMES):
        kept.clear()
    matcher._BYTES_AUTOMATA.clear()
    matcher._TEXT_AUTOMATA.clear()
    for cached in (
        compile_module._variants,
        compile_module._slot_parts,
        compile_module._exception_pattern,
        pieces._cuts,
        terms.default_mode,
        terms.default_fuzzy,
    ):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def cold() -> Iterator[None]:
    forget()
    yield
    forget()


def articles() -> list[tuple[str, str]]:
    rows = []
    for path in (LABELLED, HELDOUT2):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            rows.append((item["title"], item["summary"]))
    return rows


ARTICLES = articles()


def hits(compiled: Matcher) -> list[list[ThemeHit]]:
    """Every test article's matches, with scores and explanations."""
    return [[theme_hit(m) for m in compiled.match(title, summary)] for title, summary in ARTICLES]


def warm_up(but: str) -> None:
    """Load and compile the version in force and every other draft, as previews before."""
    for text in (DOCUMENT, *(text for name, text in DRAFTS.items() if name != but)):
        Matcher.from_watchlists([load_watchlist_text(text, NAME)])


@pytest.mark.parametrize("name", list(DRAFTS))
def test_a_draft_after_others_loads_and_compiles_as_when_cold(name: str) -> None:
    draft = DRAFTS[name]
    cold_watchlist = load_watchlist_text(draft, NAME)
    cold = Matcher.from_watchlists([cold_watchlist])
    cold_hits = hits(cold)
    forget()
    warm_up(but=name)
    warm_watchlist = load_watchlist_text(draft, NAME)
    warm = Matcher.from_watchlists([warm_watchlist])
    assert warm_watchlist == cold_watchlist
    assert warm.compiled == cold.compiled  # slots, pieces of fuzzy terms, themes, bits
    assert warm.keys == cold.keys
    assert hits(warm) == cold_hits
    assert sum(map(bool, cold_hits)) > 100  # the articles do exercise the themes


def test_the_drafts_differ_from_the_document_where_they_should() -> None:
    loaded = load_watchlist_text(DOCUMENT, NAME)
    for name, draft in DRAFTS.items():
        assert load_watchlist_text(draft, NAME) != loaded, name


# Documents whose `[[themes]]` lines are not all cuts where each part parses alone, or whose
# parts are something else than one theme table each.
AWKWARD = {
    "header in a multi-line string": DOCUMENT.replace(
        'title = "UN veto"', 'title = "UN veto"\nnote = """\n[[themes]]\nslug = "x"\n"""', 1
    ),
    "indented header with a comment": DOCUMENT.replace(
        '[[themes]]\nslug = "troops"', '  [[themes]]  # troops\nslug = "troops"', 1
    ),
    "header with spaces": DOCUMENT.replace(
        '[[themes]]\nslug = "troops"', '[[ themes ]]\nslug = "troops"', 1
    ),
    "a table after a theme": DOCUMENT + '\n[groups.extra]\nterms = ["Kaesong"]\n',
    "a theme's sub-table": DOCUMENT + '\n[themes.extra]\nnote = "x"\n',
    "themes in the head": DOCUMENT.replace("[watchlist]", "themes = []\n[watchlist]", 1),
    "syntax error in a theme": DOCUMENT.replace('slug = "troops"', 'slug = "troops', 1),
    "syntax error in the head": DOCUMENT.replace("[groups.un]", "[groups.un", 1),
    "windows line ends": DOCUMENT.replace("\n", "\r\n"),
    "no themes": DOCUMENT[: DOCUMENT.index("[[themes]]")],
}


@pytest.mark.parametrize("text", [DOCUMENT, *DRAFTS.values(), *AWKWARD.values()])
def test_parse_document_gives_what_tomllib_gives(text: str) -> None:
    try:
        expected: dict[str, object] | str = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        expected = str(error)
    for _ in range(2):  # cold, then with the parts kept
        try:
            found: dict[str, object] | str = parse_document(text)[0]
        except tomllib.TOMLDecodeError as error:
            found = str(error)
        assert found == expected


def test_documents_of_theme_tables_are_parsed_in_parts() -> None:
    assert parse_document(DOCUMENT)[1] is not None
    assert parse_document(DRAFTS["theme added"])[1] is not None
    assert parse_document(AWKWARD["header in a multi-line string"])[1] is None


def problems(text: str) -> list[str]:
    with pytest.raises(WatchlistError) as caught:
        load_watchlist_text(text, NAME)
    return [str(problem) for problem in caught.value.problems]


UN_GROUP = '[groups.un]\ntitle = "UN"\nterms'
BROKEN = {
    "slug of another theme": DOCUMENT.replace('slug = "troops"', 'slug = "tumen-bridge"', 1),
    "unknown group": DOCUMENT.replace(
        'require = ["north-korea", "un"]', 'require = ["north-korea", "nato"]', 1
    ),
    "bad colour in one theme": DOCUMENT.replace('colour = "#16a085"', 'colour = "teal"', 1),
    "group without terms": DOCUMENT.replace(UN_GROUP, UN_GROUP.replace("terms", "words"), 1),
    "misspelt key": DOCUMENT.replace("min_score = 1.3", "min_scor = 1.3", 1),
    "syntax error in a theme": AWKWARD["syntax error in a theme"],
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_draft_after_others_has_the_problems_it_has_when_cold(name: str) -> None:
    cold = problems(BROKEN[name])
    forget()
    warm_up(but="")
    for _ in range(2):  # and again, with what it left kept
        assert problems(BROKEN[name]) == cold
    assert load_watchlist_text(DOCUMENT, NAME) == load_watchlist_text(DOCUMENT, NAME)


def test_the_broken_drafts_are_broken_as_meant() -> None:
    assert UN_GROUP in DOCUMENT
    assert any("duplicate slug" in p for p in problems(BROKEN["slug of another theme"]))
    assert any("unknown group" in p for p in problems(BROKEN["unknown group"]))


def test_concurrent_loads_and_compiles_give_the_cold_results() -> None:
    chosen = ["term added", "Korean term added", "context group changed", "theme deleted"]
    expected: dict[str, tuple[Watchlist, object]] = {}
    for name in chosen:
        forget()
        watchlist = load_watchlist_text(DRAFTS[name], NAME)
        expected[name] = (watchlist, Matcher.from_watchlists([watchlist]).compiled)
    forget()
    failures: list[str] = []

    def work(offset: int) -> None:
        for round_ in range(6):
            name = chosen[(offset + round_) % len(chosen)]
            watchlist = load_watchlist_text(DRAFTS[name], NAME)
            compiled = Matcher.from_watchlists([watchlist]).compiled
            if (watchlist, compiled) != expected[name]:
                failures.append(name)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
