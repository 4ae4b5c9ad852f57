"""Text to search terms: the one analysis behind both databases' full-text indexes.

An article's title and summary are indexed, and a query is matched, as the same terms: words
(letters and digits of any script), case-folded; English words stemmed by Snowball English
("bridges" → "bridg") with accents dropped ("Pyŏngyang" → "pyongyang"); Russian words stemmed
by Snowball Russian ("мосту" → "мост", ё read as е); Korean (and Chinese and Japanese) written
without spaces between the parts a reader types, so a run of them is indexed as its overlapping
pairs of characters ("북한은" → "북한 한은"): a query word matches where its pairs stand in a row.
Other words are kept as written. SQLite's FTS5 and PostgreSQL's tsvector then only split on
spaces, so both backends match, phrase for phrase, the same way.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from itertools import chain

from bot.core.search_terms import english, russian

# Letters and digits of any script; an apostrophe inside an English word ("Kim's") and
# combining accents (case-folding "İ" leaves one) stay in it until the word is stemmed.
_WORD = re.compile(r"[^\W_](?:[^\W_]+|[\u0300-\u036f]+|['’](?=[^\W_]))*")
_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SCRIPT_RUN = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CYRILLIC = re.compile(r"[а-яё]+")
_ENGLISH = re.compile(r"[a-z']+")
_MAX_TERM = 60  # longer "words" (identifiers, base64) are not worth indexing
# Quotation marks that open or close a phrase in a query; ' and ’ are apostrophes in words.
_QUOTES = re.compile('["“”„«»]')


@dataclass(frozen=True, slots=True)
class Phrase:
    """Terms that must stand in a row, in this order; `prefix`: the one term may also start a
    longer one (a single Korean syllable, which no indexed pair equals)."""

    terms: tuple[str, ...]
    prefix: bool = False


def index_text(title: str, summary: str) -> str:
    """The terms of an article, in order, separated by spaces (what the indexes are built on)."""
    return " ".join(terms(f"{title}\n{summary}"))


def terms(text: str) -> list[str]:
    """The search terms of a text, in order."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return list(chain.from_iterable(map(_word_terms, words)))


def parse_query(query: str) -> list[Phrase]:
    """What a query asks for: each word outside quotation marks and each "quoted phrase" is a
    Phrase that every match must contain (a word such as "KN-23" or "북한의" may be several
    terms in a row). Words with no letter or digit ask for nothing."""
    phrases: list[Phrase] = []
    for index, part in enumerate(_QUOTES.split(query)):
        quoted = index % 2 == 1  # an unclosed quotation mark quotes to the end
        for words in [part] if quoted else part.split():
            found = tuple(terms(words))
            if found and (phrase := _phrase(found)) not in phrases:
                phrases.append(phrase)
    return phrases


def _phrase(found: tuple[str, ...]) -> Phrase:
    lone_syllable = len(found) == 1 and len(found[0]) == 1 and _CJK_RUN.fullmatch(found[0])
    return Phrase(found, prefix=bool(lone_syllable))


@functools.lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """One word's terms (cached: news repeats its vocabulary, and stemming is most of the
    work)."""
    found: list[str] = []
    for run in _SCRIPT_RUN.findall(word):
        if not _CJK_RUN.fullmatch(run):
            if len(run) <= _MAX_TERM:
                found.append(_word_term(run))
        elif len(run) == 1:
            found.append(run)
        else:
            found.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tuple(found)


def _word_term(word: str) -> str:
    """The term of a word in one script other than Korean, Chinese or Japanese."""
    if _CYRILLIC.fullmatch(word):
        return russian.stem(word.replace("ё", "е"))
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    plain = plain.replace("’", "'")
    if _ENGLISH.fullmatch(plain):
        plain = english.stem(plain)
    return plain.replace("'", "") or word
