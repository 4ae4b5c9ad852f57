"""Quality floors of the default watchlist, and the evaluation code that measures them.

The floors on the labelled set (tests/data/labelled.jsonl, the development set) were issue
3's — micro F1 over themes ≥ 0.9, no theme's F1 under 0.8, "should alert" F1 ≥ 0.9 — raised
with issue 18's main-subject rule and vocabulary to 0.93, 0.85 and 0.98. Issue 18's fifth pass
relabelled labelled, heldout and heldout2 blind by the main-subject rule (they had given
second themes liberally: 94 labelled items with two themes or more, 12 after), which took
the labelled set's figures down to 0.841 (theme micro F1) with the code of the time; the
subject model brought it to 0.865 (weakest theme 0.820, should alert 0.992), and the floors
are reset to that, less a small margin: 0.855, 0.80 and 0.98; the sixth pass (0.874) raised
the first to 0.865, the seventh (0.884) to 0.875. The held-out sets' floors are
lower, to catch a regression, not to be aimed at. ``benchmarks/quality.py`` prints every
figure and what fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.watchlist import Matcher, ThemeMatch, load_watchlists
from bot.core.watchlist.evaluate import (
    MISSED,
    NONE,
    Counts,
    Evaluation,
    LabelledItem,
    evaluate,
    figures,
    load_labelled,
    report,
)
from tests.watchlist.conftest import (
    DEFAULT_WATCHLISTS,
    HELDOUT,
    HELDOUT2,
    HELDOUT3,
    HELDOUT4,
    HELDOUT5,
    HELDOUT6,
    LABELLED,
)

MICRO_F1_FLOOR = 0.875
THEME_F1_FLOOR = 0.80
ALERT_F1_FLOOR = 0.98


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))


def _evaluate(matcher: Matcher, path: Path) -> Evaluation:
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return evaluate(matcher.match, load_labelled(path), matcher.themes)


def test_floors_on_the_labelled_set(matcher: Matcher) -> None:
    result = _evaluate(matcher, LABELLED)
    assert result.items == 392
    why = report(result, "labelled")  # shown on failure: what fails, by id
    assert result.micro.f1 >= MICRO_F1_FLOOR, why
    low = {slug: round(c.f1, 3) for slug, c in result.themes.items() if c.f1 < THEME_F1_FLOOR}
    assert not low, why
    assert result.alert.f1 >= ALERT_F1_FLOOR, why
    assert set(result.themes) == set(matcher.themes)


@pytest.mark.parametrize("path", [HELDOUT, HELDOUT2], ids=lambda p: p.name)
def test_floors_on_the_heldout_sets(matcher: Matcher, path: Path) -> None:
    result = _evaluate(matcher, path)
    assert result.items >= 40
    why = report(result, path.name)
    assert result.micro.f1 >= 0.9, why
    assert result.alert.f1 >= 0.97, why  # both 1.000 after issue 18's fourth pass


def test_floor_on_the_third_set(matcher: Matcher) -> None:
    """Written independently (theme micro F1 0.839, should-alert F1 0.960 when it was added),
    a development set since issue 18's third pass, which tuned on its errors and reached 0.866
    and 0.975 (the fourth pass: 0.865 and 0.978; the sixth: 0.926 and 0.988, 5 false alerts
    in its 121 hard negatives, down from 11; the seventh: 0.929 and 0.993, 2 false alerts):
    the floor is that, less a small margin."""
    result = _evaluate(matcher, HELDOUT3)
    assert result.items == 406
    why = report(result, HELDOUT3.name)
    assert result.micro.f1 >= 0.91, why
    assert result.alert.f1 >= 0.98, why
    assert result.alert.fp <= 3, why


def test_floor_on_the_sixth_set(matcher: Matcher) -> None:
    """Written blind during issue 18's fifth pass; its first look, with the code of that
    moment, was theme micro F1 0.807 and should-alert F1 0.942; then a development set (the
    subject model was trained on it, its errors read): the floor is the pass's figure less a
    small margin (the sixth pass: 0.888 and 0.973, 1 false alert in its 152 hard negatives,
    down from 6; the seventh: 0.906 and 0.978, 1 false alert)."""
    result = _evaluate(matcher, HELDOUT6)
    assert result.items == 477
    why = report(result, HELDOUT6.name)
    assert result.micro.f1 >= 0.89, why
    assert result.alert.f1 >= 0.96, why
    assert result.alert.fp <= 2, why


def test_floor_on_the_fourth_independent_set(matcher: Matcher) -> None:
    """A regression floor, not a target: written from the theme definitions alone by a helper
    who saw no code or data of ours; measured once before and once after the second quality
    pass (theme micro F1 0.900 → 0.901, should-alert F1 0.947 → 0.947). Never tuned against.
    Issue 18's fifth pass (the subject model, which files fewer second themes than this set's
    writer gave: 20 % of its positives have two) took theme micro F1 from 0.912 to 0.882: the
    floor, 0.89 until then, is 0.87."""
    result = _evaluate(matcher, HELDOUT4)
    assert result.items == 345
    why = report(result, HELDOUT4.name)
    assert result.micro.f1 >= 0.87, why
    assert result.alert.f1 >= 0.94, why


def test_floor_on_the_fifth_independent_set(matcher: Matcher) -> None:
    """A regression floor, not a target: written blind like the fourth, a third of its
    positives hard by design (the theme implied, a second theme in passing); measured before
    and after the third pass (theme micro F1 0.827 → 0.836, should-alert F1 0.930 → 0.937)."""
    result = _evaluate(matcher, HELDOUT5)
    assert result.items == 351
    why = report(result, HELDOUT5.name)
    assert result.micro.f1 >= 0.82, why
    assert result.alert.f1 >= 0.92, why


@pytest.mark.parametrize(
    "path", [HELDOUT, HELDOUT2, HELDOUT3, HELDOUT4, HELDOUT5, HELDOUT6], ids=lambda p: p.name
)
def test_heldout_sets_are_well_formed(path: Path) -> None:
    items = load_labelled(path)
    assert len({i.id for i in items}) == len(items)
    assert {i.lang for i in items} == {"en", "ru", "ko"}
    assert all(i.alert == bool(i.themes) for i in items)
    assert sum(1 for i in items if not i.alert) >= 15  # hard negatives
    slugs = set(Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS)).themes)
    assert set().union(*(i.themes for i in items)) == slugs  # every theme has positives


def test_figures_only_name_no_article() -> None:
    """What a blind set may show: figures, no ids and no confusion."""
    items = [_item("secret-1", "en", {"x"}), _item("secret-2", "ru", set())]

    def match(title: str, summary: str) -> list[ThemeMatch]:
        return [ThemeMatch("x", 1.0, lambda: {})]  # type: ignore[arg-type,return-value]

    result = evaluate(match, items, ["x"])
    text = figures(result, "blind")
    assert "secret" not in text and "confusion" not in text
    assert "  themes (micro)        0.500  1.000  0.667     1    1    0" in text
    assert report(result, "blind").startswith(text)
    assert "false alerts: secret-2 x" in report(result, "blind")


def test_counts() -> None:
    assert (Counts(8, 2, 0).precision, Counts(8, 2, 0).recall) == (0.8, 1.0)
    assert Counts(3, 1, 1).f1 == pytest.approx(0.75)
    assert Counts().f1 == 1.0  # nothing wanted, nothing found
    assert Counts(0, 2, 0).f1 == 0.0


def _item(id_: str, lang: str, themes: set[str]) -> LabelledItem:
    return LabelledItem(id_, lang, id_, "", frozenset(themes), bool(themes))


def test_evaluate_counts_themes_alerts_and_languages() -> None:
    answers = {"a": ["x"], "b": ["x", "y"], "c": [], "d": ["y"]}
    items = [
        _item("a", "en", {"x"}),  # right
        _item("b", "en", {"x"}),  # y is a false hit
        _item("c", "ru", {"y"}),  # y missed: a missed alert
        _item("d", "ru", set()),  # a false alert
    ]

    def match(title: str, summary: str) -> list[ThemeMatch]:
        return [ThemeMatch(slug, 1.0, lambda: {}) for slug in answers[title]]  # type: ignore[arg-type,return-value]

    result = evaluate(match, items, ["x", "y", "z"])
    assert (result.themes["x"].tp, result.themes["x"].fp, result.themes["x"].fn) == (2, 0, 0)
    assert (result.themes["y"].tp, result.themes["y"].fp, result.themes["y"].fn) == (0, 2, 1)
    assert result.themes["z"].f1 == 1.0  # never wanted, never found
    assert (result.micro.tp, result.micro.fp, result.micro.fn) == (2, 2, 1)
    assert (result.alert.tp, result.alert.fp, result.alert.fn) == (2, 1, 1)
    assert result.misses == [("c", "y")]
    assert result.false_hits == [("b", "y"), ("d", "y")]
    assert result.missed_alerts == ["c"]
    assert result.false_alerts == [("d", "y")]
    en_themes, en_alert = result.by_lang["en"]
    assert (en_themes.tp, en_themes.fp, en_alert.tp) == (2, 1, 2)
    text = report(result, "toy")
    assert "toy: 4 articles" in text and "missed (id theme): c y" in text


def test_confusion_says_which_theme_was_given_for_which() -> None:
    answers = {"a": ["x"], "b": ["x", "y"], "c": [], "d": ["y"], "e": ["z"], "f": ["x", "z"]}
    items = [
        _item("a", "en", {"x"}),  # right
        _item("b", "en", {"x"}),  # y given besides x
        _item("c", "en", {"y"}),  # y missed, nothing given
        _item("d", "en", set()),  # y given on a hard negative
        _item("e", "en", {"x"}),  # z given instead of x
        _item("f", "en", {"x", "y"}),  # z given besides x, and instead of y
    ]

    def match(title: str, summary: str) -> list[ThemeMatch]:
        return [ThemeMatch(slug, 1.0, lambda: {}) for slug in answers[title]]  # type: ignore[arg-type,return-value]

    result = evaluate(match, items, ["x", "y", "z"])
    assert result.confusion == {
        ("x", "x"): 3,
        ("x", "y"): 1,
        ("x", MISSED): 1,
        ("x", "z"): 2,
        ("y", MISSED): 2,
        ("y", "z"): 1,
        (NONE, "y"): 1,
    }
    assert result.instead == {("x", "z"): 1, ("y", "z"): 1}
    text = report(result, "toy")
    wrong = "z on x 2, y on (none) 1, y on x 1, z on y 1"
    assert f"wrong theme given (given on labelled, articles): {wrong}" in text
    assert "given instead of a missed theme: z instead of x 1, z instead of y 1" in text
    assert "  1 x                    3    1    2       1" in text  # the row of x


def test_load_labelled_reads_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    row = {"id": "p-1", "lang": "en", "title": "T", "summary": "S", "themes": ["x"]}
    path.write_text(json.dumps({**row, "alert": True}) + "\n\n", encoding="utf-8")
    assert load_labelled(path) == [LabelledItem("p-1", "en", "T", "S", frozenset({"x"}), True)]
