"""Another actor's story (bot/core/watchlist/asides.py): a theme with ``others`` is not filed
when the title names another actor and a required country is named only in an aside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.watchlist import Matcher, WatchlistError, load_watchlist, load_watchlists
from bot.core.watchlist.asides import sentence_starts, sentences_of
from bot.core.watchlist.normalize import normalize
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, MINIMAL

Write = Callable[..., Path]

# MINIMAL with a group of other actors, listed by the theme's ``others``.
WITH_OTHERS = MINIMAL.replace(
    "[[themes]]",
    '[groups.others]\ntitle = "Other countries"\nterms = ["China", "Chinese", "Китай", "중국"]\n\n'
    "[[themes]]",
).replace(
    'require = ["north-korea", "russia"]',
    'require = ["north-korea", "russia"]\nothers = ["others"]',
)


@pytest.fixture(scope="module")
def nkru() -> Matcher:
    return Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))


def slugs_of(matcher: Matcher, title: str, summary: str) -> list[str]:
    return [m.slug for m in matcher.match(title, summary)]


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("One two. Three four! Five? Six", [2, 4, 5]),
        ("Seen by N. Korea and U.S. officials. Then more", [7]),  # abbreviations
        ("첫 문장이다. 둘째 문장이다.", [2]),  # Korean sentences end with a full stop too
        ("Один. Два…", [1]),
        ("No full stop at all", []),
    ],
)
def test_sentence_starts(text: str, starts: list[int]) -> None:
    assert sentence_starts(text) == starts


def test_every_occurrence_of_a_term_has_its_sentence() -> None:
    words = normalize("Tourists came. Chinese visitors too. More tourists, and tourism.").strip()
    start = words.index("tourist")
    starts = sentence_starts("Tourists came. Chinese visitors too. More tourists, and tourism.")
    # The first hit is all a found term keeps; its words occur again in sentence 2.
    assert sentences_of(starts, words, start, start + len("tourist")) == [0, 2]
    # Not inside a word: "ist" starts no word.
    inner = words.index("ist")
    assert sentences_of(starts, words, inner, inner + 3) == [0]


def test_a_country_named_only_in_an_aside_of_another_actors_story(write: Write) -> None:
    matcher = Matcher.from_watchlists([load_watchlist(write(WITH_OTHERS))])
    aside = "Officials also cited the ties between North Korea and Russia."
    # The title names China; North Korea and Russia only in the last sentence, without the
    # theme's words: China's story.
    assert slugs_of(matcher, "Chinese tourists flock to the Tumen", "Crowds grew. " + aside) == []
    # Named in the first sentence, or beside the theme's words, they are this story's.
    assert slugs_of(matcher, "Chinese tourists flock to the Tumen", aside + " Crowds grew.") == [
        "tumen-bridge"
    ]
    beside = "Crowds grew. North Korea and Russia open the Tumen road bridge."
    assert slugs_of(matcher, "Chinese tourists flock to the Tumen", beside) == ["tumen-bridge"]
    # A title that names no other actor, or both countries, asks nothing more.
    assert slugs_of(matcher, "Tourists flock to the Tumen", "Crowds grew. " + aside) == [
        "tumen-bridge"
    ]
    both = "China, Russia and North Korea: tourists flock to the Tumen"
    assert slugs_of(matcher, both, "Crowds grew. " + aside) == ["tumen-bridge"]
    # A theme without ``others`` is not affected.
    plain = Matcher.from_watchlists([load_watchlist(write(MINIMAL, "plain.toml"))])
    assert slugs_of(plain, "Chinese tourists flock to the Tumen", "Crowds grew. " + aside) == [
        "tumen-bridge"
    ]


def test_others_are_read_like_require(write: Write) -> None:
    path = write(WITH_OTHERS.replace('others = ["others"]', 'others = ["otters"]'))
    with pytest.raises(WatchlistError) as caught:
        load_watchlist(path)
    [problem] = caught.value.problems
    assert problem.field == "themes[0].others[0]"
    assert 'unknown group "otters"' in problem.message
    inline = load_watchlist(write(WITH_OTHERS.replace('["others"]', '[["Japan", "Tokyo"]]')))
    [group] = inline.themes[0].others
    assert (group.name, group.title) == ("tumen-bridge.others[0]", "Japan")


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Japan approves record budget for air defence",
            "The cabinet approved funds for interceptors and drones. "
            "Officials pointed to North Korea and its ties with Russia.",
        ),
        (
            "한국 국방예산 증액…정찰위성 확대",
            "정부가 국방예산을 늘렸다. 국방부는 북·러 밀착을 고려했다고 설명했다.",
        ),
        (
            "США проводят учения ПВО в Японии",
            "Учения продлятся неделю. В Пентагоне упомянули связи КНДР и России.",
        ),
    ],
)
def test_the_default_watchlist_leaves_other_countries_stories_alone(
    nkru: Matcher, title: str, summary: str
) -> None:
    assert slugs_of(nkru, title, summary) == []


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        (
            "Japan says Russia gave North Korea air defence systems",
            "Tokyo cited satellite imagery.",
            "military-tech",
        ),
        (
            "Seoul: North Korean troops moved to the front",
            "Intelligence officials said more soldiers arrived. They fight for Russia in Kursk.",
            "troops",
        ),
    ],
)
def test_other_countries_reporting_on_the_two_still_alert(
    nkru: Matcher, title: str, summary: str, expected: str
) -> None:
    assert expected in slugs_of(nkru, title, summary)


def test_a_round_up_files_a_theme_only_when_its_title_names_the_countries(write: Write) -> None:
    text = WITH_OTHERS.replace(
        "[[themes]]",
        '[groups.round-ups]\ntitle = "Round-ups"\nterms = ["key events", "сводк"]\n\n[[themes]]',
    ).replace('others = ["others"]', 'others = ["others"]\nroundups = ["round-ups"]')
    matcher = Matcher.from_watchlists([load_watchlist(write(text))])
    summary = "Russia and North Korea opened the Tumen road bridge, among much else."
    assert slugs_of(matcher, "The war's key events", summary) == []
    assert slugs_of(matcher, "Сводка за неделю", summary) == []
    assert slugs_of(matcher, "Key events: Russia and North Korea open a bridge", summary) == [
        "tumen-bridge"
    ]
    assert slugs_of(matcher, "The war this week", summary) == ["tumen-bridge"]  # no round-up


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Ukraine war live: Zelensky in Kyiv; shelling in Kharkiv",
            "Air raid alerts sounded overnight. Russia says North Korean soldiers hold Kursk.",
        ),
        ("Сводка за сутки: бои под Курском", "Военные КНДР, по данным Киева, остаются в регионе."),
        ("우크라이나 전쟁 주요 일지", "러시아는 쿠르스크 전선에 북한군이 투입됐다고 밝혔다."),
    ],
)
def test_the_default_watchlist_leaves_war_round_ups_alone(
    nkru: Matcher, title: str, summary: str
) -> None:
    assert slugs_of(nkru, title, summary) == []


def test_a_round_up_that_names_both_countries_still_alerts(nkru: Matcher) -> None:
    title = "Key events: North Korean troops fight for Russia in Kursk"
    assert "troops" in slugs_of(nkru, title, "Seoul's spy agency gave new figures.")


def test_title_marks_are_not_in_the_main_automaton(write: Write) -> None:
    # Other countries' names occur in most news: as hits of the main automaton each would
    # cost every article a little; they are looked for only in a matched article's title.
    matcher = Matcher.from_watchlists([load_watchlist(write(WITH_OTHERS))])
    assert not [key for key in matcher.keys if "china" in key or "중국" in key]
    assert matcher.compiled.marks is not None
    assert {slot.text for slot in matcher.compiled.marks.slots} == {
        "china",
        "chinese",
        "китай",
        "중국",
    }


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # Issue 18's seventh pass: the title's theme words are the other actor's (its name is
        # the word before them), so a later sentence that names Russia beside the same words
        # ("Russian tourists came earlier") does not make it a Russia story.
        (
            "Chinese tourists return to North Korea after five years",
            "Tour groups from Jilin crossed the border this week. Russian tourists had been "
            "allowed in a year earlier.",
        ),
        (
            "Китайские туристы вернулись в КНДР",
            "Группы из Цзилиня пересекли границу. Российские туристы приезжали и раньше.",
        ),
        (
            "중국인 관광객 북한 관광 재개",
            "지린성 단체가 국경을 넘었다. 러시아인 관광객은 먼저 허용됐다.",
        ),
    ],
)
def test_the_other_actors_own_words_leave_only_the_first_sentence(
    nkru: Matcher, title: str, summary: str
) -> None:
    assert slugs_of(nkru, title, summary) == []


def test_the_other_actor_named_apart_from_the_theme_words_still_counts_them(nkru: Matcher) -> None:
    # "Chinese" is not the word before "tourists": the theme's words are not China's, and
    # the sentence that names Russia beside them keeps the story (the earlier rule).
    assert slugs_of(
        nkru,
        "Tourists return to North Korea after Chinese border reopens",
        "Tour groups crossed the border this week. Russian tourists fill the resort.",
    ) == ["energy-trade"]
