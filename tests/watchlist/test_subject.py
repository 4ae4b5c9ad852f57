"""Main subject or passing mention (bot/core/watchlist/subject.py): each article is filed under
the themes it is about, and its explanation says which each was."""

from __future__ import annotations

import pytest

from bot.core.watchlist import Matcher, ThemeMatch, explain_text, load_watchlists
from bot.core.watchlist.normalize import normalize_term
from bot.core.watchlist.subject import LEAD_WORDS, background
from tests.watchlist.conftest import DEFAULT_WATCHLISTS


@pytest.fixture(scope="module")
def nkru() -> Matcher:
    return Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))


def themes(matches: list[ThemeMatch]) -> dict[str, str]:
    """slug -> its role ("main" or "also")."""
    return {m.slug: m.explanation["subject"] for m in matches}


@pytest.mark.parametrize(
    ("title", "summary", "filed", "passing"),
    [
        # A bridge story that recalls the leaders' visit is not a summit story.
        (
            "Russia and North Korea finish Tumen road bridge",
            "Work on the crossing began after Putin's visit to Pyongyang in June 2024.",
            {"tumen-bridge": "main"},
            "summits",
        ),
        # A technology story that says what it was paid with is not an arms-transfer story.
        (
            "Russia shares satellite technology with North Korea",
            "Seoul says Moscow is giving Pyongyang space technology in return for artillery "
            "shells.",
            {"military-tech": "main"},
            "arms-transfers",
        ),
        (
            "Россия передаёт КНДР спутниковые технологии",
            "Москва помогает Пхеньяну с ракетными двигателями в обмен на снаряды.",
            {"military-tech": "main"},
            "arms-transfers",
        ),
        # Korean puts the cue after the noun: "in return for the troops sent".
        (
            "러시아, 북한에 위성 기술 이전",
            "러시아가 북한군 파병의 대가로 정찰위성 기술을 넘겼다고 국정원이 밝혔다.",
            {"military-tech": "main"},
            "troops",
        ),
        # A summit story that also says when the troops first came.
        (
            "Choe Son Hui meets Putin in the Kremlin",
            "North Korea's foreign minister held talks with Sergei Lavrov in Moscow, weeks "
            "after North Korean troops were reported in Kursk.",
            {"summits": "main"},
            "troops",
        ),
    ],
)
def test_a_passing_mention_is_not_filed(
    nkru: Matcher, title: str, summary: str, filed: dict[str, str], passing: str
) -> None:
    matches = nkru.match(title, summary)
    assert themes(matches) == filed
    [main] = matches
    assert passing in main.explanation["passing"]
    assert f"; in passing: {passing} (" in explain_text(main)


def test_a_second_subject_is_filed_too(nkru: Matcher) -> None:
    # The title names both, the summary tells both: the subject model files both.
    matches = nkru.match(
        "Kim and Putin hold summit, open Tumen road bridge",
        "The leaders met at Khasan for summit talks and opened the road bridge across the Tumen.",
    )
    assert themes(matches) == {"summits": "main", "tumen-bridge": "also"}
    assert explain_text(matches[0]).endswith("score 5.8; also a subject (model 0.61)")
    assert explain_text(matches[1]).endswith("score 3.5; main subject (model 0.70)")
    assert matches[1].explanation["chance"] == 0.698
    assert matches[1].explanation["passing"] == {}


def test_a_state_visit_named_once_in_the_summary_is_a_passing_mention(nkru: Matcher) -> None:
    # Filed as a second subject before issue 18's fifth pass (a specific term counted); the
    # sets labelled by the main-subject rule call it a mention, and so does the model.
    [match] = nkru.match(
        "Russia and North Korea finish Tumen road bridge",
        "The crossing was agreed during Putin's state visit to Pyongyang in June 2024.",
    )
    assert match.slug == "tumen-bridge"
    assert match.explanation["passing"] == {"summits": "state visit"}
    assert match.explanation["chance"] is not None


def test_the_title_names_the_action_first(nkru: Matcher) -> None:
    # The sanctions are the news, the arms deals what they are about: named first in the
    # title, sanctions-evasion is the main subject though arms-transfers has the stronger
    # terms (before the fifth pass: arms-transfers alone, with the most about points).
    [match] = nkru.match(
        "US sanctions Russian firms over North Korean arms deals",
        "The Treasury designated five companies that shipped North Korean ammunition to Russia.",
    )
    assert match.slug == "sanctions-evasion"
    assert match.explanation["passing"] == {"arms-transfers": "arms deal, ammunition"}


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("After Putin's visit to Pyongyang, North Korea praises Russia", ""),
        # A North Korea story that dates itself by a summit is not a summit story.
        (
            "North Korea fires cruise missiles into the sea",
            "It was Pyongyang's first launch since Putin's visit in June, Seoul said.",
        ),
        # Two themes, both only in the background.
        (
            "North Korea holds parade",
            "The parade came weeks after Putin's visit and after the Tumen road bridge opened.",
        ),
    ],
)
def test_an_article_that_names_themes_only_in_the_background_is_about_none(
    nkru: Matcher, title: str, summary: str
) -> None:
    assert nkru.match(title, summary) == []


def test_the_main_subject_is_filed_when_anything_of_it_counts(nkru: Matcher) -> None:
    # "bridge" in the title counts (0.8, under tumen-bridge's min_score of 1.3): the article is
    # about the bridge, whose other words are in a background clause.
    [match] = nkru.match(
        "Seoul watches Russia–North Korea bridge",
        "Work resumed after the Tumen road bridge flooded.",
    )
    assert (match.slug, match.explanation["subject"], match.explanation["about"]) == (
        "tumen-bridge",
        "main",
        0.8,
    )
    mentions = {h["term"]: h["mention"] for h in match.explanation["hits"]}
    assert mentions == {"road bridge": "after 'after'", "Tumen": "after 'after'", "bridge": ""}


def test_a_background_clause_ends_at_a_comma(nkru: Matcher) -> None:
    matches = nkru.match("After the summit, Russia shipped artillery shells to North Korea", "")
    assert themes(matches) == {"arms-transfers": "main"}
    assert matches[0].explanation["hits"][0]["mention"] == ""
    assert "summits" in matches[0].explanation["passing"]


def test_words_of_a_more_specific_term_of_another_theme(nkru: Matcher) -> None:
    # "fighter jet" weighs 1.0 for military-tech, 0.5 for arms-transfers: the words are
    # military-tech's, and arms-transfers has nothing else.
    matches = nkru.match(
        "Kim tours fighter jet factory in Russia", "North Korea's leader looked on."
    )
    assert themes(matches) == {"military-tech": "main"}
    assert matches[0].explanation["passing"] == {"arms-transfers": "fighter jet"}
    hits = nkru.match(
        "Russia to give North Korea fighter jets and air defence for artillery shells",
        "Moscow will supply MiG-29 and Su-27 jets; Pyongyang sends ammunition, missiles and "
        "rocket launchers.",
    )
    arms = next(m for m in hits if m.slug == "arms-transfers")
    jet = next(h for h in arms.explanation["hits"] if h["term"] == "fighter jet")
    assert (jet["about"], jet["mention"]) == (0.0, "inside 'fighter jet'")


def test_the_words_that_set_the_main_subjects_scene_are_its_own(nkru: Matcher) -> None:
    # "UN" and "Security Council" are the UN context group's, which un-veto requires and
    # sanctions-evasion does not: in a veto story, "UN sanctions" is the veto's scene.
    matches = nkru.match(
        "Russia vetoes UN sanctions resolution on North Korea",
        "Moscow blocked the Security Council resolution on Thursday.",
    )
    assert themes(matches) == {"un-veto": "main"}
    why = matches[0].explanation
    assert why["passing"] == {"sanctions-evasion": "UN sanctions, Security Council resolution"}
    # Words a passing mention claimed are given back: none of un-veto's hits is a mention.
    assert [h["mention"] for h in why["hits"]] == [""] * len(why["hits"])


def test_generic_words_in_the_summary_do_not_make_a_second_subject(nkru: Matcher) -> None:
    # "cargo", "train", "logistics" (0.4 each, 1.2 in all) are the arms story's detail.
    title = "Russia receives North Korean artillery shells"
    matches = nkru.match(title, "The shells came by cargo train, logistics firms said.")
    assert themes(matches) == {"arms-transfers": "main"}
    assert matches[0].explanation["passing"] == {"energy-trade": "cargo, train, logistics"}
    # A specific term of the second theme ("bilateral trade", 1.0) makes it a subject.
    matches = nkru.match(title, "The shells came by cargo train as bilateral trade grew.")
    assert themes(matches) == {"arms-transfers": "main", "energy-trade": "also"}


def test_a_term_both_themes_list_alike_counts_for_both(nkru: Matcher) -> None:
    matches = nkru.match(
        "North Korean workers enter Russia on student visas to evade sanctions",
        "Labourers are employed on building sites in breach of sanctions.",
    )
    assert themes(matches) == {"troops": "main", "sanctions-evasion": "also"}
    for match in matches:
        visa = next(h for h in match.explanation["hits"] if h["term"] == "student visa")
        assert (visa["about"], visa["mention"]) == (2.0, "")


def test_deep_in_a_long_summary_a_single_mention_counts_half(nkru: Matcher) -> None:
    lead = "Russia and North Korea opened the Tumen road bridge on Monday. " + "Traffic " * (
        LEAD_WORDS - 10
    )
    once = nkru.match("Tumen road bridge opens", lead + "A summit is planned.")
    assert themes(once) == {"tumen-bridge": "main"}
    assert once[0].explanation["passing"] == {"summits": "summit"}
    lead = "Officials of Russia and North Korea spoke on Monday. " + "Traffic " * (LEAD_WORDS - 10)
    [once] = nkru.match("Russia and North Korea", lead + "A summit is planned.")
    [hit] = once.explanation["hits"]
    assert (hit["place"], hit["about"]) == ("body", 0.75)
    [twice] = nkru.match("Russia and North Korea", lead + "A summit is planned. The summit will…")
    [hit] = twice.explanation["hits"]
    assert (hit["place"], hit["about"]) == ("body", 1.5)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("talks after the summit, then", ["", "", "after", "after", ""]),
        ("in return for ammunition and troops.", ["", "", "", *["in return for"] * 3]),
        (
            "Russia–North Korea after Russia–North Korea",
            ["", "", "", "", "after", "after", "after"],
        ),
        ("파병의 대가로 기술을", ["대가로", "", ""]),
        ("no cue here", ["", "", ""]),
        # A verb, not a cue, after an auxiliary.
        ("it was following the bridge", ["", "", "", "", ""]),
        ("paid for with shells", ["", "", "paid for", "paid for"]),
    ],
)
def test_background_clauses(original: str, expected: list[str]) -> None:
    assert background(original, normalize_term(original)) == expected


@pytest.mark.parametrize(
    ("title", "summary", "goods"),
    [
        # Issue 18's seventh pass: a verdict theme's specific term in the title files it beside
        # the dealings the title names first, whatever the subject model weighs.
        (
            "Russian fuel reaches North Korean port despite UN ban",
            "A tanker unloaded diesel at Rajin.",
            "energy-trade",
        ),
        (
            "Japan adds Russian carriers of North Korean shells to blacklist",
            "The ships moved artillery ammunition.",
            "arms-transfers",
        ),
    ],
)
def test_a_verdict_in_the_title_is_a_subject_beside_the_goods(
    nkru: Matcher, title: str, summary: str, goods: str
) -> None:
    filed = themes(nkru.match(title, summary))
    assert filed[goods] == "main" and filed["sanctions-evasion"] == "also"
    [evasion] = [m for m in nkru.match(title, summary) if m.slug == "sanctions-evasion"]
    assert evasion.explanation["verdict"] in ("UN ban", "blacklist")
    assert "; verdict in the title: " in explain_text(evasion)


def test_a_verdict_named_only_in_the_summary_is_left_to_the_model(nkru: Matcher) -> None:
    matches = nkru.match(
        "Russian fuel reaches North Korean port", "Tankers unloaded diesel despite the UN ban."
    )
    assert [m.slug for m in matches] == ["energy-trade"]
    assert matches[0].explanation["verdict"] == ""
