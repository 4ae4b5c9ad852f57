"""The fast matcher on the default watchlist and on small ones: what matches and why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.watchlist import Matcher, ThemeMatch, explain_text, load_watchlist, load_watchlists
from bot.core.watchlist.normalize import matching_text, normalize, word_spans
from tests.watchlist.conftest import DEFAULT_WATCHLISTS, MINIMAL

Write = Callable[..., Path]


@pytest.fixture(scope="module")
def nkru() -> Matcher:
    return Matcher.from_watchlists(load_watchlists(DEFAULT_WATCHLISTS))


@pytest.fixture
def mini(write: Write) -> Matcher:
    return Matcher.from_watchlists([load_watchlist(write(MINIMAL))])


def slugs(matches: list[ThemeMatch]) -> list[str]:
    return [m.slug for m in matches]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Khasan–Tumangang", "khasan tumangang"),
        ("Kim Jong-un's visit", "kim jong uns visit"),
        ("N. Korea (KCNA): “Bridge”", "n korea kcna bridge"),
        ("N.Korea", "nkorea"),
        ("Ёлка КНДР", "елка кндр"),
        ("북·러 정상회담", "북 러 정상회담"),
        ("ＫＮＤＲ ﬁle", "kndr file"),  # NFKC: full-width letters, ligatures
        ("soft\u00adhyphen", "softhyphen"),
        ("a  —  b", "a b"),
        ("북한 노동자 수천 명…유엔 결의", "북한 노동자 수천 명 유엔 결의"),  # an ellipsis between
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text).strip() == expected


def test_matching_text_keeps_title_and_summary_apart() -> None:
    text, split = matching_text("Title, here", "The summary.")
    assert text == " title here \x1f the summary "
    assert text[split:].startswith("the summary")


def test_word_spans_map_back_to_the_original() -> None:
    original = "Korea’s «КНДР» N.Korea"
    spans = word_spans(original, normalize(original).strip())
    assert spans is not None
    assert [original[a:b] for a, b in spans] == ["Korea’s", "«КНДР»", "N.Korea"]


def test_tumen_is_not_tyumen(mini: Matcher) -> None:
    assert slugs(mini.match("Tumen road bridge opens", "Russia and North Korea")) == [
        "tumen-bridge"
    ]
    assert mini.match("Tyumen bridge opens", "Russia and North Korea") == []


def test_default_watchlist_never_takes_tyumen_for_tumen(nkru: Matcher) -> None:
    matches = nkru.match("Tyumen", "Tyumen region, Russia, trades with North Korea")
    assert "tumen-bridge" not in slugs(matches)


def test_korean_particles_and_russian_inflections(mini: Matcher) -> None:
    for title, summary in [
        ("북한은 러시아와 두만강 다리 착공", ""),
        ("북한이 러시아에 두만강 다리", ""),
        ("Мост через реку Туманную", "КНДР и Россия"),
        ("Мост через Туманную реку", "Власти КНДР и России"),
    ]:
        assert slugs(mini.match(title, summary)) == ["tumen-bridge"], title


def test_hyphen_and_dash_variants(mini: Matcher) -> None:
    summary = "Russia and the DPRK"
    for title in ("Khasan–Tumangang link", "Khasan-Tumangang link", "Khasan — Tumangang link"):
        [match] = mini.match(title, summary)
        assert match.explanation["hits"][0]["matched"] == "Tumangang"


def test_dotted_abbreviations(nkru: Matcher) -> None:
    for title in ("N.Korea, Russia open Tumen bridge", "N. Korea, Russia open Tumen bridge"):
        [match] = nkru.match(title, "")
        assert match.slug == "tumen-bridge"
        assert match.explanation["context"]["North Korea"] in ("N.Korea", "N. Korea")


def test_fuzzy_typo_in_a_long_name(mini: Matcher, nkru: Matcher) -> None:
    [match] = mini.match("Tumen bridge", "Pyongayng and Moscow agree")
    assert match.explanation["context"] == {"North Korea": "Pyongayng", "Russia": "Moscow"}
    [arms] = nkru.match("Pyongayng ships artillery shells to Russia", "")
    assert arms.slug == "arms-transfers"
    assert arms.explanation["context"]["North Korea"] == "Pyongayng"


def test_fuzzy_hit_is_reported_as_such(mini: Matcher) -> None:
    [match] = mini.match("Tumangnag road bridge", "Russia and North Korea")
    fuzzy = [h for h in match.explanation["hits"] if h["kind"] == "fuzzy"]
    assert fuzzy == [
        {
            "term": "Tumangang",
            "matched": "Tumangnag",
            "field": "title",
            "kind": "fuzzy",
            "similarity": pytest.approx(88.9, abs=0.05),
            "points": pytest.approx(2 * 0.889, abs=0.001),
            "place": "title",
            "about": pytest.approx(2 * 0.889, abs=0.001),
            "mention": "",
        }
    ]


def test_short_words_are_never_fuzzy(mini: Matcher) -> None:
    assert mini.match("Tumon bridge", "Russia and North Korea") == []  # "Tumen", one typo


def test_two_typos_are_too_many(mini: Matcher) -> None:
    assert mini.match("Tumnagnag", "Russia and North Korea") == []


def test_exclusion_vetoes_the_theme(mini: Matcher) -> None:
    assert mini.match("Tumen road bridge", "Russia, North Korea and the Yalu") == []


def test_context_groups_are_all_required(mini: Matcher) -> None:
    assert mini.match("Tumen road bridge", "North Korea") == []
    assert mini.match("Tumen road bridge", "Russia") == []
    assert slugs(mini.match("Tumen road bridge", "Russia, North Korea")) == ["tumen-bridge"]


def test_title_counts_double(mini: Matcher) -> None:
    [in_title] = mini.match("Tumen", "Russia and North Korea")
    [in_summary] = mini.match("News", "Tumen: Russia and North Korea")
    assert (in_title.score, in_summary.score) == (3.0, 1.5)
    assert in_title.explanation["hits"][0]["field"] == "title"


def test_each_term_counts_once_in_its_best_field(mini: Matcher) -> None:
    [match] = mini.match("Tumen", "Tumen, Tumen and Tumen: Russia and North Korea")
    assert match.score == 3.0


def test_overlapping_terms_count_once(nkru: Matcher) -> None:
    [match] = nkru.match("Tumen road bridge", "Russia and North Korea")
    terms = [h["term"] for h in match.explanation["hits"]]
    assert terms == ["road bridge", "Tumen"]  # "bridge" overlaps "road bridge": not counted


def test_one_summary_term_reaches_the_default_min_score(mini: Matcher) -> None:
    assert mini.match("News", "road bridge, Russia and North Korea")[0].score == 1.0


def test_higher_min_score_needs_more(write: Write) -> None:
    strict = Matcher.from_watchlists(
        [load_watchlist(write(MINIMAL.replace('exclude = ["Yalu"]', "min_score = 2.5")))]
    )
    assert strict.match("News", "road bridge, Russia and North Korea") == []
    assert slugs(strict.match("Road bridge", "Tumen, Russia and North Korea")) == ["tumen-bridge"]


def test_explanation_contents_and_text(nkru: Matcher) -> None:
    [match] = nkru.match(
        "Russia and North Korea open Tumen road bridge",
        "The crossing links Khasan with Tumangang, officials in Moscow said.",
    )
    why = match.explanation
    assert why["score"] == match.score == 6.8
    assert why["min_score"] == 1.3
    assert [(h["term"], h["field"], h["points"]) for h in why["hits"]] == [
        ("road bridge", "title", 3.0),
        ("Tumen", "title", 2.4),
        ("Tumangang", "summary", 1.0),
        ("Khasan", "summary", 0.4),
    ]
    assert why["context"] == {"North Korea": "North Korea", "Russia": "Russia"}
    assert explain_text(match) == (
        "road bridge (title), Tumen (title), Tumangang (summary), Khasan (summary); "
        "North Korea: North Korea; Russia: Russia; score 6.8; main subject"
    )


def test_explain_text_shows_inflections(nkru: Matcher) -> None:
    [match] = nkru.match("Мост через реку Туманную", "КНДР и Россия")
    assert explain_text(match).startswith("Туманн→Туманную (title)")


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Kim and Putin sign treaty", "", "summits"),
        ("Lavrov meets Choe Son Hui in Moscow", "", "summits"),
        ("North Korean troops fight in Kursk", "", "troops"),
        ("Russia vetoes renewal of UN panel monitoring North Korea sanctions", "", "un-veto"),
        ("Russia ships refined petroleum to North Korea above UN cap", "", "sanctions-evasion"),
        ("Russian tourists return to Wonsan-Kalma", "North Korea resort", "energy-trade"),
        ("Russia helps North Korea with spy satellite", "", "military-tech"),
        ("КНДР поставила России снаряды", "", "arms-transfers"),
        ("북한군 러시아 파병", "", "troops"),
    ],
)
def test_default_watchlist_themes(nkru: Matcher, title: str, summary: str, expected: str) -> None:
    assert expected in slugs(nkru.match(title, summary))


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("US vetoes Security Council draft on Gaza ceasefire", "The resolution was blocked."),
        ("Iran ships Shahed drones to Russia", "Moscow uses them against Kyiv."),
        ("China and North Korea to open new Yalu River bridge", "Dandong to Sinuiju."),
        ("Tyumen region ships grain by rail", "Siberian farmers had a record year."),
        ("Tumen city expands trade zone", "The Chinese border city near North Korea."),
        ("Weather: snow in Moscow", "Cold week ahead."),
    ],
)
def test_default_watchlist_precision(nkru: Matcher, title: str, summary: str) -> None:
    assert nkru.match(title, summary) == []


def test_empty_inputs(nkru: Matcher) -> None:
    assert nkru.match("", "") == []
    assert Matcher.from_watchlists([]).match("Tumen", "Russia North Korea") == []


# ------------------------------------------------------------------ known quality bugs, fixed

FUZZY_SATELLITE = """\
[watchlist]
name = "sat"
title = "Sat"

[groups.ctx]
terms = ["ctx"]

[[themes]]
slug = "sat"
title = "Sat"
colour = "#000000"
require = ["ctx"]
terms = [{ text = "satellite", fuzzy = true }, { text = "Satellite launch", fuzzy = true }]
"""


def fuzzy_hits(matcher: Matcher, title: str, summary: str = "") -> dict[str, str]:
    """Fuzzy hits found in an article: normalised term -> normalised window."""
    text, split = matching_text(title, summary)
    out = {}
    for key, (similarity, start, end) in matcher.find(text, split).items():
        if similarity < 100:
            field = text[1 : split - 3] if key & 1 == 0 else text[split:-1]
            out[matcher.compiled.slots[key >> 1].text] = field[start:end]
    return out


def test_fuzzy_windows_are_never_shorter_or_longer_than_one_typo(write: Write) -> None:
    matcher = Matcher.from_watchlists([load_watchlist(write(FUZZY_SATELLITE))])
    for title in ("analysts say", "sat say lite", "sate", "satellites say", "the satellite-say"):
        assert fuzzy_hits(matcher, f"ctx {title}") == {}, title
    assert fuzzy_hits(matcher, "ctx satelite images") == {"satellite": "satelite"}
    assert fuzzy_hits(matcher, "ctx satelite launch")["satellite launch"] == "satelite launch"
    assert fuzzy_hits(matcher, "ctx satellite lanuch") == {}  # a typo in a short word


def test_typos_only_in_long_words_without_digits(nkru: Matcher) -> None:
    summary = "Russia and North Korea"
    assert "un sanctions" not in fuzzy_hits(nkru, "US sanctions hit shipping", summary)
    assert "un sanctions" not in fuzzy_hits(nkru, "UK sanctions hit shipping", summary)
    assert "hwasong 11" not in fuzzy_hits(nkru, "Hwasong-19 test", summary)
    assert fuzzy_hits(nkru, "Pyongayng", "")["pyongyang"] == "pyongayng"


def test_a_passing_mention_of_the_tumen_is_not_a_bridge_story(nkru: Matcher) -> None:
    # The demo's MSMT story: the river was named once, in the summary, as a route.
    title = "North Korea shipped millions more artillery shells to Russia, monitoring team reports"
    summary = (
        "The 11-nation Multilateral Sanctions Monitoring Team found that North Korean artillery "
        "shells, rocket ammunition and missiles kept reaching Russian forces fighting in "
        "Ukraine this year. Most of the cargo left from Rajin by sea or crossed the Tumen by rail."
    )
    # (The monitoring team is the report's source, not its subject: a passing mention.)
    assert slugs(nkru.match(title, summary)) == ["arms-transfers"]
    # The river in a title, with a bridge word, or both ends of the crossing do count.
    for title, summary in [
        ("Trucks wait at the Tumen", "Russia and North Korea"),
        ("Trade news", "Russia and North Korea: a new bridge over the Tumen"),
        ("Trains resume", "Trains between Russia and North Korea cross at Khasan and Tumangang"),
        ("열차 운행 재개", "러시아와 북한을 잇는 열차가 두만강 철교를 건넜다"),
    ]:
        assert "tumen-bridge" in slugs(nkru.match(title, summary)), title


def test_russian_names_tolerate_a_variant_spelling(nkru: Matcher) -> None:
    # "Пхенян" (no soft sign) is a common spelling; the title is the only North Korea marker.
    summary = "Министр обороны России провел переговоры с северным соседом."
    [match] = nkru.match("Белоусов прибыл в Пхенян", summary)
    assert match.slug == "summits"
    assert match.explanation["context"]["North Korea"] == "Пхенян"
    for word in ("Пхеняне", "Пхеньянe", "Пхенянского"):  # the second: a Latin "e" at the end
        assert slugs(nkru.match(f"Визит Белоусова в {word}", summary)) == ["summits"], word
    # Stems stay exact unless marked: Тюмень is not Туманган, Курган not Курск.
    assert nkru.match("Мост в Тюмени", "Россия и КНДР") == []


def test_bukhansan_is_not_north_korea(nkru: Matcher) -> None:
    for title in (
        "러시아 관광객, 북한산 국립공원 등반",
        "러시아 관광객들 북한산에서 단풍 구경",
        "북한강 자전거길에 러시아 관광객",
    ):
        assert nkru.match(title, "") == [], title
    assert slugs(nkru.match("북한, 러시아에 포탄 공급", "")) == ["arms-transfers"]


def test_satellite_imagery_is_how_stories_are_sourced(nkru: Matcher) -> None:
    title = "Tankers go dark off Vostochny before North Korea runs"
    summary = (
        "Tankers switched off transponders after loading fuel at Russia's Vostochny port, "
        "satellite images show."
    )
    assert "military-tech" not in slugs(nkru.match(title, summary))
    # As the subject, satellites still count.
    [spy] = nkru.match("Russian help for North Korea's satellites", "")
    assert explain_text(spy).startswith("Russian help (title), satellite→satellites (title)")


def test_exceptions_are_read_like_the_term(write: Write) -> None:
    text = MINIMAL.replace(
        '"Туманн", "두만강"]', '"Туманн", "두만강", { text = "Khasan", except = ["Khasan Lake"] }]'
    ).replace('"북한"]', '{ text = "북한", except = ["북한산"] }]')
    matcher = Matcher.from_watchlists([load_watchlist(write(text))])
    assert matcher.match("Khasan Lake", "Russia and North Korea") == []
    assert slugs(matcher.match("Khasan", "Russia and North Korea")) == ["tumen-bridge"]
    assert matcher.match("두만강", "북한산에서 러시아") == []  # prefix: 북한산에서 too
    assert slugs(matcher.match("두만강", "북한과 러시아")) == ["tumen-bridge"]
