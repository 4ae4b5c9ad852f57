"""Loading and validating watchlists: every problem names file, line, field and a fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.watchlist import WatchlistError, load_watchlist, load_watchlists
from bot.core.watchlist.normalize import scripts
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, MINIMAL

Write = Callable[..., Path]

REQUIRED_SLUGS = {
    "tumen-bridge",
    "arms-transfers",
    "troops",
    "un-veto",
    "sanctions-evasion",
    "summits",
    "energy-trade",
    "military-tech",
}


def problems_of(path: Path) -> list[str]:
    with pytest.raises(WatchlistError) as caught:
        load_watchlists(path)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_watchlist_loads_with_defaults(write: Write) -> None:
    watchlist = load_watchlist(write(MINIMAL))
    theme = watchlist.themes[0]
    assert (watchlist.name, theme.slug, theme.colour, theme.min_score) == (
        "mini",
        "tumen-bridge",
        "#2e86de",
        1.0,
    )
    terms = {t.text: t for t in theme.terms}
    assert terms["Tumen"].weight == 1.5 and terms["Tumen"].mode == "word"
    assert not terms["Tumen"].fuzzy  # five letters: never fuzzy
    assert terms["Tumangang"].fuzzy  # a name of nine letters
    assert not terms["road bridge"].fuzzy  # lower-case vocabulary
    assert terms["Туманн"].mode == "prefix" and terms["두만강"].mode == "prefix"
    assert [g.name for g in theme.require] == ["north-korea", "russia"]


def test_syntax_error_reports_file_and_line(write: Write) -> None:
    text = MINIMAL.replace('colour = "#2e86de"', 'colour = "#2e86de"\nmin_score = = 2')
    path = write(text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'min_score = = 2')}: TOML syntax error")
    assert "column" in problem and "toml.io" in problem


def test_unknown_key_is_an_error_with_a_suggestion(write: Write) -> None:
    text = MINIMAL.replace('exclude = ["Yalu"]', 'exlude = ["Yalu"]')
    path = write(text)
    [problem] = problems_of(path)
    assert problem == (
        f'{path}:{line_of(text, "exlude")}: themes[0].exlude: unknown key "exlude" '
        '— did you mean "exclude"?'
    )


def test_unknown_key_in_an_inline_term(write: Write) -> None:
    text = MINIMAL.replace('{ text = "Tumen", weight = 1.5 }', '{ text = "Tumen", wieght = 1.5 }')
    path = write(text)
    [problem] = problems_of(path)
    assert f"{path}:{line_of(text, 'wieght')}: themes[0].terms[0].wieght" in problem
    assert 'did you mean "weight"?' in problem


def test_bad_colour(write: Write) -> None:
    text = MINIMAL.replace('"#2e86de"', '"#12345"')
    path = write(text)
    [problem] = problems_of(path)
    assert problem == (
        f'{path}:{line_of(text, "#12345")}: themes[0].colour: "#12345" is not a colour '
        '— use "#rrggbb"'
    )


def test_duplicate_slug_across_files(write: Write, tmp_path: Path) -> None:
    write(MINIMAL, "a.toml")
    second = MINIMAL.replace('name = "mini"', 'name = "other"')
    write(second, "b.toml")
    [problem] = problems_of(tmp_path)
    expected_line = line_of(second, 'slug = "tumen-bridge"')
    assert problem.startswith(f"{tmp_path / 'b.toml'}:{expected_line}: themes[0].slug:")
    assert f"also in {tmp_path / 'a.toml'}:{expected_line}" in problem
    assert "unique across watchlist files" in problem


def test_duplicate_watchlist_name_across_files(write: Write, tmp_path: Path) -> None:
    write(MINIMAL, "a.toml")
    write(MINIMAL.replace('"tumen-bridge"', '"bridge-two"'), "b.toml")
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path / 'b.toml'}:2: watchlist.name:")


def test_unknown_group(write: Write) -> None:
    text = MINIMAL.replace(
        'require = ["north-korea", "russia"]', 'require = ["north-korea", "rusia"]'
    )
    path = write(text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'rusia')}: themes[0].require[1]:")
    assert 'unknown group "rusia"' in problem and "north-korea, russia" in problem


def test_empty_terms(write: Write) -> None:
    text = MINIMAL.replace('terms = ["Russia", "Moscow", "Росси", "러시아"]', "terms = []")
    path = write(text)
    [problem] = problems_of(path)
    assert problem == (
        f"{path}:{line_of(text, 'terms = []')}: groups.russia.terms: the list of terms is "
        "empty — add at least one term"
    )


def test_term_in_a_multi_line_list_points_at_its_own_line(write: Write) -> None:
    one_line = 'terms = [{ text = "Tumen", weight = 1.5 }, "road bridge", "Tumangang", "Туманн"'
    text = MINIMAL.replace(
        one_line + ', "두만강"]',
        'terms = [\n  "Tumen",\n  "road bridge",\n  { text = "Tumangang", mode = "fuzzy" },\n]',
    )
    path = write(text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'mode = ')}: themes[0].terms[2].mode:")
    assert 'use "word", "phrase", "prefix"' in problem


def test_every_problem_is_reported_at_once(write: Write) -> None:
    text = MINIMAL.replace('"#2e86de"', '"blue"').replace('slug = "tumen-bridge"', 'slug = "Tumen"')
    problems = problems_of(write(text))
    assert len(problems) == 2
    assert any("themes[0].slug" in p for p in problems)
    assert any("themes[0].colour" in p for p in problems)


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ('{ text = "Tumen", fuzzy = true }', "too short for fuzzy matching"),
        ('{ text = "Туманн", fuzzy = true }', "one word of 7+ letters"),
        ('{ text = "Северн Коре", fuzzy = true }', "one word of 7+ letters"),
        ('{ text = "북한", except = ["북"] }', "does not start with the term"),
        ('{ text = "북한", except = "북한산" }', "is not a list of strings"),
        ('{ text = "Tumen", weight = 0 }', "out of range"),
        ('{ text = "Tumen", weight = true }', "true is not a number"),
        ('"—"', "has no letters or digits"),
        ('"Tumen", "TUMEN"', "repeats item 0"),
        ("42", "42 is not a table"),
    ],
)
def test_bad_terms(write: Write, term: str, message: str) -> None:
    text = MINIMAL.replace('exclude = ["Yalu"]', f"exclude = [{term}]")
    path = write(text)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(text, 'exclude = [')}: themes[0].exclude[")
    assert message in problems[0]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    [missing] = problems_of(tmp_path / "nope.toml")
    assert "no such file or directory" in missing
    [empty] = problems_of(tmp_path)
    assert "no *.toml files" in empty


def test_default_watchlist_passes_and_has_the_themes() -> None:
    [watchlist] = load_watchlists(DEFAULT_WATCHLISTS)
    assert {t.slug for t in watchlist.themes} >= REQUIRED_SLUGS
    for theme in watchlist.themes:
        assert theme.description and theme.colour.startswith("#")
        found = set().union(*(scripts(t.text) for t in theme.terms))
        assert {"LATIN", "CYRILLIC", "HANGUL"} <= found, f"{theme.slug} lacks a language"
        for group in theme.require:
            group_scripts = set().union(*(scripts(t.text) for t in group.terms))
            assert {"LATIN", "CYRILLIC", "HANGUL"} <= group_scripts, group.name


def test_default_watchlist_has_the_usual_transliterations() -> None:
    [watchlist] = load_watchlists(DEFAULT_WATCHLISTS)
    every = {t.text for theme in watchlist.themes for t in theme.terms} | {
        t.text for theme in watchlist.themes for g in theme.require for t in g.terms
    }
    for text in ("Tumen", "Tumannaya", "Туманн", "두만강", "DPRK", "N. Korea", "Pyongyang"):
        assert text in every
    for text in ("КНДР", "북한", "Kremlin", "Moscow", "Росси", "러시아", "Khasan", "Tumangang"):
        assert text in every


def test_verdict_is_a_boolean_off_by_default(write: Write) -> None:
    assert load_watchlist(write(MINIMAL)).themes[0].verdict is False
    on = MINIMAL.replace('colour = "#2e86de"', 'colour = "#2e86de"\nverdict = true')
    assert load_watchlist(write(on)).themes[0].verdict is True
    text = MINIMAL.replace('colour = "#2e86de"', 'colour = "#2e86de"\nverdict = "yes"')
    path = write(text)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:{line_of(text, 'verdict')}: themes[0].verdict:")
    assert "is not true or false" in problem
