"""The search terms (bot.core.search_terms.terms) and the Snowball stemmers behind them, checked
against PostgreSQL's own Snowball dictionaries where a server is configured."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from bot.core.search_terms import english, russian
from bot.core.search_terms.terms import Phrase, index_text, parse_query, terms
from storage.engine import Store
from storage.fulltext.search import postgresql_query, sqlite_match
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (["bridge", "bridges", "bridged", "bridging"], "bridg"),
        (["sanction", "sanctions", "sanctioned", "sanctioning"], "sanction"),
        (["generous", "generously"], "generous"),  # R1 after "gener"
        (["cries", "cried"], "cri"),
        (["ties"], "tie"),
        (["news"], "news"),  # invariant
        (["kim's"], "kim"),
    ],
)
def test_english_stems(words: list[str], stem: str) -> None:
    assert {english.stem(word) for word in words} == {stem}


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (["мост", "моста", "мосту", "мостом", "мосты", "мостов"], "мост"),
        (["санкции", "санкций", "санкциями"], "санкц"),
        (["уязвимости", "уязвимость"], "уязвим"),  # derivational -ость in R2
        (["красивейший"], "красив"),  # superlative
        (["длинный", "длинная"], "длин"),  # adjective, then нн → н
        (["прочитавшись"], "прочита"),  # perfective gerund after а
    ],
)
def test_russian_stems(words: list[str], stem: str) -> None:
    assert {russian.stem(word) for word in words} == {stem}


def test_terms_of_each_script() -> None:
    assert index_text("Kim’s Pyŏngyang BRIDGES", "KN-23, 100%") == "kim pyongyang bridg kn 23 100"
    assert list(terms("Ёлки по мосту")) == ["елк", "по", "мост"]
    assert list(terms("북한은 K팝을")) == ["북한", "한은", "k", "팝을"]
    assert list(terms("북 및 남")) == ["북", "및", "남"]
    assert list(terms("x" * 61 + " ok")) == ["ok"]  # no index term for a 61-letter run


def test_a_query_is_words_and_quoted_phrases() -> None:
    assert parse_query('bridges "Kim Jong Un" «по мосту» KN-23 bridge') == [
        Phrase(("bridg",)),
        Phrase(("kim", "jong", "un")),
        Phrase(("по", "мост")),
        Phrase(("kn", "23")),
    ]
    assert parse_query("북한의 북") == [Phrase(("북한", "한의")), Phrase(("북",), prefix=True)]
    assert parse_query('"" -- …') == []


def test_each_database_gets_the_phrases_in_its_syntax() -> None:
    phrases = [Phrase(("kim", "jong")), Phrase(("북",), prefix=True)]
    assert sqlite_match(phrases) == '"kim jong" AND "북"*'
    assert postgresql_query(phrases) == "('kim' <-> 'jong') & ('북':*)"


async def test_the_stemmers_agree_with_postgresqls_snowball(store: Store) -> None:
    """Every word of the labelled articles, and each with other endings put on it, stems as
    PostgreSQL's english_stem and russian_stem dictionaries stem it."""
    if store.dialect != "postgresql":
        pytest.skip("compares with PostgreSQL's Snowball dictionaries")
    texts = [
        f"{item['title']} {item['summary']}".casefold().replace("ё", "е")
        for path in sorted((REPO_ROOT / "tests" / "data").glob("*.jsonl"))
        for item in map(json.loads, path.read_text().splitlines())
    ]
    words = {word for text_ in texts for word in re.findall(r"[a-z]+|[а-я]+", text_)}
    languages = [
        ("english", "a-z", english.stem, ["s", "ed", "ing", "ly", "ness", "ation", "ement"]),
        ("russian", "а-я", russian.stem, ["а", "ами", "ость", "ейший", "нная", "вшись", "ует"]),
    ]
    lexize = "SELECT w, ts_lexize(CAST(:dictionary AS regdictionary), w) FROM unnest(:words) AS w"
    checked = 0
    async with store.transaction() as tx:
        for language, letters, stem, endings in languages:
            base = sorted(w for w in words if re.fullmatch(f"[{letters}]+", w))
            every = base + [w + ending for w in base for ending in endings]
            rows = await tx.connection.execute(
                text(lexize).bindparams(bindparam("words", type_=ARRAY(Text))),
                {"dictionary": f"{language}_stem", "words": every},
            )
            expected = {w: lexemes[0] for w, lexemes in rows if lexemes}  # stop words: none
            assert {w: (s, stem(w)) for w, s in expected.items() if stem(w) != s} == {}
            checked += len(expected)
    assert checked > 20_000
