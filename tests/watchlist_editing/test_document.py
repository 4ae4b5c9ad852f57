"""Comment-preserving edits of the watchlist text, checked with the real loader."""

from __future__ import annotations

import difflib
import tomllib

import pytest

from bot.core.watchlist.load import load_watchlist_text
from bot.core.watchlist_editing.diff import LAYOUT_ONLY, MINUS, diff_watchlists, summary
from bot.core.watchlist_editing.document import (
    EditError,
    add_terms,
    delete_theme,
    new_theme,
    remove_terms,
    theme_slugs,
)
from tests.watchlist_editing.harness import WATCHLIST

TEXT = WATCHLIST.read_text(encoding="utf-8")
BRIDGE_COMMENT = "# The road bridge and border crossing over the Tumen River"
TROOPS_COMMENT = "# North Korean soldiers, engineers or workers sent to fight"
VETO_COMMENT = "# UN Security Council vetoes and blocking that concern North Korea"


def changed_lines(before: str, after: str) -> list[str]:
    """The lines added (+) and removed (-), as a unified diff shows them."""
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def test_adding_terms_keeps_every_comment_and_line() -> None:
    edited = add_terms(TEXT, "tumen-bridge", ["Rason", "Tumannaya River"])

    assert changed_lines(TEXT, edited) == ['+  "Rason", "Tumannaya River",']
    theme = load_watchlist_text(edited, "nkru.toml").themes[0]
    assert [t.text for t in theme.terms[-2:]] == ["Rason", "Tumannaya River"]


def test_a_first_exclusion_goes_after_the_theme_keys_not_under_the_next_comment() -> None:
    edited = add_terms(TEXT, "arms-transfers", ["air show"], "exclude")

    assert changed_lines(TEXT, edited) == ['+exclude = ["air show"]']
    lines = edited.splitlines()
    added = lines.index('exclude = ["air show"]')
    assert lines[added + 1] == "" and lines[added + 2].startswith(TROOPS_COMMENT)
    arms = load_watchlist_text(edited, "nkru.toml").themes[1]
    assert [t.text for t in arms.exclude] == ["air show"]


def test_a_first_exclusion_in_the_last_theme_goes_after_its_keys() -> None:
    last = theme_slugs(TEXT)[-1]
    without_newline = TEXT.rstrip("\n")

    for text in (TEXT, without_newline):
        edited = add_terms(text, last, ["air show"], "exclude")

        added = changed_lines(text, edited)
        assert '+exclude = ["air show"]' in added
        assert all(line.startswith("+") or line.lstrip("-").strip() for line in added)
        theme = load_watchlist_text(edited, "nkru.toml").themes[-1]
        assert [t.text for t in theme.exclude] == ["air show"]


def test_a_first_exclusion_in_an_inline_theme() -> None:
    text = 'themes = [{ slug = "a", title = "A", terms = ["Rason"] }]\n'

    edited = add_terms(text, "a", ["air show"], "exclude")

    assert edited.startswith('themes = [{ slug = "a", title = "A", terms = ["Rason"], exclude')
    assert tomllib.loads(edited)["themes"][0]["exclude"] == ["air show"]


def test_removing_finds_terms_and_exclusions_whatever_their_case() -> None:
    edited, where = remove_terms(TEXT, "tumen-bridge", ["tumangang", "DANDONG"])

    assert where == ["terms", "exclude"]
    theme = load_watchlist_text(edited, "nkru.toml").themes[0]
    assert "Tumangang" not in [t.text for t in theme.terms]
    assert "Dandong" not in [t.text for t in theme.exclude]
    assert len(changed_lines(TEXT, edited)) == 4  # two lines changed, comments untouched


def test_deleting_a_theme_takes_its_comment_and_leaves_the_others() -> None:
    edited = delete_theme(TEXT, "troops")

    assert theme_slugs(edited) == [s for s in theme_slugs(TEXT) if s != "troops"]
    assert TROOPS_COMMENT not in edited
    assert VETO_COMMENT in edited and BRIDGE_COMMENT in edited
    assert all(line.startswith("-") for line in changed_lines(TEXT, edited))
    load_watchlist_text(edited, "nkru.toml")


@pytest.mark.parametrize("slug", ["tumen-bridge", "military-tech"])
def test_deleting_the_first_or_last_theme(slug: str) -> None:
    edited = delete_theme(TEXT, slug)

    assert slug not in theme_slugs(edited) and len(theme_slugs(edited)) == 7
    assert edited.endswith("]\n") and not edited.endswith("\n\n")
    assert "[groups.un]" in edited and "# ---" in edited  # what precedes the themes stays
    load_watchlist_text(edited, "nkru.toml")


def test_a_new_theme_gets_the_shared_context_a_free_colour_and_its_title_as_term() -> None:
    edited = new_theme(TEXT, "kaesong", "Kaesong Industrial Complex")

    assert edited.startswith(TEXT.rstrip("\n") + "\n\n[[themes]]\n")
    theme = load_watchlist_text(edited, "nkru.toml").themes[-1]
    assert (theme.slug, theme.title) == ("kaesong", "Kaesong Industrial Complex")
    assert [g.name for g in theme.require] == ["north-korea"]  # un-veto needs the UN, not Russia
    assert [t.text for t in theme.terms] == ["Kaesong Industrial Complex"]
    others = {t.colour for t in load_watchlist_text(TEXT, "nkru.toml").themes}
    assert theme.colour not in others


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda: add_terms(TEXT, "tumen-bridge", ["tumen"]),
            'tumen-bridge already has the term "tumen"',
        ),
        (lambda: add_terms(TEXT, "tumen-bridge", ["Yalu"], "exclude"), "already has the exclusion"),
        (lambda: add_terms(TEXT, "nope", ["x"]), "unknown theme 'nope'"),
        (
            lambda: remove_terms(TEXT, "troops", ["Tumen"]),
            'troops has no term or exclusion "Tumen"',
        ),
        (lambda: new_theme(TEXT, "troops", "Again"), "there is already a theme 'troops'"),
        (lambda: new_theme(TEXT, "Big News", "x"), "'Big News' is not a slug"),
        (lambda: delete_theme(TEXT, "nope"), "unknown theme 'nope'"),
    ],
)
def test_edits_that_cannot_be_made_say_why(edit: object, message: str) -> None:
    with pytest.raises(EditError) as raised:
        edit()  # type: ignore[operator]
    assert message in raised.value.message


def test_unknown_theme_hints_at_the_slugs() -> None:
    with pytest.raises(EditError) as raised:
        add_terms(TEXT, "nope", ["x"])
    assert raised.value.hint is not None and "tumen-bridge, arms-transfers" in raised.value.hint


def test_the_diff_names_every_change_and_its_theme() -> None:
    old = load_watchlist_text(TEXT, "nkru.toml")
    edited = add_terms(TEXT, "tumen-bridge", ["Rason"])
    edited = remove_terms(edited, "tumen-bridge", ["Dandong"])[0]
    edited = delete_theme(edited, "troops")
    edited = new_theme(edited, "kaesong", "Kaesong")
    edited = edited.replace("min_score = 1.3", "min_score = 1.5")
    edited = edited.replace('"Kursk", "Khabarovsk"', '"Khabarovsk"')  # a context group term

    lines = diff_watchlists(old, load_watchlist_text(edited, "nkru.toml"))

    assert lines == [
        f"{MINUS} theme troops",
        "~ tumen-bridge min_score 1.3 → 1.5",
        '+ term "Rason" (word) in tumen-bridge',
        f'{MINUS} exclude "Dandong" (word) from tumen-bridge',
        '+ theme kaesong "Kaesong" (1 term)',
        f'{MINUS} term "Kursk" (word) from group russia',
    ]


def test_a_comment_only_change_says_so() -> None:
    old = load_watchlist_text(TEXT, "nkru.toml")
    new = load_watchlist_text(TEXT + "# a note\n", "nkru.toml")

    assert diff_watchlists(old, new) == []
    assert summary([]) == LAYOUT_ONLY


def test_a_long_summary_is_cut_but_still_names_the_themes() -> None:
    lines = [f'+ term "word{n}" (word) in troops' for n in range(30)] + ["− theme summits"]

    text = summary(lines, ["summits", "troops", "un-veto"], limit=200)

    assert len(text) < 220 and text.startswith('+ term "word0" (word) in troops; ')
    assert text.endswith("more in summits, troops")


def test_the_diff_names_a_verdict_switched_off() -> None:
    old = load_watchlist_text(TEXT, "nkru.toml")
    assert sum(theme.verdict for theme in old.themes) == 1  # sanctions-evasion
    edited = TEXT.replace("verdict = true\n", "")
    lines = diff_watchlists(old, load_watchlist_text(edited, "nkru.toml"))
    assert lines == ["~ sanctions-evasion verdict true → false"]
